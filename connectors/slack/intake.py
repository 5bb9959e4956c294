"""Chat intake: Slack messages taken in as incoming messages, answered in their thread."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime, timezone

from slack_sdk.errors import SlackApiError, SlackClientError

from triage.ports import Incoming

from connectors.slack.cards import intake_reply

log = logging.getLogger("connectors.slack.intake")

#: Recently answered messages, so a re-delivered event is not answered twice.
_REMEMBERED = 5000


def slack_time(ts: str) -> datetime:
    """A Slack ``ts`` ("1712345678.000100": the posting time to the microsecond) as an aware datetime, exactly."""
    try:
        seconds, _, micros = str(ts).partition(".")
        return datetime.fromtimestamp(int(seconds), tz=timezone.utc).replace(microsecond=int(micros[:6].ljust(6, "0")))
    except (TypeError, ValueError, OverflowError):
        return datetime.now(timezone.utc)


def slack_ts(moment: datetime) -> str:
    """The inverse of :func:`slack_time`: the ``ts`` of a Slack message from the time it was stored with."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    whole = moment.replace(microsecond=0)
    return f"{int(whole.timestamp())}.{moment.microsecond:06d}"


class Intake:
    """Stores chat messages through the service and answers in the message's thread."""

    def __init__(self, deps) -> None:
        self.deps = deps
        self._answered: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def incoming(self, channel: str, ts: str, user: str | None, text: str, thread_ts: str | None) -> Incoming:
        return Incoming(
            source=f"slack:{channel}", kind="chat", raw=text.encode("utf-8"), received_at=slack_time(ts),
            external_id=ts, sender=self.deps.display_name(user), channel=channel,
            thread_ref=thread_ts if thread_ts and thread_ts != ts else None)

    def take_in(self, channel: str, ts: str, user: str | None, text: str, thread_ts: str | None = None,
                answer: bool = True) -> tuple[int, bool]:
        """Store the message (a re-delivery gets the same id); returns (message id, already answered)."""
        message_id = self.deps.service.ingest_now(self.incoming(channel, ts, user, text, thread_ts))
        with self._lock:
            seen = (channel, ts) in self._answered
            self._answered[(channel, ts)] = message_id
            while len(self._answered) > _REMEMBERED:
                self._answered.popitem(last=False)
        log.info("chat_taken_in message=%s channel=%s repeat=%s", message_id, channel, seen)
        if answer and not seen:
            self.answer(channel, thread_ts or ts, intake_reply(message_id))
        return message_id, seen

    def answer(self, channel: str, thread_ts: str, text: str) -> bool:
        """Reply in a thread; False when the bot cannot post there."""
        try:
            self.deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
            return True
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("intake_answer_failed channel=%s error=%s", channel, type(exc).__name__)
            return False
