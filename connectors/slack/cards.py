"""Block Kit payloads: the review card, the card once decided, routed cases, follow-ups and alerts.

Everything from a message (subject, excerpt, reason, source) is escaped and
cut so that every payload stays inside Block Kit's limits for any input:
50 blocks, 3,000 characters of section text, 2,000 per field and button
value, 150 per header, and a total kept under :data:`TOTAL_BUDGET`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from triage.ports import ReviewItem
from triage.redaction import redact

from connectors.slack.mrkdwn import cut, day, escape, mention, plain, quote, slack_len, when

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_VALUE = 2000
BUTTON_TEXT = 75
CONTEXT_TEXT = 3000
#: The whole payload (blocks as JSON) stays under this; Slack's own ceiling is about 13,000 characters.
TOTAL_BUDGET = 12_000
SUBJECT_CHARS = 300
REASON_CHARS = 900
SOURCE_CHARS = 200
LABEL_CHARS = 150
NOTE_CHARS = 500

CONFIRM = "triage_confirm"
CHANGE = "triage_change"
DISMISS = "triage_dismiss"
ACTIONS_BLOCK = "triage_actions"
DECISION_BLOCK = "triage_decision"
#: Message metadata on every review card, so a card already posted can be found again.
CARD_EVENT = "triage_review_card"

TYPE_NAMES = {"complaint": "Complaint", "compliment": "Compliment", "comment": "Comment", "enquiry": "Enquiry",
              "other": "Not feedback"}
ACTION_WORDS = {"confirm": "Confirmed", "change": "Changed", "dismiss": "Marked not feedback"}


class Outcome(Protocol):
    """What a decision did (triage.service.DecisionResult has these attributes)."""

    action: str
    officer: str
    decided_at: datetime
    type: str | None
    category: str | None
    service_area: str | None
    case_reference: str | None


@dataclass(frozen=True)
class Payload:
    """A message for chat.postMessage / chat.update: fallback text, blocks and optional metadata."""

    text: str
    blocks: list[dict]
    metadata: dict | None = None

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "blocks": self.blocks, "unfurl_links": False, "unfurl_media": False}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


def _fallback(text: str) -> str:
    """The notification text (shown where blocks cannot be): short and escaped."""
    return cut(escape(text), 300)


def payload_size(blocks: list[dict]) -> int:
    """Characters of the blocks as Slack receives them (JSON, counted in UTF-16 units)."""
    return slack_len(json.dumps(blocks, ensure_ascii=False, separators=(",", ":")))


# ------------------------------------------------------------- pieces ---


def _text(value: str, kind: str = "mrkdwn") -> dict:
    if kind == "plain_text":
        return {"type": "plain_text", "text": value, "emoji": True}
    return {"type": "mrkdwn", "text": value, "verbatim": True}


def _section(value: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": _text(cut(value, SECTION_TEXT))}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(value: str, block_id: str | None = None) -> dict:
    block = {"type": "context", "elements": [_text(cut(value, CONTEXT_TEXT))]}
    if block_id:
        block["block_id"] = block_id
    return block


def _header(value: str) -> dict:
    return {"type": "header", "text": _text(cut(plain(value), HEADER_TEXT), "plain_text")}


def _label(value: str | None, confidence: float | None) -> str:
    if value is None:
        return "-"
    shown = escape(cut(value, LABEL_CHARS))
    return shown if confidence is None else f"{shown} ({confidence:.0%})"


def _shown_text(item: ReviewItem, redaction: str) -> tuple[str, str]:
    """Subject and text as the setting allows; the excerpt is redacted again (harmless when already done)."""
    names = [n for n in item.extra.get("sender_names", []) if isinstance(n, str)] if item.extra else []
    if redaction == "full":
        return item.subject or "", item.excerpt or ""
    subject = redact(item.subject or "", names)
    if redaction == "none":
        return subject, ""
    return subject, redact(item.excerpt or "", names)


def _label_fields(type_: str | None, type_conf: float | None, category: str | None, category_conf: float | None,
                  area: str | None, area_conf: float | None, due: date | datetime | None) -> dict:
    fields = [
        _text(f"*Type*\n{_label(type_, type_conf)}"),
        _text(f"*Category*\n{_label(category, category_conf)}"),
        _text(f"*Service area*\n{_label(area, area_conf)}"),
    ]
    if type_ == "complaint":
        fields.append(_text(f"*Acknowledgement due*\n{day(due)}"))
    return {"type": "section", "block_id": "triage_labels", "fields": [
        {**f, "text": cut(f["text"], FIELD_TEXT)} for f in fields]}


def _body_blocks(item: ReviewItem, redaction: str) -> list[dict]:
    """Subject, where it came from, and the reason: everything but the excerpt and the buttons."""
    subject, _ = _shown_text(item, redaction)
    source = escape(cut(item.source or "unknown", SOURCE_CHARS))
    blocks = [
        _section(f"*Subject:* {escape(cut(subject, SUBJECT_CHARS)) or '(no subject)'}", "triage_subject"),
        _context(f"From {source} · received {when(item.received_at)} · message {item.message_id}", "triage_source"),
    ]
    if item.reason:
        blocks.append(_context(f"Why: {escape(cut(item.reason, REASON_CHARS))}", "triage_reason"))
    return blocks


_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
#: JSON characters a section block adds around its text.
_SECTION_OVERHEAD = 90
#: Most sections one message text is spread over.
MAX_EXCERPT_SECTIONS = 12


def _piece(text: str, room_text: int, room_json: int) -> str:
    """The longest start of ``text`` whose quoted form fits a section and the remaining payload budget,
    ending at a line or word end when one is near and never inside an entity such as ``&amp;``."""
    n = min(len(text), room_text)
    while n > 0:
        piece = text[:n]
        if n < len(text):
            for sep in ("\n", " "):
                at = piece.rfind(sep)
                if at > n * 0.8:
                    piece = piece[:at]
                    break
            piece = _ENTITY_TAIL.sub("", piece)
        quoted = quote(piece)
        over = max(slack_len(quoted) - room_text, payload_size([_section(quoted)]) - room_json)
        if over <= 0 and piece:
            return piece
        n = min(n - 1, len(piece) - max(over, 1))
    return ""


def _excerpt_blocks(item: ReviewItem, redaction: str, budget: int) -> list[dict]:
    """The message text, spread over as many sections as the payload budget allows."""
    if redaction == "none":
        return [_context("Message text is not shown in Slack (redaction setting: none).", "triage_excerpt")]
    _, text = _shown_text(item, redaction)
    text = escape(text.strip())
    if not text:
        return [_context("(no message text)", "triage_excerpt")]
    notice = _context("Text cut to fit Slack; the full message stays in the store.", "triage_excerpt_cut")
    budget -= payload_size([notice]) + 1
    blocks: list[dict] = []
    while text and len(blocks) < MAX_EXCERPT_SECTIONS and budget > _SECTION_OVERHEAD + 50:
        piece = _piece(text, SECTION_TEXT - 10, budget)
        if not piece:
            break
        block_id = "triage_excerpt" if not blocks else f"triage_excerpt_{len(blocks)}"
        blocks.append(_section(quote(piece), block_id))
        budget -= payload_size([blocks[-1]]) + 1
        text = text[len(piece):].strip()
    if text:
        blocks.append(notice)
    return blocks


def _fit(blocks: list[dict]) -> list[dict]:
    """Drop excerpt sections from the end until the payload is within every limit (never expected to run
    for cards built here, which budget their text, but a guarantee for any input)."""
    while (len(blocks) > MAX_BLOCKS or payload_size(blocks) > TOTAL_BUDGET) and len(blocks) > 1:
        for i in range(len(blocks) - 1, -1, -1):
            if str(blocks[i].get("block_id", "")).startswith("triage_excerpt"):
                del blocks[i]
                break
        else:
            del blocks[-2 if len(blocks) > 1 else -1]
    return blocks


def _headline(item: ReviewItem) -> str:
    name = TYPE_NAMES.get(item.type, item.type.title())
    return f"{name} (needs review)" if item.needs_review else f"{name} suggested"


def _with_excerpt(head: list[dict], item: ReviewItem, redaction: str, tail: list[dict]) -> list[dict]:
    """Header, labels and subject, then the excerpt in the room left, then source, reason and ``tail``."""
    split = 3 if len(head) >= 3 and head[1].get("block_id") == "triage_labels" else 2
    excerpt = _excerpt_blocks(item, redaction, TOTAL_BUDGET - payload_size(head + tail) - 4)
    return _fit(head[:split] + excerpt + head[split:] + tail)


# -------------------------------------------------------------- cards ---


def review_card(item: ReviewItem, redaction: str = "excerpt") -> Payload:
    """The card asking an officer to confirm, change or dismiss a suggestion."""
    head = [
        _header(("⚠️ " if item.needs_review else "") + _headline(item)),
        _label_fields(item.type, item.type_confidence, item.category, item.category_confidence,
                      item.service_area, item.service_area_confidence, item.acknowledgement_due),
        *_body_blocks(item, redaction),
    ]
    value = json.dumps({"message_id": item.message_id})
    actions = {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [
        {"type": "button", "action_id": CONFIRM, "style": "primary", "value": value,
         "text": _text("Confirm", "plain_text")},
        {"type": "button", "action_id": CHANGE, "value": value, "text": _text("Change...", "plain_text")},
        {"type": "button", "action_id": DISMISS, "style": "danger", "value": value,
         "text": _text("Not feedback", "plain_text"),
         "confirm": {"title": _text("Not feedback?", "plain_text"),
                     "text": _text("The message will be closed without a case."),
                     "confirm": _text("Not feedback", "plain_text"), "deny": _text("Cancel", "plain_text"),
                     "style": "danger"}},
    ]}
    blocks = _with_excerpt(head, item, redaction, [actions])
    fallback = f"{_headline(item)}: message {item.message_id} waits for an officer"
    return Payload(_fallback(fallback), blocks, {"event_type": CARD_EVENT, "event_payload": {"message_id": item.message_id}})


def decision_line(outcome: Outcome) -> str:
    """``Confirmed by @officer at <time> · case ASC-2026-0042``."""
    officer = outcome.officer or ""
    who = mention(officer.split(":", 1)[1]) if officer.startswith("slack:") else escape(cut(officer, 120))
    parts = [f"*{ACTION_WORDS.get(outcome.action, escape(outcome.action))}* by {who} {when(outcome.decided_at)}"]
    if outcome.case_reference:
        parts.append(f"case *{escape(outcome.case_reference)}*")
    return " · ".join(parts)


def decided_card(item: ReviewItem, outcome: Outcome, redaction: str = "excerpt", note: str | None = None) -> Payload:
    """The card updated in place once decided: the labels that stand, who decided and when, no buttons."""
    if outcome.action == "dismiss":
        title, labels = "Not feedback", _label_fields(item.type, item.type_confidence, item.category,
                                                      item.category_confidence, item.service_area,
                                                      item.service_area_confidence, None)
    else:
        name = TYPE_NAMES.get(outcome.type or item.type, (outcome.type or item.type).title())
        title = f"{name}: {outcome.case_reference}" if outcome.case_reference else name
        due = getattr(outcome, "acknowledgement_due", None) or item.acknowledgement_due
        labels = _label_fields(outcome.type, None, outcome.category, None, outcome.service_area, None, due)
    decision = [_section(("✅ " if outcome.action != "dismiss" else "🚫 ") + decision_line(outcome), DECISION_BLOCK)]
    if note:
        decision.append(_context(f"Note: {escape(cut(note, NOTE_CHARS))}", "triage_note"))
    head = [_header(title), labels, *_body_blocks(item, redaction)]
    blocks = _with_excerpt(head, item, redaction, decision)
    word = ACTION_WORDS.get(outcome.action, outcome.action)
    fallback = f"{word}: message {item.message_id}" + (f", case {outcome.case_reference}" if outcome.case_reference else "")
    return Payload(_fallback(fallback), blocks, {"event_type": CARD_EVENT, "event_payload": {"message_id": item.message_id}})


def route_message(item: ReviewItem, route: dict, redaction: str = "excerpt", card_link: str | None = None) -> Payload:
    """A confirmed case posted to its service area's channel."""
    reference = str(route.get("case_reference") or "")
    type_ = route.get("type") or item.type
    name = TYPE_NAMES.get(type_, str(type_).title())
    due = route.get("acknowledgement_due")
    due_value = date.fromisoformat(due) if isinstance(due, str) else None
    head = [
        _header(f"New case {reference}: {name}"),
        _label_fields(type_, None, route.get("category"), None, route.get("service_area"), None, due_value),
        *_body_blocks(item, redaction),
    ]
    blocks = _with_excerpt(head, item, redaction, [])
    fallback = f"New case {reference} for {route.get('service_area') or 'no service area'}"
    return Payload(_fallback(fallback), blocks)


def follow_up_message(item: ReviewItem, case_reference: str | None, redaction: str = "excerpt") -> Payload:
    """A later message on the same case, posted into the card's thread."""
    title = f"Follow-up on {case_reference}" if case_reference else "Follow-up message"
    blocks = _with_excerpt([_header(title), *_body_blocks(item, redaction)], item, redaction, [])
    return Payload(_fallback(title), blocks)


def alert_message(source: str, text: str) -> Payload:
    """An operational alert (a mailbox unreachable for too long, ...) for the review channel."""
    body = f"⚠️ *{escape(cut(source, SOURCE_CHARS))}*: {escape(cut(text, 2000))}"
    return Payload(_fallback(f"Alert from {source}"), [_section(body, "triage_alert")])


def intake_reply(message_id: int, case_reference: str | None = None, duplicate: bool = False) -> str:
    """The bot's answer in the thread of a chat message taken in for triage."""
    if case_reference:
        return f"This is case *{escape(case_reference)}*. Later messages in this thread are added to it."
    if duplicate:
        return f"Already taken in for triage (message {message_id})."
    return (f"Taken in for triage (message {message_id}). An officer will confirm it; the case reference "
            "will be posted in this thread.")


def case_reply(outcome: Outcome) -> str:
    """The bot's answer in an intake thread once the case exists."""
    area = f" for {escape(outcome.service_area)}" if outcome.service_area else ""
    return f"Case *{escape(outcome.case_reference or '')}* opened{area}."
