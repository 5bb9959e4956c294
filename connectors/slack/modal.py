"""The Change... modal: three selects filled in from the suggestion, options from the taxonomy, and a note."""

from __future__ import annotations

import json
from dataclasses import dataclass

from triage.ports import ReviewItem
from triage.taxonomy import CATEGORISED_TYPES, ROUTED_TYPES, Taxonomy

from connectors.slack.mrkdwn import cut, plain

CALLBACK_ID = "triage_change_modal"
TYPE_BLOCK, CATEGORY_BLOCK, AREA_BLOCK, NOTE_BLOCK = "type", "category", "service_area", "note"
SELECT_ACTION, NOTE_ACTION = "choice", "text"
#: The "no category" / "no service area" option value.
NONE_VALUE = "-"
OPTION_TEXT = 75
OPTION_VALUE = 150
MAX_OPTIONS = 100
NOTE_MAX = 2000
#: Types an officer can choose in the modal ("other" is the Not feedback button).
CHOOSABLE_TYPES = ("complaint", "compliment", "comment", "enquiry")


@dataclass(frozen=True)
class ChangeRequest:
    """What an officer chose in the modal."""

    message_id: int
    channel: str | None
    ts: str | None
    type: str
    category: str | None
    service_area: str | None
    note: str | None


def _value(name: str, index: int) -> str:
    return name if len(name) <= OPTION_VALUE else f"#{index}"


def _option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": cut(plain(text), OPTION_TEXT), "emoji": True}, "value": value}


def _options(names: list[str], none_text: str | None) -> list[dict]:
    options = [_option(none_text, NONE_VALUE)] if none_text else []
    options += [_option(name, _value(name, i)) for i, name in enumerate(names)]
    return options[:MAX_OPTIONS]


def _select(block_id: str, label: str, options: list[dict], initial: str | None, hint: str | None = None) -> dict:
    element: dict = {"type": "static_select", "action_id": SELECT_ACTION, "options": options,
                     "placeholder": {"type": "plain_text", "text": f"Choose {label.lower()}"}}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    block = {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
             "element": element, "optional": block_id != TYPE_BLOCK}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def change_modal(item: ReviewItem, taxonomy: Taxonomy, channel: str | None, ts: str | None) -> dict:
    """The modal view; ``private_metadata`` carries the message and the card to update."""
    categories = list(taxonomy.categories)
    areas = list(taxonomy.service_areas)
    type_initial = item.type if item.type in CHOOSABLE_TYPES else None
    category_initial = _value(item.category, categories.index(item.category)) \
        if item.category in taxonomy.categories else NONE_VALUE
    area_initial = _value(item.service_area, areas.index(item.service_area)) \
        if item.service_area in taxonomy.service_areas else NONE_VALUE
    metadata = json.dumps({"message_id": item.message_id, "channel": channel, "ts": ts})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Change suggestion"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Message {item.message_id}",
                                              "verbatim": True}]},
            _select(TYPE_BLOCK, "Type", [_option(t.title(), t) for t in CHOOSABLE_TYPES], type_initial),
            _select(CATEGORY_BLOCK, "Category", _options(categories, "None (not a complaint or comment)"),
                    category_initial, "Complaints and comments only"),
            _select(AREA_BLOCK, "Service area", _options(areas, "None (enquiry)"), area_initial,
                    "Complaints, compliments and comments"),
            {"type": "input", "block_id": NOTE_BLOCK, "optional": True,
             "label": {"type": "plain_text", "text": "Note (optional)"},
             "element": {"type": "plain_text_input", "action_id": NOTE_ACTION, "multiline": True,
                         "max_length": NOTE_MAX}},
        ],
    }


def _chosen(values: dict, block_id: str) -> str | None:
    selected = (values.get(block_id) or {}).get(SELECT_ACTION) or {}
    option = selected.get("selected_option") or {}
    value = option.get("value")
    return None if value in (None, NONE_VALUE) else str(value)


def _name(value: str | None, names: list[str]) -> str | None:
    if value is None:
        return None
    if value.startswith("#") and value[1:].isdigit() and int(value[1:]) < len(names):
        return names[int(value[1:])]
    return value


def read_change(view: dict, taxonomy: Taxonomy) -> tuple[ChangeRequest | None, dict[str, str]]:
    """The officer's choice from a submitted view, or the errors to show beside the fields."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        message_id = int(meta["message_id"])
    except (ValueError, KeyError, TypeError):
        return None, {TYPE_BLOCK: "This form is out of date; close it and press Change... again."}
    values = (view.get("state") or {}).get("values") or {}
    type_ = _chosen(values, TYPE_BLOCK)
    category = _name(_chosen(values, CATEGORY_BLOCK), list(taxonomy.categories))
    area = _name(_chosen(values, AREA_BLOCK), list(taxonomy.service_areas))
    note_value = ((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value")
    errors: dict[str, str] = {}
    if type_ not in CHOOSABLE_TYPES:
        errors[TYPE_BLOCK] = "Choose a type."
    else:
        if type_ not in CATEGORISED_TYPES:
            category = None
        elif category is None:
            errors[CATEGORY_BLOCK] = f"A {type_} needs a category."
        elif category not in taxonomy.categories:
            errors[CATEGORY_BLOCK] = "Unknown category; close the form and try again."
        if type_ not in ROUTED_TYPES:
            area = None
        elif area is None:
            errors[AREA_BLOCK] = f"A {type_} needs a service area."
        elif area not in taxonomy.service_areas:
            errors[AREA_BLOCK] = "Unknown service area; close the form and try again."
    if errors:
        return None, errors
    note = note_value.strip()[:NOTE_MAX] if isinstance(note_value, str) and note_value.strip() else None
    return ChangeRequest(message_id, meta.get("channel"), meta.get("ts"), str(type_), category, area, note), {}
