"""Console review: suggestions printed in the terminal, and ``triage review`` to decide on them."""

from __future__ import annotations

import getpass
import sys
from typing import Callable, TextIO

from triage.ports import Decision, ReviewItem
from triage.service import OutboxItem, ServiceError, TriageService
from triage.taxonomy import CATEGORISED_TYPES, ROUTED_TYPES, TYPES


def _label(value: str | None, confidence: float | None) -> str:
    return "-" if value is None else (f"{value} ({confidence:.0%})" if confidence is not None else value)


def format_item(item: ReviewItem) -> str:
    """A review card as text lines (the excerpt is already redacted by the service)."""
    lines = [
        f"#{item.message_id}  {item.received_at:%Y-%m-%d %H:%M}  {item.source}",
        f"  subject:      {item.subject or '(none)'}",
        f"  type:         {_label(item.type, item.type_confidence)}"
        + ("   NEEDS REVIEW" if item.needs_review else ""),
        f"  category:     {_label(item.category, item.category_confidence)}",
        f"  service area: {_label(item.service_area, item.service_area_confidence)}",
    ]
    if item.acknowledgement_due:
        lines.append(f"  acknowledge by {item.acknowledgement_due:%a %d %b %Y}")
    if item.case_reference:
        lines.append(f"  case {item.case_reference}")
    if item.reason:
        lines.append(f"  why: {item.reason}")
    if item.excerpt:
        lines.append("  " + item.excerpt.replace("\n", "\n  "))
    return "\n".join(lines)


class ConsoleReviewer:
    """Prints suggestions, routed cases, replies and alerts; decisions are taken with ``triage review``."""

    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def show(self, item: ReviewItem) -> str | None:
        self._print("new suggestion (decide with `triage review`):\n" + format_item(item))
        return f"console:{item.message_id}"

    async def route(self, item: OutboxItem) -> str | None:
        p = item.payload
        self._print(f"case {p.get('case_reference')} opened: {p.get('type')} for "
                    f"{p.get('service_area') or 'the front door'}")
        return "console"

    async def thread(self, item: OutboxItem, review: ReviewItem) -> str | None:
        where = item.payload.get("case_reference") or f"message #{item.payload.get('parent_message_id')}"
        self._print(f"reply #{item.message_id} joined {where}: {review.subject}")
        return "console"

    async def alert(self, text: str) -> str | None:
        self._print(f"ALERT: {text}")
        return "console"


def _choose(prompt: str, options: list[str], ask: Callable[[str], str], say: Callable[[str], None],
            current: str | None) -> str:
    for i, option in enumerate(options, 1):
        say(f"    {i}. {option}" + ("  (suggested)" if option == current else ""))
    while True:
        answer = ask(f"  {prompt} [1-{len(options)}{', Enter keeps the suggestion' if current in options else ''}]: ")
        answer = answer.strip()
        if not answer and current in options:
            return current
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1]
        if answer in options:
            return answer
        say("  please answer with a number from the list")


def review_session(service: TriageService, officer: str | None = None, ask: Callable[[str], str] = input,
                   say: Callable[[str], None] = print, limit: int = 100) -> int:
    """Walk through suggestions awaiting review; returns how many decisions were recorded."""
    officer = officer or getpass.getuser()
    waiting = service.awaiting_review(limit=limit)
    if not waiting:
        say("nothing waiting for review")
        return 0
    decided = 0
    tax = service.taxonomy
    for message_id in waiting:
        item = service.review_item(message_id)
        say("")
        say(format_item(item))
        while True:
            answer = ask("  [c]onfirm, c[h]ange, [d]ismiss (not feedback), [s]kip, [q]uit: ").strip().lower()
            if answer in ("q", "quit"):
                return decided
            if answer in ("s", "skip", ""):
                break
            try:
                if answer in ("c", "confirm"):
                    result = service.decide(Decision(message_id, officer, "confirm"))
                elif answer in ("h", "change"):
                    type_ = _choose("type", list(TYPES), ask, say, item.type)
                    category = _choose("category", list(tax.categories), ask, say, item.category) \
                        if type_ in CATEGORISED_TYPES else None
                    area = _choose("service area", list(tax.service_areas), ask, say, item.service_area) \
                        if type_ in ROUTED_TYPES else None
                    result = service.decide(Decision(message_id, officer, "change", type=type_, category=category,
                                                     service_area=area))
                elif answer in ("d", "dismiss"):
                    result = service.decide(Decision(message_id, officer, "dismiss"))
                else:
                    say("  please answer c, h, d, s or q")
                    continue
            except ServiceError as exc:
                say(f"  cannot record that: {exc}")
                continue
            if not result.changed:
                say(f"  already decided by {result.officer} ({result.action}); nothing changed")
            elif result.case_reference:
                due = f", acknowledge by {result.acknowledgement_due:%a %d %b}" if result.acknowledgement_due else ""
                say(f"  case {result.case_reference} opened{due}")
                decided += 1
            else:
                say("  recorded")
                decided += 1
            break
    return decided
