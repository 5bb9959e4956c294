"""The small interfaces between the core and the outside world.

Connectors (IMAP, Slack, local folders, console) implement these; the core
only ever sees these types. Tests of the core use in-memory fakes here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable, Protocol


@dataclass(frozen=True)
class Incoming:
    """A message as a source delivers it, before anything is parsed.

    ``raw`` is the RFC 5322 bytes of an email, or the UTF-8 text of a chat
    message (``kind == "chat"``). ``mailbox``/``uidvalidity``/``uid`` identify an
    IMAP message; ``external_id`` identifies anything else (a Slack ts, a file name).
    """

    source: str
    kind: str  # "email" or "chat"
    raw: bytes
    received_at: datetime
    mailbox: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    external_id: str | None = None
    sender: str | None = None
    channel: str | None = None
    thread_ref: str | None = None


#: Called by a source for every new message; returns once the message is durably stored.
StoreCallback = Callable[[Incoming], Awaitable[None]]


class Source(Protocol):
    """Something that delivers incoming messages (a mailbox folder, a chat channel, a directory)."""

    name: str

    async def run(self, deliver: StoreCallback) -> None:
        """Deliver messages until cancelled; each is acknowledged to its origin only after ``deliver`` returns."""


@dataclass(frozen=True)
class Decision:
    """An officer's verdict on a suggestion."""

    message_id: int
    officer: str
    action: str  # "confirm", "change" or "dismiss" (not feedback)
    type: str | None = None
    category: str | None = None
    service_area: str | None = None
    note: str | None = None
    decided_at: datetime | None = None
    idempotency_key: str | None = None


@dataclass
class ReviewItem:
    """What a reviewer shows an officer: the suggestion and a redacted view of the message."""

    message_id: int
    subject: str
    excerpt: str
    source: str
    received_at: datetime
    type: str
    type_confidence: float
    category: str | None
    category_confidence: float | None
    service_area: str | None
    service_area_confidence: float | None
    needs_review: bool
    reason: str
    acknowledgement_due: datetime | None = None
    case_reference: str | None = None
    extra: dict = field(default_factory=dict)


class Reviewer(Protocol):
    """Shows suggestions to officers (Slack card, console) and reports their decisions."""

    async def show(self, item: ReviewItem) -> str | None:
        """Show one suggestion; return an external reference (e.g. a Slack message ts) if any."""
