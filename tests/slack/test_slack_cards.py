"""Block Kit payloads: what the card shows, Block Kit's limits for any input, hostile text made inert."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from triage.ports import ReviewItem
from triage.taxonomy import load_taxonomy

from connectors.slack.cards import (ACTIONS_BLOCK, CHANGE, CONFIRM, DISMISS, MAX_BLOCKS, TOTAL_BUDGET, decided_card,
                                    follow_up_message, payload_size, review_card, route_message)
from connectors.slack.mrkdwn import escape, slack_len
from connectors.slack.modal import change_modal, read_change

HOSTILE = ("<!channel> <!here|here> <@U0BOSS> <#C0SECRET> <https://evil.example/login|council.gov.uk> "
           "`code` ```block``` *bold* _it_ ~gone~ > quoted &amp; \u202etxt.exe \x00\x07 @channel")


def item(**changes) -> ReviewItem:
    base = ReviewItem(
        message_id=42, subject="Mum's home care", source="imap:feedback@northbridge.gov.uk/INBOX",
        excerpt="The carers were late again and missed two visits. Call me on 07700 900123.",
        received_at=datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc), type="complaint", type_confidence=0.93,
        category="Timeliness", category_confidence=0.61, service_area="Localities", service_area_confidence=0.78,
        needs_review=False, reason='key terms: "late", "missed"; most telling sentence: "missed two visits"',
        acknowledgement_due=datetime(2026, 3, 6, 17, 0, tzinfo=timezone.utc))
    return replace(base, **changes)


class Outcome:
    def __init__(self, action="confirm", officer="slack:U0OFFICER", type="complaint", category="Timeliness",
                 service_area="Localities", case_reference="ASC-2026-0042"):
        self.action, self.officer, self.type, self.category = action, officer, type, category
        self.service_area, self.case_reference = service_area, case_reference
        self.decided_at = datetime(2026, 3, 3, 11, 0, tzinfo=timezone.utc)
        self.acknowledgement_due = date(2026, 3, 6)


def texts(blocks: list[dict]) -> list[str]:
    """Every text string in the blocks."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(blocks)
    return found


def assert_within_limits(blocks: list[dict]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert payload_size(blocks) <= TOTAL_BUDGET < 13_000
    for block in blocks:
        if block["type"] == "header":
            assert slack_len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            if "text" in block:
                assert slack_len(block["text"]["text"]) <= 3000
            for field in block.get("fields", []):
                assert slack_len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(slack_len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "actions":
            for element in block["elements"]:
                assert slack_len(element["value"]) <= 2000
                assert slack_len(element["text"]["text"]) <= 75


# ---------------------------------------------------------------- content ---


def test_review_card_shows_everything_an_officer_needs():
    card = review_card(item())
    joined = "\n".join(texts(card.blocks))
    assert card.blocks[0]["type"] == "header" and card.blocks[0]["text"]["text"] == "Complaint suggested"
    assert "complaint (93%)" in joined and "Timeliness (61%)" in joined and "Localities (78%)" in joined
    assert "*Acknowledgement due*\nFri 6 Mar 2026" in joined
    assert "Mum's home care" in joined
    assert "The carers were late again" in joined and "[PHONE]" in joined and "07700" not in joined
    assert "imap:feedback@northbridge.gov.uk/INBOX" in joined
    assert f"<!date^{int(datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc).timestamp())}^" in joined
    assert "Why: key terms" in joined
    actions = card.blocks[-1]
    assert actions["block_id"] == ACTIONS_BLOCK
    assert [e["action_id"] for e in actions["elements"]] == [CONFIRM, CHANGE, DISMISS]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Confirm", "Change...", "Not feedback"]
    assert all(json.loads(e["value"]) == {"message_id": 42} for e in actions["elements"])
    assert card.metadata["event_payload"] == {"message_id": 42}
    assert "07700" not in card.text


def test_needs_review_marker_and_no_due_date_for_non_complaints():
    card = review_card(item(type="compliment", category=None, category_confidence=None, needs_review=True,
                            acknowledgement_due=None))
    assert "needs review" in card.blocks[0]["text"]["text"]
    joined = "\n".join(texts(card.blocks))
    assert "Acknowledgement due" not in joined and "*Category*\n-" in joined


def test_redaction_setting_controls_what_the_card_shows():
    raw = item(subject="From Mrs Jones 07700 900123", excerpt="Ring 07700 900123 please, Mrs Jones")
    full = "\n".join(texts(review_card(raw, "full").blocks))
    excerpt = "\n".join(texts(review_card(raw, "excerpt").blocks))
    none = "\n".join(texts(review_card(raw, "none").blocks))
    assert "07700 900123" in full
    assert "07700" not in excerpt and "Jones" not in excerpt and "Mrs [NAME]" in excerpt
    assert "Ring" not in none and "not shown in Slack" in none and "07700" not in none


def test_decided_card_has_decision_and_no_buttons():
    card = decided_card(item(), Outcome(), note="Spoke to the family <!here>")
    assert not any(b["type"] == "actions" for b in card.blocks)
    joined = "\n".join(texts(card.blocks))
    assert "*Confirmed* by <@U0OFFICER>" in joined and "ASC-2026-0042" in joined
    assert "Note: Spoke to the family &lt;!here&gt;" in joined
    assert card.blocks[0]["text"]["text"] == "Complaint: ASC-2026-0042"
    assert_within_limits(card.blocks)


def test_decided_card_by_a_non_slack_officer_is_escaped():
    card = decided_card(item(), Outcome(action="dismiss", officer="console:<!channel>", case_reference=None))
    joined = "\n".join(texts(card.blocks))
    assert "Marked not feedback" in joined and "<!channel>" not in joined


def test_route_message_names_the_case_and_area():
    message = route_message(item(), {"case_reference": "ASC-2026-0042", "type": "complaint", "category": "Timeliness",
                                      "service_area": "Localities", "acknowledgement_due": "2026-03-06"})
    assert message.blocks[0]["text"]["text"] == "New case ASC-2026-0042: Complaint"
    assert "ASC-2026-0042" in message.text and "Localities" in message.text
    assert "Fri 6 Mar 2026" in "\n".join(texts(message.blocks))


# ----------------------------------------------------------------- limits ---


SIZES = [0, 1, 2_999, 3_001, 13_000]
SHAPES = {
    "letters": lambda n: "a" * n,
    "words": lambda n: ("word " * n)[:n],
    "newlines": lambda n: "\n" * n,
    "quotes": lambda n: '"' * n,
    "entities": lambda n: ("&<>" * n)[:n],
    "emoji": lambda n: "😀" * (n // 2),
    "hostile": lambda n: (HOSTILE * (n // len(HOSTILE) + 1))[:n],
}


@pytest.mark.parametrize("redaction", ["excerpt", "full", "none"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("size", SIZES)
def test_every_payload_respects_block_kit_limits(size, shape, redaction):
    text = SHAPES[shape](size)
    big = item(subject=text, excerpt=text, reason=text, source=text, category=text[:5000] or None,
               service_area=text[:5000] or None)
    for payload in (review_card(big, redaction), decided_card(big, Outcome(category=text, service_area=text), redaction,
                                                              note=text),
                    route_message(big, {"case_reference": text[:40], "service_area": text}, redaction),
                    follow_up_message(big, text[:40], redaction)):
        assert_within_limits(payload.blocks)
        assert slack_len(payload.text) <= 4000
    card = review_card(big, redaction)
    assert card.blocks[-1]["block_id"] == ACTIONS_BLOCK, "the buttons always survive"


@pytest.mark.parametrize("redaction", ["excerpt", "full", "none"])
def test_largest_message_the_store_keeps_fits(redaction):
    text = (HOSTILE * (200_000 // len(HOSTILE) + 1))[:200_000]
    big = item(subject=text, excerpt=text, reason=text, source=text)
    card = review_card(big, redaction)
    assert_within_limits(card.blocks)
    assert card.blocks[-1]["block_id"] == ACTIONS_BLOCK


def test_full_text_is_spread_over_sections_and_cut_with_a_notice():
    long_text = "\n".join(f"Paragraph {i}: the carers were late again and nobody phoned." for i in range(2000))
    card = review_card(item(excerpt=long_text), "full")
    excerpt_sections = [b for b in card.blocks if str(b.get("block_id", "")).startswith("triage_excerpt_")
                        or b.get("block_id") == "triage_excerpt"]
    assert len(excerpt_sections) >= 3
    assert card.blocks[-2]["block_id"] != "triage_excerpt_cut"
    assert any(b.get("block_id") == "triage_excerpt_cut" for b in card.blocks)
    assert_within_limits(card.blocks)


def test_entities_are_never_cut_in_half():
    card = review_card(item(excerpt="&" * 10_000), "full")
    for text in texts(card.blocks):
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), "a cut left a broken entity"


# ---------------------------------------------------------------- hostile ---


def text_objects(blocks: list[dict]) -> list[dict]:
    """Every text object ({"type": "mrkdwn" | "plain_text", "text": ...}) in the blocks."""
    found: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(blocks)
    return found


OWN_MARKUP = re.compile(r"<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]*>|<@U0OFFICER>|^> |\n> ")


def test_hostile_text_is_inert_everywhere():
    hostile = item(subject=HOSTILE, excerpt=HOSTILE, reason=HOSTILE, source=HOSTILE)
    payloads = [review_card(hostile, "full"), decided_card(hostile, Outcome(), "full", note=HOSTILE),
                follow_up_message(hostile, HOSTILE, "full"),
                route_message(hostile, {"case_reference": HOSTILE, "service_area": HOSTILE}, "full")]
    for payload in payloads:
        for obj in text_objects(payload.blocks):
            assert "\u202e" not in obj["text"] and "\x00" not in obj["text"]
            if obj["type"] == "plain_text":
                continue  # plain text is never interpreted by Slack
            assert obj["verbatim"] is True, "no automatic linking of names, channels and URLs"
            own = OWN_MARKUP.sub(" ", obj["text"])
            assert not re.search(r"[<>`~]", own), obj["text"]
        assert not re.search(r"[<>`]", payload.text)


def test_escape_keeps_the_words():
    assert escape("a <b> & *c*") == "a &lt;b&gt; &amp; \u2217c\u2217"


# ------------------------------------------------------------------ modal ---


def test_change_modal_is_filled_in_from_the_suggestion():
    view = change_modal(item(), load_taxonomy(), "C0REVIEW", "123.456")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["type"]["element"]["initial_option"]["value"] == "complaint"
    assert blocks["category"]["element"]["initial_option"]["value"] == "Timeliness"
    assert blocks["service_area"]["element"]["initial_option"]["value"] == "Localities"
    assert [o["value"] for o in blocks["service_area"]["element"]["options"]][1:] == \
        list(load_taxonomy().service_areas)
    assert blocks["note"]["optional"] is True and blocks["note"]["element"]["multiline"] is True
    assert slack_len(view["private_metadata"]) <= 3000 and slack_len(view["title"]["text"]) <= 24


def test_change_modal_with_a_councils_own_long_taxonomy(tmp_path):
    long_area = "Adult Social Care " + "Very Long Service Area Name " * 10
    path = tmp_path / "taxonomy.toml"
    path.write_text('[category]\n"Professional Decision Making" = "x"\n"Service Failure" = "y"\n'
                    f'[service_area]\n"{long_area}" = "z"\n"Front Door" = "w"\n', "utf-8")
    taxonomy = load_taxonomy(path)
    view = change_modal(item(category="Service Failure", service_area=long_area), taxonomy, None, None)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    options = blocks["service_area"]["element"]["options"]
    assert all(slack_len(o["text"]["text"]) <= 75 and slack_len(o["value"]) <= 150 for o in options)
    assert blocks["service_area"]["element"]["initial_option"]["value"] == "#0"
    state = {"values": {"type": {"choice": {"selected_option": {"value": "complaint"}}},
                        "category": {"choice": {"selected_option": {"value": "Service Failure"}}},
                        "service_area": {"choice": {"selected_option": {"value": "#0"}}},
                        "note": {"text": {"value": "  "}}}}
    request, errors = read_change({**view, "state": state}, taxonomy)
    assert errors == {} and request.service_area == long_area and request.note is None


def test_read_change_refuses_a_form_without_its_metadata():
    request, errors = read_change({"private_metadata": "", "state": {"values": {}}}, load_taxonomy())
    assert request is None and "out of date" in errors["type"]


# ------------------------------------------------------- through WebClient ---


def test_card_goes_through_the_real_web_client(reviewer, fake):
    ref = reviewer.post_card(item(excerpt=HOSTILE * 500))
    channel, ts = ref.split(":")
    [call] = fake.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {fake.token}"
    assert call.params["blocks"] == fake.find_message(channel, ts)["blocks"]
    assert call.params["unfurl_links"] is False
    assert_within_limits(call.params["blocks"])
