"""The installable package: every code package listed, shipped model and corpus inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(ROOT), include=["triage*", "connectors*"]))
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}"


def test_wheel_carries_model_corpus_vectors_and_migrations(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "triage/shipped_models/triage-model.joblib" in names
    assert "triage/shipped_models/model_card.json" in names
    assert "triage/data/word_vectors_50d.npz" in names
    assert "triage/taxonomy.toml" in names
    assert any(n.startswith("triage/migrations/versions/") for n in names)
    corpus = {p.name for p in (ROOT / "training_data").glob("*.jsonl")}
    assert corpus and {f"triage/shipped_training_data/{c}" for c in corpus} <= names
