"""Labelled data loading: errors name the file and line; the shipped corpus meets its card."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.core.conftest import ROOT, write_jsonl
from triage.corpus import CorpusError, load_examples
from triage.taxonomy import load_taxonomy

GOOD = {"id": "a1", "kind": "chat", "text": "Thanks to the OT", "type": "compliment", "category": None,
        "service_area": "Assessment & Prevention"}


def test_unknown_label_names_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [GOOD, {**GOOD, "id": "a2", "service_area": "Housing"}])
    with pytest.raises(CorpusError, match=r"x\.jsonl:2: unknown service area 'Housing'"):
        load_examples(tmp_path, load_taxonomy())


def test_bad_json_names_file_and_line(tmp_path):
    (tmp_path / "y.jsonl").write_text(json.dumps(GOOD) + "\n\n{broken\n")
    with pytest.raises(CorpusError, match=r"y\.jsonl:3: not valid JSON"):
        load_examples(tmp_path, load_taxonomy())


def test_wrong_type_and_missing_category(tmp_path):
    path = write_jsonl(tmp_path / "z.jsonl", [{**GOOD, "type": "complaint"}])
    with pytest.raises(CorpusError, match=r"z\.jsonl:1: a complaint needs a category"):
        load_examples(path, load_taxonomy())
    path = write_jsonl(tmp_path / "w.jsonl", [{**GOOD, "type": "praise"}])
    with pytest.raises(CorpusError, match=r"w\.jsonl:1: unknown type 'praise'"):
        load_examples(path, load_taxonomy())


def test_duplicate_ids_are_refused(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [GOOD, GOOD])
    with pytest.raises(CorpusError, match="duplicate id 'a1'"):
        load_examples(tmp_path, load_taxonomy())


def test_csv_evaluation_file_with_partial_labels(tmp_path):
    path = tmp_path / "eval.csv"
    path.write_text("id,text,category\n1,Nobody rang me back,Communication\n2,Waited weeks,Timeliness\n")
    examples = load_examples(path, load_taxonomy(), require_type=False)
    assert [e.labels.category for e in examples] == ["Communication", "Timeliness"]
    path.write_text("id,text,category\n1,x,Rudeness\n")
    with pytest.raises(CorpusError, match=r"eval\.csv:2: unknown category 'Rudeness'"):
        load_examples(path, load_taxonomy(), require_type=False)


def test_shipped_corpus_meets_the_data_card_minimums():
    examples = load_examples(ROOT / "training_data", load_taxonomy())
    types = Counter(e.labels.type for e in examples)
    complaints = Counter(e.labels.category for e in examples if e.labels.type == "complaint")
    areas = Counter(e.labels.service_area for e in examples if e.labels.service_area)
    emails = sum(e.kind == "email" for e in examples)
    assert len(examples) >= 1200
    assert emails / len(examples) >= 0.40
    assert min(complaints.values()) >= 60 and len(complaints) == 5
    assert min(areas.values()) >= 60 and len(areas) == 7
    assert types["enquiry"] >= 100 and types["other"] >= 100 and types["comment"] >= 60
    # every email in the corpus is a complete message the reader parses into something to read
    for e in examples:
        if e.kind == "email":
            parsed = e.parsed()
            assert parsed.sender_address and parsed.sent_at is not None, e.where
            assert parsed.model_text.strip(), e.where


def test_data_card_counts_match_the_corpus():
    card = (ROOT / "training_data" / "README.md").read_text("utf-8")
    examples = load_examples(ROOT / "training_data", load_taxonomy())
    assert f"| total | {len(examples)} |" in card
