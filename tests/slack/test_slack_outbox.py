"""The outbox to Slack: cards wait while Slack is down and go out once each; rate limits; follow-ups; alerts."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from slack_helpers import AREA_CHANNELS, OFFICER, REVIEW, email_bytes

from triage.ports import Decision, Incoming

from connectors.slack.cards import CARD_EVENT


def _store_email(service, **kwargs) -> int:
    raw = email_bytes(**kwargs)
    return service.ingest_now(Incoming(source="imap:feedback/INBOX", kind="email", raw=raw,
                                       received_at=datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc)))


def test_card_waits_while_slack_is_down_and_goes_out_once(service, dispatcher, fake):
    message_id = _store_email(service)
    service.process_pending()
    fake.go_down()
    for _ in range(3):
        assert dispatcher.dispatch_once() == 0
        dispatcher._not_before.clear()  # no need to wait out the back-off in a test
    assert fake.messages(REVIEW) == []
    assert len(fake.calls) >= 3 and all(c.status == 500 for c in fake.calls)
    pending = service.outbox_pending("review")
    assert [p.message_id for p in pending] == [message_id] and pending[0].attempts >= 1
    fake.recover()
    assert dispatcher.dispatch_once() == 1
    assert dispatcher.dispatch_once() == 0
    cards = fake.messages(REVIEW)
    assert len(cards) == 1
    assert cards[0]["metadata"] == {"event_type": CARD_EVENT, "event_payload": {"message_id": message_id}}
    assert service.outbox_pending("review") == []
    assert service.review_ref(message_id) == f"{REVIEW}:{cards[0]['ts']}"
    assert service.review_item(message_id).extra["state"] == "suggested"


def test_lost_answer_after_a_successful_post_does_not_duplicate_the_card(service, dispatcher, fake):
    _store_email(service)
    service.process_pending()
    fake.fail(500, times=1, methods={"chat.postMessage"}, after=True)
    assert dispatcher.dispatch_once() == 0
    assert len(fake.messages(REVIEW)) == 1, "Slack did post it; only the answer was lost"
    dispatcher._not_before.clear()
    assert dispatcher.dispatch_once() == 1
    assert len(fake.messages(REVIEW)) == 1
    assert fake.calls_to("conversations.history"), "the channel was searched before posting again"


def test_restart_checks_for_cards_posted_before_a_crash(service, reviewer, fake):
    from connectors.slack.reviewer import OutboxDispatcher

    message_id = _store_email(service)
    service.process_pending()
    reviewer.post_card(service.review_item(message_id))  # posted, then the process died before recording it
    fresh = OutboxDispatcher(service, reviewer)
    assert fresh.dispatch_once() == 1
    assert len(fake.messages(REVIEW)) == 1


def test_rate_limit_is_retried_after_retry_after(service, dispatcher, fake):
    _store_email(service)
    service.process_pending()
    fake.fail(429, times=1, retry_after=0, methods={"chat.postMessage"})
    assert dispatcher.dispatch_once() == 1
    posts = fake.calls_to("chat.postMessage", ok=None)
    assert [c.status for c in posts] == [429, 200]
    assert len(fake.messages(REVIEW)) == 1


def test_connection_refused_leaves_cards_waiting(service, settings, fake):
    from dataclasses import replace

    from connectors.slack.client import make_web_client
    from connectors.slack.reviewer import OutboxDispatcher, SlackReviewer
    from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

    _store_email(service)
    service.process_pending()
    unreachable = replace(settings, api_url="http://127.0.0.1:9/api/")
    client = make_web_client(unreachable, interval=FixedValueRetryIntervalCalculator(0.01))
    down = OutboxDispatcher(service, SlackReviewer(client, unreachable))
    assert down.dispatch_once() == 0
    pending = service.outbox_pending("review")
    assert len(pending) == 1 and pending[0].attempts == 1


def test_other_messages_are_never_posted(service, dispatcher, fake):
    _store_email(service, subject="Automatic reply: out of office", body="I am away until Monday.",
                 message_id="<ooo@example.org>", Auto_Submitted="auto-replied")
    service.process_pending()
    assert dispatcher.dispatch_once() == 0
    assert fake.messages(REVIEW) == []


def test_reply_email_goes_into_the_cards_thread(service, dispatcher, fake):
    first = _store_email(service)
    service.process_pending()
    dispatcher.dispatch_once()
    card_ts = fake.messages(REVIEW)[0]["ts"]
    _store_email(service, subject="Re: Mum's home care", body="It happened again today. Call 0114 496 0123.",
                 message_id="<c2@example.org>", In_Reply_To="<c1@example.org>")
    service.process_pending()
    assert dispatcher.dispatch_once() == 1
    replies = [m for m in fake.messages(REVIEW) if m.get("thread_ts") == card_ts]
    assert len(replies) == 1
    text = json.dumps(replies[0]["blocks"])
    assert "It happened again today" in text and "0114" not in text and "[PHONE]" in text
    assert len([m for m in fake.messages(REVIEW) if not m.get("thread_ts")]) == 1
    assert first


def test_route_for_an_unmapped_service_area_goes_to_the_cards_thread(service, dispatcher, fake):
    message_id = _store_email(service)
    service.process_pending()
    dispatcher.dispatch_once()
    card_ts = fake.messages(REVIEW)[0]["ts"]
    service.decide(Decision(message_id, f"slack:{OFFICER}", "change", type="complaint", category="Conduct",
                            service_area="Mental Health"))
    assert dispatcher.dispatch_once() == 1
    note = [m for m in fake.messages(REVIEW) if m.get("thread_ts") == card_ts]
    assert len(note) == 1 and "No channel is set for service area 'Mental Health'" in note[0]["text"]
    assert all(fake.messages(ch) == [] for ch in AREA_CHANNELS.values())


def test_alert_goes_to_review_channel_escaped(service, dispatcher, fake):
    service.raise_alert("imap:feedback", "mailbox unreachable for 20 minutes <!channel>")
    assert dispatcher.dispatch_once() == 1
    posted = json.dumps(fake.messages(REVIEW)[0]["blocks"])
    assert "mailbox unreachable" in posted and "<!channel>" not in posted


def test_reviewer_port_show_posts_a_card(service, reviewer, fake):
    import asyncio

    message_id = _store_email(service)
    service.process_pending()
    ref = asyncio.run(reviewer.show(service.review_item(message_id)))
    assert ref == f"{REVIEW}:{fake.messages(REVIEW)[0]['ts']}"


def test_no_message_text_in_logs_even_when_verbose(service, dispatcher, fake, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    _store_email(service, body="I want to complain: the carers were late and the kettle-zebra-9 was broken.")
    service.process_pending()
    assert dispatcher.dispatch_once() == 1
    assert "kettle-zebra-9" in json.dumps(fake.messages(REVIEW)[0]["blocks"])
    assert "kettle-zebra-9" not in caplog.text
    assert "card_posted" in caplog.text


def test_email_quoting_only_the_case_reference_goes_into_the_cards_thread(service, dispatcher, fake):
    first = _store_email(service)
    service.process_pending()
    dispatcher.dispatch_once()
    card_ts = fake.messages(REVIEW)[0]["ts"]
    result = service.decide(Decision(message_id=first, officer=OFFICER, action="confirm"))
    reference = result.case_reference
    assert reference and reference.startswith("ASC-")
    # a new email, no In-Reply-To or References: only the reference in the subject ties it to the case
    _store_email(service, subject=f"{reference} still no carer", message_id="<c9@example.org>",
                 body="Nobody came again this morning.")
    service.process_pending()
    dispatcher.dispatch_once()
    replies = [m for m in fake.messages(REVIEW) if m.get("thread_ts") == card_ts]
    assert len(replies) == 1 and "Nobody came again this morning" in json.dumps(replies[0]["blocks"])
    assert [m["ts"] for m in fake.messages(REVIEW) if not m.get("thread_ts")] == [card_ts]
