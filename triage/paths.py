"""Where the shipped model and training corpus live, installed or in a checkout."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _first(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def shipped_models_dir() -> Path:
    """The folder holding the model artifact and its card ($TRIAGE_MODEL_DIR overrides)."""
    if os.environ.get("TRIAGE_MODEL_DIR"):
        return Path(os.environ["TRIAGE_MODEL_DIR"])
    return _first(_PACKAGE / "shipped_models", _PACKAGE.parent / "models")


def training_data_dir() -> Path:
    """The folder holding the project's own labelled corpus ($TRIAGE_TRAINING_DATA overrides)."""
    if os.environ.get("TRIAGE_TRAINING_DATA"):
        return Path(os.environ["TRIAGE_TRAINING_DATA"])
    return _first(_PACKAGE / "shipped_training_data", _PACKAGE.parent / "training_data")


def cache_dir() -> Path:
    """Where a model rebuilt for this machine's scikit-learn is kept ($TRIAGE_CACHE_DIR overrides)."""
    if os.environ.get("TRIAGE_CACHE_DIR"):
        return Path(os.environ["TRIAGE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asc-triage"
