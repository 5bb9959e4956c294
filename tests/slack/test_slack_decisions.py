"""Officers' decisions through Bolt's HTTP handling: signatures, confirm, change, not feedback, refusals, repeats."""

from __future__ import annotations

import json
import time

from slack_helpers import (AREA_CHANNELS, FINANCE, GROUPED, OFFICER, REVIEW, STRANGER, block_action, decisions, wait_for)

from connectors.slack.cards import ACTIONS_BLOCK, CHANGE, CONFIRM, DISMISS, DECISION_BLOCK


def _card(fake, ts):
    return fake.find_message(REVIEW, ts)


def _decided(fake, ts):
    return lambda: _card(fake, ts).get("edited") and any(b.get("block_id") == DECISION_BLOCK
                                                         for b in _card(fake, ts)["blocks"])


# --------------------------------------------------------------- signatures ---


def test_valid_signature_is_accepted(bolt, posted_card, fake):
    message_id, ts = posted_card
    answer = bolt.interact(block_action(CONFIRM, message_id, ts))
    assert answer.status == 200
    wait_for(_decided(fake, ts), what="card update")


def test_tampered_body_is_refused_and_changes_nothing(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    answer = bolt.interact(block_action(CONFIRM, message_id, ts, user=STRANGER), tamper=True)
    assert answer.status == 401
    time.sleep(0.2)
    assert decisions(service) == []
    assert not fake.calls_to("chat.update", ok=None)


def test_stale_timestamp_is_refused(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    answer = bolt.interact(block_action(CONFIRM, message_id, ts), timestamp=int(time.time()) - 6 * 60)
    assert answer.status == 401
    time.sleep(0.2)
    assert decisions(service) == []
    assert service.review_item(message_id).extra["state"] == "suggested"


def test_wrong_secret_is_refused(bolt, posted_card):
    import urllib.parse

    from slack_helpers import signed_headers

    message_id, ts = posted_card
    body = urllib.parse.urlencode({"payload": json.dumps(block_action(CONFIRM, message_id, ts))}).encode()
    headers = signed_headers(body, secret="not-the-secret")
    answer = bolt.send(body, "application/x-www-form-urlencoded", headers=headers)
    assert answer.status == 401


# ----------------------------------------------------------------- confirm ---


def test_confirm_opens_case_updates_card_and_audits(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    suggested = service.review_item(message_id)
    assert bolt.interact(block_action(CONFIRM, message_id, ts)).status == 200
    wait_for(_decided(fake, ts), what="card update")
    card = _card(fake, ts)
    assert not any(b["type"] == "actions" for b in card["blocks"]), "a decided card keeps no buttons"
    decision = next(b for b in card["blocks"] if b.get("block_id") == DECISION_BLOCK)["text"]["text"]
    assert f"<@{OFFICER}>" in decision and "Confirmed" in decision and "<!date^" in decision
    item = service.review_item(message_id)
    assert item.case_reference and item.case_reference.startswith("ASC-")
    assert item.case_reference in decision
    entries = decisions(service)
    assert [(e.actor, e.action) for e in entries] == [(f"slack:{OFFICER}", "decision.confirm")]
    assert entries[0].before["suggestion"]["type"] == suggested.type
    assert entries[0].after["case_reference"] == item.case_reference


def test_member_of_officer_group_may_decide(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    bolt.interact(block_action(CONFIRM, message_id, ts, user=GROUPED))
    wait_for(_decided(fake, ts), what="card update")
    assert fake.calls_to("usergroups.users.list")
    assert decisions(service)[0].actor == f"slack:{GROUPED}"


def test_confirmed_case_is_routed_to_its_service_area_channel(bolt, posted_card, fake, service, dispatcher):
    message_id, ts = posted_card
    bolt.interact(block_action(CONFIRM, message_id, ts))
    wait_for(_decided(fake, ts), what="card update")
    item = service.review_item(message_id)
    channel = AREA_CHANNELS[item.service_area]
    assert dispatcher.dispatch_once() == 1
    routed = fake.messages(channel)
    assert len(routed) == 1
    assert item.case_reference in json.dumps(routed[0]["blocks"])
    assert item.case_reference in routed[0]["text"]
    assert dispatcher.dispatch_once() == 0
    assert len(fake.messages(channel)) == 1


# ------------------------------------------------------------------ change ---


def test_change_opens_modal_filled_from_suggestion(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    item = service.review_item(message_id)
    bolt.interact(block_action(CHANGE, message_id, ts, action_ts="2.2"))
    view = wait_for(lambda: fake.views and fake.views[-1], what="views.open")
    assert fake.calls_to("views.open")[0].params["trigger_id"] == "trig-2.2"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["type"]["element"]["initial_option"]["value"] == item.type
    assert blocks["category"]["element"]["initial_option"]["value"] == (item.category or "-")
    assert blocks["service_area"]["element"]["initial_option"]["value"] == (item.service_area or "-")
    areas = [o["value"] for o in blocks["service_area"]["element"]["options"]]
    assert set(service.taxonomy.service_areas) <= set(areas)
    assert json.loads(view["private_metadata"]) == {"message_id": message_id, "channel": REVIEW, "ts": ts}
    assert decisions(service) == [], "opening the form decides nothing"


def _submission(view: dict, user: str, type_: str, category: str | None, area: str | None, note: str = "") -> dict:
    def chosen(value):
        return {"choice": {"type": "static_select",
                           "selected_option": None if value is None else {"value": value,
                                                                          "text": {"type": "plain_text", "text": value}}}}
    return {
        "type": "view_submission", "team": {"id": "T0FAKE"}, "user": {"id": user}, "api_app_id": "A0TRIAGE",
        "trigger_id": "trig-view",
        "view": {**view, "id": "V0CHANGE1", "hash": "h1", "state": {"values": {
            "type": chosen(type_), "category": chosen(category), "service_area": chosen(area),
            "note": {"text": {"type": "plain_text_input", "value": note}}}}},
    }


def test_change_through_modal_records_new_labels_and_routes(bolt, posted_card, fake, service, dispatcher):
    message_id, ts = posted_card
    bolt.interact(block_action(CHANGE, message_id, ts))
    view = wait_for(lambda: fake.views and fake.views[-1], what="views.open")
    answer = bolt.interact(_submission(view, OFFICER, "complaint", "Decision", "Customer Financial Affairs",
                                       note="Charging dispute <!channel>"))
    assert answer.status == 200 and answer.body in ("", "null")
    wait_for(_decided(fake, ts), what="card update")
    card_json = json.dumps(_card(fake, ts)["blocks"])
    assert "Changed" in card_json and "Customer Financial Affairs" in card_json
    assert "<!channel>" not in card_json and "&lt;!channel&gt;" in card_json
    entry = decisions(service)[0]
    assert entry.action == "decision.change"
    assert (entry.after["type"], entry.after["category"], entry.after["service_area"]) == \
        ("complaint", "Decision", "Customer Financial Affairs")
    assert entry.after["note"] == "Charging dispute <!channel>"
    dispatcher.dispatch_once()
    assert len(fake.messages(FINANCE)) == 1


def test_modal_errors_for_missing_category(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    bolt.interact(block_action(CHANGE, message_id, ts))
    view = wait_for(lambda: fake.views and fake.views[-1], what="views.open")
    answer = bolt.interact(_submission(view, OFFICER, "complaint", None, "Localities"))
    assert answer.status == 200
    assert answer.json() == {"response_action": "errors", "errors": {"category": "A complaint needs a category."}}
    assert decisions(service) == []


def test_change_to_enquiry_drops_category_and_area(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    bolt.interact(block_action(CHANGE, message_id, ts))
    view = wait_for(lambda: fake.views and fake.views[-1], what="views.open")
    bolt.interact(_submission(view, OFFICER, "enquiry", "Quality", "Localities"))
    wait_for(_decided(fake, ts), what="card update")
    entry = decisions(service)[0]
    assert (entry.after["type"], entry.after["category"], entry.after["service_area"]) == ("enquiry", None, None)


# ------------------------------------------------------------ not feedback ---


def test_not_feedback_closes_without_case(bolt, posted_card, fake, service, dispatcher):
    message_id, ts = posted_card
    bolt.interact(block_action(DISMISS, message_id, ts))
    wait_for(_decided(fake, ts), what="card update")
    card = _card(fake, ts)
    assert "Marked not feedback" in json.dumps(card["blocks"])
    assert not any(b.get("block_id") == ACTIONS_BLOCK for b in card["blocks"])
    item = service.review_item(message_id)
    assert item.case_reference is None and item.extra["state"] == "reviewed"
    assert [e.action for e in decisions(service)] == ["decision.dismiss"]
    assert dispatcher.dispatch_once() == 0, "nothing to route"


# ------------------------------------------------------------- who decides ---


def test_unauthorised_click_gets_ephemeral_refusal_and_changes_nothing(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    for action in (CONFIRM, DISMISS, CHANGE):
        bolt.interact(block_action(action, message_id, ts, user=STRANGER, action_ts=action))
    wait_for(lambda: len(fake.ephemeral) == 3, what="three refusals")
    assert all(e["user"] == STRANGER and "Only triage officers" in e["text"] for e in fake.ephemeral)
    assert decisions(service) == []
    assert not fake.calls_to("chat.update", ok=None) and not fake.views
    assert service.review_item(message_id).extra["state"] == "suggested"


def test_unauthorised_modal_submission_is_refused(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    bolt.interact(block_action(CHANGE, message_id, ts))
    view = wait_for(lambda: fake.views and fake.views[-1], what="views.open")
    bolt.interact(_submission(view, STRANGER, "compliment", None, "Localities"))
    wait_for(lambda: fake.ephemeral, what="refusal")
    assert decisions(service) == []


def test_group_that_cannot_be_read_fails_closed(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    fake.usergroups.clear()
    bolt.interact(block_action(CONFIRM, message_id, ts, user=GROUPED))
    wait_for(lambda: fake.ephemeral, what="refusal")
    assert decisions(service) == []


# ------------------------------------------------------------- idempotency ---


def test_double_click_changes_state_once(bolt, posted_card, fake, service, dispatcher):
    message_id, ts = posted_card
    bolt.interact(block_action(CONFIRM, message_id, ts, action_ts="5.1"))
    bolt.interact(block_action(CONFIRM, message_id, ts, action_ts="5.2"))
    wait_for(lambda: len(fake.calls_to("chat.update")) == 2, what="two card updates")
    wait_for(lambda: fake.ephemeral, what="already-decided note")
    assert "Already decided" in fake.ephemeral[0]["text"]
    assert len(decisions(service)) == 1
    assert len([r for r in service.message_rows() if r.case_reference]) == 1
    dispatcher.dispatch_once()
    routed = [m for ch in AREA_CHANNELS.values() for m in fake.messages(ch)]
    assert len(routed) == 1


def test_redelivered_action_changes_state_once(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    payload = block_action(DISMISS, message_id, ts, action_ts="7.7")
    bolt.interact(payload)
    bolt.interact(payload, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    wait_for(lambda: len(fake.calls_to("chat.update")) == 2, what="two card updates")
    assert len(decisions(service)) == 1


def test_confirm_then_not_feedback_keeps_first_decision(bolt, posted_card, fake, service):
    message_id, ts = posted_card
    bolt.interact(block_action(CONFIRM, message_id, ts, action_ts="8.1"))
    wait_for(_decided(fake, ts), what="card update")
    bolt.interact(block_action(DISMISS, message_id, ts, action_ts="8.2", user=GROUPED))
    wait_for(lambda: fake.ephemeral, what="already-decided note")
    assert [e.action for e in decisions(service)] == ["decision.confirm"]
    assert "Confirmed" in json.dumps(_card(fake, ts)["blocks"])
