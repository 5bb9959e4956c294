"""Socket Mode (the default): the running app connects over a WebSocket and handles a button press."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from slack_helpers import OFFICER, REVIEW, block_action, decisions, email_bytes, wait_for
from fake_socket import FakeSocketMode

from triage.ports import Incoming

from connectors.slack.cards import CONFIRM
from connectors.slack.runner import SlackRuntime


@pytest.fixture
def socket_server(fake):
    server = FakeSocketMode().start()
    fake.socket_url = server.url
    yield server
    server.stop()


def test_socket_mode_runtime_posts_cards_and_handles_a_click(settings, client, service, fake, socket_server):
    socket_settings = replace(settings, mode="socket", signing_secret="")
    runtime = SlackRuntime(socket_settings, service, client)
    message_id = service.ingest_now(Incoming(source="imap:feedback/INBOX", kind="email", raw=email_bytes(),
                                             received_at=datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc)))
    service.process_pending()
    fake.fail(500, times=1, methods={"apps.connections.open"})  # Slack unreachable at start-up: retried
    runtime.start()
    try:
        card = wait_for(lambda: fake.messages(REVIEW), what="card from the dispatcher thread")[0]
        wait_for(lambda: socket_server.connections, what="socket connection")
        assert [c.status for c in fake.calls_to("apps.connections.open", ok=None)] == [500, 200]
        assert fake.calls_to("apps.connections.open")[0].headers["authorization"] == f"Bearer {fake.app_token}"
        socket_server.send({"envelope_id": "env-1", "type": "interactive", "accepts_response_payload": True,
                            "payload": block_action(CONFIRM, message_id, card["ts"], user=OFFICER)})
        wait_for(lambda: any(r.get("envelope_id") == "env-1" for r in socket_server.received), what="ack")
        wait_for(lambda: fake.find_message(REVIEW, card["ts"]).get("edited"), what="card update")
        assert [e.action for e in decisions(service)] == ["decision.confirm"]
        wait_for(lambda: service.outbox_pending("route") == [], what="routing by the dispatcher thread")
    finally:
        runtime.stop()
