"""Posting to Slack from the outbox: review cards, routed cases, follow-ups in the card's thread, alerts.

:class:`SlackReviewer` implements :class:`triage.ports.Reviewer`.
:class:`OutboxDispatcher` drains the service's outbox: each item is posted
once and marked sent with its ``channel:ts``. While Slack is down items stay
in the outbox; before posting a card again after a failed or interrupted
attempt, the channel is searched for a card already carrying that message's
metadata, so a card whose post succeeded but whose answer was lost is never
posted twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from triage.ports import ReviewItem
from triage.service import OutboxItem, ServiceError, TriageService

from connectors.slack.cards import (CARD_EVENT, Payload, alert_message, case_reply, follow_up_message,
                                    review_card, route_message)
from connectors.slack.intake import slack_ts
from connectors.slack.settings import SlackSettings

log = logging.getLogger("connectors.slack.outbox")

#: Kinds in the order a pass handles them (a card goes out before follow-ups on it).
KINDS = ("review", "thread", "route", "alert")
#: Errors that mean Slack (or the way to it) is unavailable: stop the pass and try again later.
UNAVAILABLE = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
MAX_ITEM_BACKOFF = 300.0


def split_ref(ref: str | None) -> tuple[str, str] | None:
    """``"C123:1712345678.000100"`` -> ``("C123", "1712345678.000100")``."""
    if not ref or ":" not in ref:
        return None
    channel, ts = ref.rsplit(":", 1)
    return channel, ts


class SlackUnavailable(Exception):
    """Slack did not answer, or answered with a server error or rate limit after the retries."""


def _failure(exc: Exception) -> tuple[bool, str]:
    """(Slack unavailable?, short error) for a failed Web API call."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = str((exc.response.data or {}).get("error") if isinstance(exc.response.data, dict) else "") or "error"
        return status >= 500 or status == 429 or error in UNAVAILABLE, f"{status} {error}"
    return True, type(exc).__name__


class SlackReviewer:
    """Shows suggestions as review cards in the triage channel."""

    def __init__(self, client: WebClient, settings: SlackSettings) -> None:
        self.client = client
        self.settings = settings

    def post(self, channel: str, payload: Payload, thread_ts: str | None = None) -> str:
        """Post a message; returns its ``channel:ts``."""
        kwargs = payload.kwargs()
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        response = self.client.chat_postMessage(channel=channel, **kwargs)
        return f"{response['channel']}:{response['ts']}"

    def post_card(self, item: ReviewItem) -> str:
        """Post the review card for ``item``; returns its ``channel:ts``."""
        return self.post(self.settings.review_channel, review_card(item, self.settings.redaction))

    def find_card(self, message_id: int, since_epoch: float) -> str | None:
        """The ``channel:ts`` of a review card already posted for ``message_id`` since ``since_epoch``."""
        channel = self.settings.review_channel
        cursor = None
        for _ in range(10):
            response = self.client.conversations_history(channel=channel, oldest=f"{since_epoch:.6f}",
                                                         include_all_metadata=True, limit=200, cursor=cursor)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == CARD_EVENT and \
                        (metadata.get("event_payload") or {}).get("message_id") == message_id:
                    return f"{response.get('channel') or channel}:{message['ts']}"
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
            if not response.get("has_more") or not cursor:
                return None
        return None

    async def show(self, item: ReviewItem) -> str | None:
        """:class:`triage.ports.Reviewer`: post the card from a worker thread; returns ``channel:ts``."""
        return await asyncio.to_thread(self.post_card, item)


class OutboxDispatcher:
    """Sends the service's outbox to Slack, each item once."""

    def __init__(self, service: TriageService, reviewer: SlackReviewer,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.reviewer = reviewer
        self.settings = reviewer.settings
        self._clock = clock
        self._not_before: dict[int, float] = {}
        #: Items pending when this process started may have been posted just before a crash: check first.
        self._check_first: set[int] | None = None

    def dispatch_once(self) -> int:
        """One pass over the outbox; returns how many items were sent. Stops early while Slack is down."""
        if self._check_first is None:
            self._check_first = {item.id for item in self.service.outbox_pending(None, limit=1000)}
        sent = 0
        for kind in KINDS:
            for item in self.service.outbox_pending(kind):
                if self._not_before.get(item.id, 0.0) > self._clock():
                    continue
                try:
                    ref = self._send(item)
                except SlackUnavailable:
                    return sent
                except ServiceError as exc:
                    log.warning("outbox_item_invalid id=%s kind=%s error=%s", item.id, kind, exc)
                    self._fail(item, f"service: {exc}")
                    continue
                if ref is _WAIT:
                    continue
                self.service.mark_outbox_sent(item.id, ref)
                self._not_before.pop(item.id, None)
                self._check_first.discard(item.id)
                sent += 1
        return sent

    def _fail(self, item: OutboxItem, error: str) -> None:
        self.service.mark_outbox_failed(item.id, error)
        self._not_before[item.id] = self._clock() + min(MAX_ITEM_BACKOFF, 2.0 ** min(item.attempts + 1, 10))

    def _call(self, item: OutboxItem, action: Callable[[], str | None]) -> str | None:
        try:
            return action()
        except (SlackApiError, SlackClientError, OSError) as exc:
            unavailable, error = _failure(exc)
            log.warning("outbox_send_failed id=%s kind=%s error=%s", item.id, item.kind, error)
            self.service.mark_outbox_failed(item.id, error)
            if unavailable:
                raise SlackUnavailable(error) from None
            self._not_before[item.id] = self._clock() + min(MAX_ITEM_BACKOFF, 2.0 ** min(item.attempts + 1, 10))
            raise _Skip() from None

    def _send(self, item: OutboxItem) -> str | None | object:
        try:
            if item.kind == "review":
                return self._send_review(item)
            if item.kind == "thread":
                return self._send_thread(item)
            if item.kind == "route":
                return self._send_route(item)
            if item.kind == "alert":
                payload = alert_message(str(item.payload.get("source", "")), str(item.payload.get("text", "")))
                return self._call(item, lambda: self.reviewer.post(self.settings.review_channel, payload))
        except _Skip:
            return _WAIT
        log.warning("outbox_kind_unknown id=%s kind=%s", item.id, item.kind)
        return _WAIT

    def _send_review(self, item: OutboxItem) -> str | None:
        if item.message_id is None:
            return None
        review = self.service.review_item(item.message_id)
        if item.attempts > 0 or item.id in (self._check_first or ()):
            since = (item.created_at - timedelta(minutes=5)).timestamp()
            found = self._call(item, lambda: self.reviewer.find_card(item.message_id, since))
            if found:
                log.info("outbox_card_found id=%s message=%s", item.id, item.message_id)
                return found
        ref = self._call(item, lambda: self.reviewer.post_card(review))
        log.info("card_posted message=%s ref=%s", item.message_id, ref)
        return ref

    def _send_thread(self, item: OutboxItem) -> str | None:
        if item.message_id is None:
            return None
        review = self.service.review_item(item.message_id)
        payload = follow_up_message(review, item.payload.get("case_reference"), self.settings.redaction)
        parent = split_ref(item.payload.get("parent_ref"))
        channel, thread_ts = parent if parent else (self.settings.review_channel, None)
        return self._call(item, lambda: self.reviewer.post(channel, payload, thread_ts))

    def _send_route(self, item: OutboxItem) -> str | None:
        if item.message_id is None:
            return None
        review = self.service.review_item(item.message_id)
        area = item.payload.get("service_area")
        channel = self.settings.channel_for(area)
        card = split_ref(self.service.review_ref(item.message_id))
        if channel is None:
            reason = (f"No channel is set for service area {area!r}: add it under [slack.routing]."
                      if area else "No service area (an enquiry): pass it to the front door.")
            payload = route_message(review, item.payload, self.settings.redaction)
            payload = Payload(f"{payload.text}. {reason}", payload.blocks)
            target, thread_ts = card if card else (self.settings.review_channel, None)
            ref = self._call(item, lambda: self.reviewer.post(target, payload, thread_ts))
        else:
            payload = route_message(review, item.payload, self.settings.redaction)
            ref = self._call(item, lambda: self.reviewer.post(channel, payload))
        self._answer_intake(review, item)
        log.info("case_routed message=%s case=%s channel=%s", item.message_id, item.payload.get("case_reference"),
                 channel)
        return ref

    def _answer_intake(self, review: ReviewItem, item: OutboxItem) -> None:
        """Tell the Slack thread a chat message came from which case it became (best effort)."""
        extra = review.extra or {}
        channel = extra.get("channel")
        if extra.get("kind") != "chat" or not channel or not str(review.source).startswith("slack:"):
            return
        # the message's ts is its external id; it is also its posting time, kept exactly as received_at
        ts = extra.get("external_id") or slack_ts(review.received_at)
        outcome = _RouteOutcome(item.payload.get("case_reference"), item.payload.get("service_area"))
        try:
            self.reviewer.client.chat_postMessage(channel=channel, thread_ts=ts, text=case_reply(outcome))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("intake_reply_failed message=%s error=%s", item.message_id, _failure(exc)[1])

    def run(self, stop: threading.Event) -> None:
        """Dispatch every ``dispatch_seconds`` until ``stop`` is set (for a worker thread)."""
        while not stop.is_set():
            try:
                self.dispatch_once()
            except Exception:  # the loop must outlive a bad pass; the error is logged without message content
                log.exception("outbox_pass_failed")
            stop.wait(self.settings.dispatch_seconds)

    async def run_async(self, stop: asyncio.Event) -> None:
        """Dispatch every ``dispatch_seconds`` until ``stop`` is set (for an event loop)."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.dispatch_once)
            except Exception:
                log.exception("outbox_pass_failed")
            try:
                await asyncio.wait_for(stop.wait(), self.settings.dispatch_seconds)
            except asyncio.TimeoutError:
                pass


class _Skip(Exception):
    """This item failed for its own reasons; go on with the others."""


class _RouteOutcome:
    def __init__(self, case_reference: str | None, service_area: str | None) -> None:
        self.case_reference = case_reference
        self.service_area = service_area


_WAIT = object()
