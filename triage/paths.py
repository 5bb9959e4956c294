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
    """The folder holding the shipped model artifact and its card."""
    return _first(_PACKAGE / "shipped_models", _PACKAGE.parent / "models")


def training_data_dir() -> Path:
    """The folder holding the project's own labelled corpus."""
    return _first(_PACKAGE / "shipped_training_data", _PACKAGE.parent / "training_data")


def cache_dir() -> Path:
    """Where a model rebuilt for this machine's scikit-learn is kept."""
    base = os.environ.get("TRIAGE_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asc-triage"
