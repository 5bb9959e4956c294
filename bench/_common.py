"""Shared helpers for the benchmarks: where the evaluation data lives."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def nhs_dir() -> Path:
    """../shared/data/nhs-feedback beside the checkout, or $TRIAGE_NHS_DATA."""
    override = os.environ.get("TRIAGE_NHS_DATA")
    path = Path(override) if override else ROOT.parent / "shared" / "data" / "nhs-feedback"
    if not (path / "type-eval.csv").is_file():
        sys.exit(f"evaluation data not found at {path} (expected type-eval.csv and category-eval.csv); "
                 "set TRIAGE_NHS_DATA to its folder")
    return path
