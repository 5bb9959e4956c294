"""Fixtures for the core tests: a small model trained once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """Every third example of the project's corpus, enough for fast, real training."""
    out = tmp_path_factory.mktemp("corpus")
    for file in sorted((ROOT / "training_data").glob("*.jsonl")):
        lines = [line for line in file.read_text("utf-8").splitlines() if line.strip()]
        (out / file.name).write_text("\n".join(lines[::3]) + "\n", "utf-8")
    return out


@pytest.fixture(scope="session")
def small_model_dir(small_corpus, tmp_path_factory) -> Path:
    from triage.training import train

    out = tmp_path_factory.mktemp("model")
    train(small_corpus, out, cv=False)
    return out


@pytest.fixture(scope="session")
def small_model(small_model_dir):
    from triage.artifacts import load_verified

    model, _ = load_verified(small_model_dir)
    return model


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path
