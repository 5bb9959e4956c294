"""Helpers for the Slack tests: names of the fake workspace, signed requests, payload builders.

Interaction payloads go through Bolt's real HTTP handling (the WSGI adapter on
loopback) with signatures computed the way Slack does:
``v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{body}")``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlencode

from fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack

SIGNING_SECRET = "3c5f1e0a9b8d7c6e5f4a3b2c1d0e9f8a"
REVIEW, INTAKE, ELSEWHERE = "C0REVIEW", "C0INTAKE", "C0RANDOM"
#: Every service area has a channel except Mental Health (to test an unmapped area).
AREA_CHANNELS = {
    "Localities": "C0LOCAL", "Assessment & Prevention": "C0ASSESS", "Integrated Learning Disabilities": "C0ILD",
    "Customer Financial Affairs": "C0FINANCE", "Integrated Care Quality": "C0QUALITY",
    "Hospitals & Health Partnerships": "C0HOSP",
}
FINANCE = AREA_CHANNELS["Customer Financial Affairs"]
OFFICER, GROUPED, STRANGER, RESIDENT = "U0OFFICER", "U0GROUPED", "U0STRANGER", "U0RESIDENT"
GROUP = "S0OFFICERS"

COMPLAINT = ("I am writing to make a formal complaint. The carers from the home care agency were late again "
             "this week and missed two visits to my mother, so she had no lunch. Nobody phoned to tell us. "
             "Please call me on 07700 900123. Mrs Jones at the agency was rude when I rang.")


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until ``predicate`` is truthy (Bolt runs listeners after acknowledging)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def email_bytes(subject: str = "Mum's home care", body: str = COMPLAINT, sender: str = "Jean Parker <jean.parker@example.org>",
                message_id: str = "<c1@example.org>", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "feedback@northbridge.gov.uk"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc))
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def signed_headers(body: bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class BoltHttp:
    """The Bolt app served over HTTP on loopback, and ways to send it signed requests."""

    url: str
    deps: Any
    app: Any

    def send(self, body: bytes, content_type: str, *, timestamp: int | None = None, tamper: bool = False,
             headers: dict[str, str] | None = None) -> Response:
        sign = signed_headers(body, timestamp)
        if tamper:
            body = body.replace(b"U0STRANGER", b"U0OFFICER") if b"U0STRANGER" in body else body + b" "
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": content_type, **sign, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return Response(answer.status, answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode("utf-8"))

    def interact(self, payload: dict, **kwargs: Any) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(body, "application/x-www-form-urlencoded", **kwargs)

    def event(self, event: dict, event_id: str = "Ev0001", **kwargs: Any) -> Response:
        envelope = {"token": "unused", "team_id": "T0FAKE", "api_app_id": "A0TRIAGE", "type": "event_callback",
                    "event_id": event_id, "event_time": int(time.time()), "event": event,
                    "authorizations": [{"team_id": "T0FAKE", "user_id": "UBOT", "is_bot": True}]}
        return self.send(json.dumps(envelope).encode(), "application/json", **kwargs)


def settings_table(**overrides: Any) -> dict:
    table = {
        "mode": "http", "officers": [OFFICER], "officer_group": GROUP,
        "routing": dict(AREA_CHANNELS),
        "intake_channels": [INTAKE], "http_host": "127.0.0.1", "http_port": 0, "dispatch_seconds": 0.05,
    }
    table.update(overrides)
    return table


def settings_env(fake: FakeSlack, **overrides: str) -> dict[str, str]:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": fake.base_url, "TRIAGE_REVIEW_CHANNEL": REVIEW}
    env.update(overrides)
    return env


def block_action(action_id: str, message_id: int, ts: str, user: str = OFFICER, action_ts: str = "1.1",
                 channel: str = REVIEW, fake: FakeSlack | None = None) -> dict:
    """A block_actions payload as Slack sends it when a card's button is pressed."""
    return {
        "type": "block_actions", "team": {"id": "T0FAKE"}, "api_app_id": "A0TRIAGE",
        "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"trig-{action_ts}", "channel": {"id": channel, "name": "triage-review"},
        "message": {"type": "message", "ts": ts, "text": "card"},
        "response_url": (fake.response_url if fake else "http://127.0.0.1:9/response/") + "x",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "triage_actions",
                     "value": json.dumps({"message_id": message_id}), "action_ts": action_ts}],
    }


def decisions(service) -> list:
    from sqlalchemy import select

    from triage.store.models import AuditEntry

    with service.store.reading() as session:
        return [e for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if e.action.startswith("decision.")]
