"""Chat intake: messages in intake channels and the "Triage this message" shortcut become cards."""

from __future__ import annotations

import json
import time

from slack_helpers import COMPLAINT, ELSEWHERE, INTAKE, OFFICER, RESIDENT, REVIEW, block_action, wait_for

from connectors.slack.cards import CONFIRM


def _message(text: str = COMPLAINT, ts: str = "1772532720.000100", channel: str = INTAKE, **extra) -> dict:
    return {"type": "message", "channel": channel, "user": RESIDENT, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": "channel", **extra}


def _shortcut(fake, text: str = COMPLAINT, channel: str = ELSEWHERE, ts: str = "1772532800.000200") -> dict:
    return {"type": "message_action", "callback_id": "triage_this_message", "trigger_id": "trig-sc",
            "team": {"id": "T0FAKE"}, "user": {"id": OFFICER}, "channel": {"id": channel, "name": "random"},
            "message_ts": ts, "response_url": fake.response_url + "sc",
            "message": {"type": "message", "user": RESIDENT, "ts": ts, "text": text}}


def test_intake_message_becomes_a_card(bolt, fake, service, dispatcher):
    assert bolt.event(_message()).status == 200
    reply = wait_for(lambda: [m for m in fake.messages(INTAKE) if m.get("thread_ts") == "1772532720.000100"],
                     what="thread reply")
    assert "Taken in for triage" in reply[0]["text"]
    [row] = service.message_rows()
    assert row.source == f"slack:{INTAKE}"
    service.process_pending()
    assert dispatcher.dispatch_once() == 1
    card = fake.messages(REVIEW)[0]
    text = json.dumps(card["blocks"], ensure_ascii=False)
    assert "carers from the home care agency" in text
    assert "07700" not in text and "[PHONE]" in text
    assert "Sam Okafor" not in text
    assert f"slack:{INTAKE}" in text


def test_redelivered_event_is_stored_and_answered_once(bolt, fake, service):
    bolt.event(_message(), event_id="Ev1")
    wait_for(lambda: len(fake.messages(INTAKE)) == 1, what="thread reply")
    bolt.event(_message(), event_id="Ev1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    time.sleep(0.3)
    assert len(service.message_rows()) == 1
    assert len(fake.messages(INTAKE)) == 1


def test_messages_outside_intake_channels_bots_and_edits_are_ignored(bolt, fake, service):
    bolt.event(_message(channel=ELSEWHERE, ts="1.1"), event_id="Ev2")
    bolt.event(_message(ts="1.2", bot_id="B0OTHER", subtype="bot_message"), event_id="Ev3")
    bolt.event(_message(ts="1.3", subtype="message_changed"), event_id="Ev4")
    bolt.event(_message(ts="1.4", text="   "), event_id="Ev5")
    bolt.event(_message(ts="1.5", user="UBOT"), event_id="Ev6")
    time.sleep(0.4)
    assert service.message_rows() == []
    assert fake.messages(INTAKE) == []


def test_thread_reply_in_intake_channel_joins_the_first_message(bolt, fake, service, dispatcher):
    bolt.event(_message(), event_id="Ev7")
    wait_for(lambda: fake.messages(INTAKE), what="thread reply")
    service.process_pending()
    dispatcher.dispatch_once()
    card_ts = fake.messages(REVIEW)[0]["ts"]
    bolt.event(_message(text="And today nobody came at all.", ts="1772532999.000300",
                        thread_ts="1772532720.000100"), event_id="Ev8")
    wait_for(lambda: len(service.message_rows()) == 2, what="second message")
    assert len(fake.messages(INTAKE)) == 1, "no second 'taken in' reply for a message in a thread"
    service.process_pending()
    assert dispatcher.dispatch_once() == 1
    follow = [m for m in fake.messages(REVIEW) if m.get("thread_ts") == card_ts]
    assert len(follow) == 1 and "nobody came" in json.dumps(follow[0]["blocks"])


def test_shortcut_takes_message_in_and_answers_in_its_thread(bolt, fake, service, dispatcher):
    fake.channels[ELSEWHERE].is_member = True
    assert bolt.interact(_shortcut(fake)).status == 200
    reply = wait_for(lambda: fake.messages(ELSEWHERE), what="thread reply")
    assert reply[0]["thread_ts"] == "1772532800.000200" and "Taken in for triage" in reply[0]["text"]
    service.process_pending()
    assert dispatcher.dispatch_once() == 1


def test_shortcut_where_bot_cannot_post_answers_privately(bolt, fake, service):
    bolt.interact(_shortcut(fake))
    wait_for(lambda: fake.responses, what="response_url answer")
    assert fake.responses[0]["response_type"] == "ephemeral"
    assert "Taken in for triage" in fake.responses[0]["text"]
    assert len(service.message_rows()) == 1


def test_shortcut_twice_on_same_message_stores_it_once(bolt, fake, service):
    fake.channels[ELSEWHERE].is_member = True
    bolt.interact(_shortcut(fake))
    wait_for(lambda: fake.messages(ELSEWHERE), what="first answer")
    bolt.interact(_shortcut(fake))
    wait_for(lambda: len(fake.messages(ELSEWHERE)) == 2, what="second answer")
    assert "Already taken in" in fake.messages(ELSEWHERE)[1]["text"]
    assert len(service.message_rows()) == 1



def test_confirmed_intake_case_reference_is_posted_in_the_thread(bolt, fake, service, dispatcher):
    bolt.event(_message(), event_id="Ev9")
    wait_for(lambda: fake.messages(INTAKE), what="thread reply")
    service.process_pending()
    dispatcher.dispatch_once()
    card = fake.messages(REVIEW)[0]
    [row] = service.message_rows()
    bolt.interact(block_action(CONFIRM, row.message_id, card["ts"]))
    wait_for(lambda: service.message_rows()[0].case_reference, what="case")
    dispatcher.dispatch_once()
    reference = service.message_rows()[0].case_reference
    replies = [m for m in fake.messages(INTAKE) if m.get("thread_ts") == "1772532720.000100"]
    assert len(replies) == 2 and reference in replies[1]["text"], [m["text"] for m in replies]
