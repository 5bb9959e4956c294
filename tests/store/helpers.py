"""Small builders for store and IMAP tests."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

from triage.ports import Incoming

COMPLAINT = ("The carer did not turn up on three days last week and nobody phoned my mother. "
             "I want this put right and an explanation of why the agency keeps missing calls.")
COMPLIMENT = "I want to thank the reablement team who helped my father after his fall. They were wonderful."


def email_bytes(message_id: str | None = "<m1@example.org>", subject: str = "Missed home care visits",
                body: str = COMPLAINT, sender: str = "Ann Smith <ann.smith@example.org>", extra: str = "") -> bytes:
    headers = [f"From: {sender}", "To: feedback@council.example.gov.uk", f"Subject: {subject}",
               f"Date: {format_datetime(datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc))}"]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    if extra:
        headers.extend(extra.strip().splitlines())
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def incoming(raw: bytes, source: str = "test", mailbox: str | None = None, uidvalidity: int | None = None,
             uid: int | None = None, external_id: str | None = None, kind: str = "email",
             received_at: datetime | None = None) -> Incoming:
    return Incoming(source=source, kind=kind, raw=raw,
                    received_at=received_at or datetime(2026, 3, 2, 10, 5, tzinfo=timezone.utc),
                    mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, external_id=external_id)
