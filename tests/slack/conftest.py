"""Slack test fixtures: the fake Web API, a real service on SQLite, and the Bolt app served over HTTP.

Interaction payloads go through Bolt's real HTTP handling (the WSGI adapter on
loopback) with signatures computed the way Slack does (see slack_helpers.py).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_slack import FakeSlack  # noqa: E402
from slack_helpers import (AREA_CHANNELS, ELSEWHERE, GROUP, GROUPED, INTAKE, OFFICER, RESIDENT, REVIEW,  # noqa: E402
                           BoltHttp, email_bytes, settings_env, settings_table)

from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator  # noqa: E402


@pytest.fixture
def fake():
    with FakeSlack() as fake:
        fake.add_channel(REVIEW, "triage-review")
        for area, channel in AREA_CHANNELS.items():
            fake.add_channel(channel, "asc-" + area.lower().replace(" & ", "-").replace(" ", "-"))
        fake.add_channel(INTAKE, "feedback-intake")
        fake.add_channel(ELSEWHERE, "random", is_member=False)
        fake.usergroups[GROUP] = [GROUPED]
        fake.add_user(RESIDENT, "Sam Okafor")
        fake.add_user(OFFICER, "Priya Shah")
        yield fake


@pytest.fixture
def settings(fake):
    from connectors.slack.settings import slack_settings

    settings = slack_settings(settings_table(), settings_env(fake))
    settings.check()
    return settings


@pytest.fixture
def client(settings):
    from connectors.slack.client import make_web_client

    return make_web_client(settings, interval=FixedValueRetryIntervalCalculator(0.01))


@pytest.fixture
def service(tmp_path, shipped_model):
    from triage.config import Settings
    from triage.service import TriageService
    from triage.store import open_store
    from triage.taxonomy import load_taxonomy

    store = open_store(f"sqlite:///{tmp_path}/triage.db")
    yield TriageService(store, shipped_model, load_taxonomy(), Settings())
    store.close()


@pytest.fixture
def reviewer(client, settings):
    from connectors.slack.reviewer import SlackReviewer

    return SlackReviewer(client, settings)


@pytest.fixture
def dispatcher(service, reviewer):
    from connectors.slack.reviewer import OutboxDispatcher

    return OutboxDispatcher(service, reviewer)


@pytest.fixture
def bolt(settings, service, client):
    from connectors.slack.app import build_app
    from connectors.slack.runner import serve_http

    app, deps = build_app(settings, service, client)
    server = serve_http(app, "127.0.0.1", 0, settings.http_path)
    yield BoltHttp(f"http://127.0.0.1:{server.server_port}{settings.http_path}", deps, app)
    server.shutdown()
    server.server_close()


@pytest.fixture
def posted_card(service, dispatcher, fake):
    """A complaint email stored, classified and shown: (message id, card ts)."""
    from triage.ports import Incoming

    message_id = service.ingest_now(Incoming(source="imap:feedback/INBOX", kind="email", raw=email_bytes(),
                                             received_at=datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc)))
    service.process_pending()
    assert dispatcher.dispatch_once() == 1
    cards = fake.messages(REVIEW)
    assert len(cards) == 1
    return message_id, cards[0]["ts"]


