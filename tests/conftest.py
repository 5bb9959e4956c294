"""Shared fixtures: real servers (see fixtures_servers.py) and the shipped model, loaded once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures_servers import dovecot, dovecot_without_idle, postgres_server  # noqa: E402,F401


@pytest.fixture(scope="session")
def shipped_model():
    """The shipped model, loaded once per test session."""
    from triage.training import load_model

    return load_model()
