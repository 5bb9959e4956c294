#!/usr/bin/env python3
"""Rewrite the counts in training_data/README.md from the corpus itself.

    .venv/bin/python scripts/data_card.py
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.corpus import load_examples  # noqa: E402
from triage.taxonomy import load_taxonomy  # noqa: E402

START, END = "<!-- counts:start -->", "<!-- counts:end -->"


def table(title: str, counts: Counter, order: list[str]) -> list[str]:
    rows = [f"| {title} | messages |", "|---|---|"]
    rows += [f"| {k} | {counts.get(k, 0)} |" for k in order]
    return rows + [""]


def main() -> None:
    taxonomy = load_taxonomy()
    examples = load_examples(ROOT / "training_data", taxonomy)
    kinds = Counter(e.kind for e in examples)
    types = Counter(e.labels.type for e in examples)
    categories = Counter(e.labels.category for e in examples if e.labels.type == "complaint")
    comment_categories = Counter(e.labels.category for e in examples if e.labels.type == "comment")
    areas = Counter(e.labels.service_area for e in examples if e.labels.service_area)
    files = Counter(Path(e.where.rsplit(":", 1)[0]).name for e in examples)
    words = sorted(len(e.parsed().clean_text.split()) for e in examples)
    lines = [START, "", "| measure | value |", "|---|---|", f"| total | {len(examples)} |",
             f"| emails (complete RFC 5322 messages) | {kinds['email']} ({kinds['email'] / len(examples):.0%}) |",
             f"| chat messages | {kinds['chat']} |",
             f"| words in the cleaned text: min / median / max | {words[0]} / {words[len(words) // 2]} / {words[-1]} |",
             ""]
    lines += table("type", types, list(taxonomy.types))
    lines += table("complaint category", categories, list(taxonomy.categories))
    lines += table("comment category", comment_categories, list(taxonomy.categories))
    lines += table("service area (complaints, compliments, comments)", areas, list(taxonomy.service_areas))
    lines += table("file", files, sorted(files))
    lines.append(END)
    path = ROOT / "training_data" / "README.md"
    text = path.read_text("utf-8")
    text = re.sub(re.escape(START) + r".*?" + re.escape(END), "\n".join(lines), text, flags=re.S)
    path.write_text(text, "utf-8")
    print(f"updated {path}: {len(examples)} examples")


if __name__ == "__main__":
    main()
