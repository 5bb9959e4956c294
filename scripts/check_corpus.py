#!/usr/bin/env python3
"""Check labelled JSONL files before they join the corpus.

Every line must parse, carry labels the taxonomy knows, and (for ``kind: email``)
be a complete message with From, To, Subject and Date headers and a body the
cleaner keeps. Prints the counts per label and per length band.

    python scripts/check_corpus.py training_data/some_file.jsonl [...]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from triage.corpus import CorpusError, load_examples
from triage.taxonomy import load_taxonomy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    taxonomy = load_taxonomy()
    problems = 0
    for path in args.files:
        try:
            examples = load_examples(path, taxonomy)
        except CorpusError as exc:
            print(f"ERROR {exc}")
            problems += 1
            continue
        counts: dict[str, Counter] = {name: Counter() for name in ("kind", "type", "category", "service_area", "words")}
        for example in examples:
            parsed = example.parsed()
            if example.kind == "email":
                present = {"From": parsed.sender_address, "To": parsed.recipients,
                           "Subject": parsed.subject, "Date": parsed.sent_at}
                missing = [name for name, value in present.items() if not value]
                if missing:
                    print(f"ERROR {example.where}: email without {', '.join(missing)} header(s)")
                    problems += 1
            if not parsed.clean_text.strip() and example.labels.type != "other":
                print(f"ERROR {example.where}: nothing left after cleaning")
                problems += 1
            words = len(parsed.model_text.split())
            band = "1-9" if words < 10 else "10-29" if words < 30 else "30-99" if words < 100 else "100+"
            counts["kind"][example.kind] += 1
            counts["type"][example.labels.type] += 1
            counts["category"][str(example.labels.category)] += 1
            counts["service_area"][str(example.labels.service_area)] += 1
            counts["words"][band] += 1
        print(f"{path}: {len(examples)} messages")
        for name, counter in counts.items():
            print(f"  {name}: {dict(sorted(counter.items()))}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
