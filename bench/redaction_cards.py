"""Speed of redaction and of building review cards: messages per second on the project's own corpus.

Reproduce with: .venv/bin/python bench/redaction_cards.py
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import _common  # noqa: F401  (puts the checkout on sys.path)

from triage.paths import training_data_dir
from triage.ports import ReviewItem
from triage.redaction import redact, review_text

from connectors.slack.cards import review_card


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted(training_data_dir().glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def rate(label: str, count: int, seconds: float, chars: int) -> None:
    print(f"{label:<34} {count:>7} items  {seconds:7.3f} s  {count / seconds:>10,.0f} /s  "
          f"{chars / seconds / 1e6:6.1f} M chars/s")


def main() -> None:
    texts = corpus_texts()
    chars = sum(len(t) for t in texts)
    start = time.perf_counter()
    for text in texts:
        redact(text, ["Jean Parker"])
    rate("redact (whole message)", len(texts), time.perf_counter() - start, chars)
    start = time.perf_counter()
    for text in texts:
        review_text(text, "excerpt", ["Jean Parker"])
    rate("review_text (600-char excerpt)", len(texts), time.perf_counter() - start, chars)
    big = ("Mrs Jones rang 07700 900123 about LS1 4AP, NHS 943 476 5919, born 1/2/1940. " * 2700)[:200_000]
    start = time.perf_counter()
    for _ in range(20):
        redact(big)
    rate("redact (200,000-char message)", 20, time.perf_counter() - start, 20 * len(big))
    when = datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc)
    items = [ReviewItem(i, "Subject", review_text(t), "imap:feedback/INBOX", when, "complaint", 0.9, "Quality", 0.7,
                        "Localities", 0.8, False, "key terms: late") for i, t in enumerate(texts)]
    start = time.perf_counter()
    for item in items:
        review_card(item)
    rate("review_card (excerpt)", len(items), time.perf_counter() - start, chars)
    print(f"corpus: {len(texts)} messages, {chars:,} characters; command: .venv/bin/python bench/redaction_cards.py")


if __name__ == "__main__":
    main()
