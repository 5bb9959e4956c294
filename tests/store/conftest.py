"""The store tests run on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import pytest

from triage.config import Settings
from triage.service import TriageService
from triage.store import open_store
from triage.taxonomy import load_taxonomy


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/triage.db"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.close()


@pytest.fixture
def service(store, shipped_model) -> TriageService:
    return TriageService(store, shipped_model, load_taxonomy(), Settings())
