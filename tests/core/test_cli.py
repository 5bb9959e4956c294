"""The command line: classify, train, evaluate, exit codes and error lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"source", "type", "type_confidence", "category", "category_confidence", "service_area",
          "service_area_confidence", "needs_review", "reason"}


@pytest.fixture()
def inbox(tmp_path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "complaint.eml").write_bytes(
        b"From: Ann Lee <ann@example.org>\r\nTo: complaints@northbridge.gov.uk\r\nSubject: Missed calls\r\n"
        b"Date: Tue, 03 Mar 2026 10:12:00 +0000\r\n\r\nThe home care agency has missed my father's lunchtime "
        b"call four times this month. He has dementia and went without food. I want this investigated.\r\n")
    (tmp_path / "sub" / "thanks.txt").write_text("Mrs Patel rang to say a huge thank you to the reablement "
                                                 "team, they got her back on her feet after her fall.")
    (tmp_path / "sub" / "ask.json").write_text(json.dumps({"text": "Hi, how do I ask for a carer's assessment "
                                                           "for my husband? Thanks"}))
    (tmp_path / "auto.eml").write_bytes(b"From: x@example.org\r\nSubject: Out of office\r\n"
                                        b"Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_classify_folder_jsonl(inbox, capsys):
    code, out, err = run(capsys, "classify", str(inbox), "--format", "jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    by_name = {Path(r["source"]).name: r for r in rows}
    assert set(by_name) == {"complaint.eml", "thanks.txt", "ask.json", "auto.eml"}
    for row in rows:
        assert FIELDS <= set(row)
        assert isinstance(row["reason"], str) and row["reason"]
    assert by_name["complaint.eml"]["type"] == "complaint"
    assert by_name["complaint.eml"]["category"] is not None
    assert by_name["thanks.txt"]["type"] == "compliment"
    assert by_name["thanks.txt"]["category"] is None
    assert by_name["ask.json"]["type"] == "enquiry"
    assert by_name["ask.json"]["service_area"] is None
    assert by_name["auto.eml"]["type"] == "other" and "Auto-Submitted" in by_name["auto.eml"]["reason"]


def test_classify_table(inbox, capsys):
    code, out, _ = run(capsys, "classify", str(inbox / "complaint.eml"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["source", "type"]
    assert "complaint" in lines[1]


def test_unreadable_file_gets_an_error_line_and_the_run_goes_on(inbox, capsys):
    (inbox / "broken.json").write_text("{not json")
    code, out, err = run(capsys, "classify", str(inbox / "broken.json"), str(inbox / "missing.eml"),
                         str(inbox / "complaint.eml"), "--format", "jsonl")
    assert code == 1
    assert f"{inbox / 'broken.json'}: not valid JSON" in err
    assert f"{inbox / 'missing.eml'}" in err
    assert [json.loads(line)["type"] for line in out.splitlines()] == ["complaint"]


def test_classify_stdin(capsys, monkeypatch):
    data = b"From: a@example.org\r\nSubject: thanks\r\n\r\nThe OT who fitted dad's rails was fantastic, thank you.\r\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "classify", "-", "--format", "jsonl")
    row = json.loads(out)
    assert code == 0 and row["source"] == "-" and row["type"] == "compliment"


def test_evaluate_csv_prints_per_head_scores(tmp_path, capsys):
    path = tmp_path / "eval.csv"
    path.write_text("text,type,category\n"
                    "\"The carers keep missing visits, I want it put right\",complaint,Quality\n"
                    "\"Nobody returns my calls about mum's review\",complaint,Communication\n"
                    "\"Thank you to all the staff, wonderful care\",compliment,\n"
                    "\"How do I apply for a blue badge?\",enquiry,\n")
    code, out, _ = run(capsys, "evaluate", str(path))
    assert code == 0
    assert "== type: n=4 macro-F1=" in out and "== category: n=2" in out
    assert "confusion" in out and "precision" in out
    code, out, _ = run(capsys, "evaluate", str(path), "--format", "json")
    report = json.loads(out)
    assert report["type"]["n"] == 4 and 0 <= report["type"]["macro_f1"] <= 1


def test_evaluate_bad_label_is_a_clean_error(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("text,type\nhello,grumble\n")
    code, _, err = run(capsys, "evaluate", str(path))
    assert code == 2 and "bad.csv:2: unknown type 'grumble'" in err


def test_train_writes_artifact_and_card(small_corpus, tmp_path, capsys):
    code, out, _ = run(capsys, "train", "--data", str(small_corpus), "--out", str(tmp_path / "m"), "--no-cv")
    assert code == 0 and "trained on" in out
    assert (tmp_path / "m" / "triage-model.joblib").is_file()
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["training_examples"] > 300


def test_train_reports_bad_data_with_file_and_line(tmp_path, capsys):
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "1", "text": "x", "type": "complaint",
                                                  "category": "Speed", "service_area": "Localities"}) + "\n")
    code, _, err = run(capsys, "train", "--data", str(tmp_path), "--out", str(tmp_path / "m"))
    assert code == 2 and "d.jsonl:1: unknown category 'Speed'" in err


def test_console_script_help_and_tampered_model(tmp_path):
    exe = Path(sys.executable).with_name("triage")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    for command in ("classify", "train", "evaluate"):
        assert command in result.stdout
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    for name in ("model_card.json", "MODEL_CARD.md"):
        (model_dir / name).write_bytes((ROOT / "models" / name).read_bytes())
    (model_dir / "triage-model.joblib").write_bytes(b"not the shipped model")
    (tmp_path / "a.txt").write_text("hello")
    result = subprocess.run([str(exe), "classify", "--model-dir", str(model_dir), str(tmp_path / "a.txt")],
                            capture_output=True, text=True, env={**os.environ, "TRIAGE_MODEL_DIR": ""})
    assert result.returncode == 2
    assert "does not match the model card" in result.stderr and "Traceback" not in result.stderr
