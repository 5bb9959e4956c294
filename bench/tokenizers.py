#!/usr/bin/env python3
"""spaCy against plain scikit-learn tokenisation, and spaCy's sentencizer against a regex splitter.

For each tokeniser: 5-fold cross-validated macro-F1 per head on training_data/,
the external NHS scores (when ../shared/data/nhs-feedback is present) and the
classification rate. The sentence splitters are compared on speed and on how often
the sentence chosen as the reason, classified alone, gets the message's own type.

    python bench/tokenizers.py [--write-card]
"""

from __future__ import annotations

import argparse
import csv
import time

from _common import ROOT

from sklearn.metrics import f1_score

from triage.artifacts import read_card, write_card
from triage.corpus import load_examples
from triage.message import read_chat
from triage.model import TriageModel
from triage.paths import shipped_models_dir
from triage.taxonomy import load_taxonomy
from triage.training import cross_validate, texts_and_labels


def nhs_scores(model: TriageModel) -> str:
    folder = ROOT.parent / "shared" / "data" / "nhs-feedback"
    if not (folder / "type-eval.csv").is_file():
        return "NHS files not present"
    rows = list(csv.DictReader(open(folder / "type-eval.csv", encoding="utf-8")))
    types = [s.type for s in model.predict_texts([read_chat(r["text"]).model_text for r in rows], with_reasons=False)]
    type_f1 = f1_score([r["type"] for r in rows], types, labels=["complaint", "compliment"], average="macro")
    rows = list(csv.DictReader(open(folder / "category-eval.csv", encoding="utf-8")))
    probs = model.predict_proba([read_chat(r["text"]).model_text for r in rows])["category"]
    classes = model.classes("category")
    cat_f1 = f1_score([r["category"] for r in rows], [classes[int(p.argmax())] for p in probs], average="macro")
    return f"NHS type {type_f1:.3f}, NHS category {cat_f1:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    examples = load_examples(ROOT / "training_data", load_taxonomy())
    texts, labels = texts_and_labels(examples)
    results = {}
    for tokenizer in ("spacy", "lemmas", "sklearn"):
        cv = cross_validate(texts, labels, tokenizer=tokenizer).macro_f1()
        model = TriageModel(tokenizer=tokenizer).fit(texts, labels)
        start = time.perf_counter()
        model.predict_texts(texts * 3)
        rate = 3 * len(texts) / (time.perf_counter() - start)
        line = (f"CV macro-F1 type {cv['type']:.3f}, category {cv['category']:.3f}, service area "
                f"{cv['service_area']:.3f}; {nhs_scores(model)}; {rate:,.0f} msg/s classify + reasons")
        results[f"tokenizer {tokenizer}"] = line
        print(f"{tokenizer:8} {line}", flush=True)
    model = TriageModel(tokenizer="spacy").fit(texts, labels)
    for splitter in ("regex", "spacy"):
        model.sentence_splitter = splitter
        start = time.perf_counter()
        suggestions = model.predict_texts(texts)
        rate = len(texts) / (time.perf_counter() - start)
        alone = model.predict_texts([s.reason.sentence or t for s, t in zip(suggestions, texts)], with_reasons=False)
        agree = sum(a.type == s.type for a, s in zip(alone, suggestions)) / len(texts)
        line = f"{rate:,.0f} msg/s; reason sentence alone gets the message's type in {agree:.1%} of messages"
        results[f"sentences {splitter}"] = line
        print(f"sentences {splitter:6} {line}", flush=True)
    if args.write_card:
        card = read_card(shipped_models_dir())
        card["tokenizer_comparison"] = results
        write_card(shipped_models_dir(), card)
        print("recorded in models/model_card.json")
    print("reproduce: python bench/tokenizers.py")


if __name__ == "__main__":
    main()
