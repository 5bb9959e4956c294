"""Setting up: settings from triage.toml and the environment, the Web API client's retries, the doctor, the manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from slack_helpers import GROUP, OFFICER, REVIEW, settings_env, settings_table

from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from triage.config import ConfigError

from connectors.slack.client import make_web_client
from connectors.slack.doctor import check_slack, doctor
from connectors.slack.settings import slack_settings

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "connectors" / "slack" / "manifest.json"


# ---------------------------------------------------------------- settings ---


def test_environment_supplies_secrets_and_overrides(fake):
    settings = slack_settings(settings_table(review_channel="C0FROMFILE"), settings_env(fake))
    assert settings.review_channel == REVIEW, "TRIAGE_REVIEW_CHANNEL overrides the file"
    assert settings.api_url == fake.base_url
    assert settings.officers == {OFFICER} and settings.officer_group == GROUP
    assert "xoxb" not in repr(settings) and "xapp" not in repr(settings)


def test_redaction_setting_comes_from_review_excerpt():
    assert slack_settings({}, {}, "full").redaction == "full"
    with pytest.raises(ConfigError, match="redaction must be one of full, excerpt, none"):
        slack_settings({}, {}, "some")


def test_defaults_are_socket_mode_and_redacted_excerpt():
    settings = slack_settings({"officers": [OFFICER]}, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1",
                                                        "TRIAGE_REVIEW_CHANNEL": "C0REVIEW"})
    settings.check()
    assert settings.mode == "socket" and settings.redaction == "excerpt"
    assert settings.api_url == "https://slack.com/api/"


@pytest.mark.parametrize("table,message", [
    ({"bot_token": "xoxb-1"}, "secrets go in environment variables"),
    ({"signing_secret": "s"}, "must not be in the config file"),
    ({"officers": ["jane"]}, "is not a Slack user ID"),
    ({"officer_group": "officers"}, "is not a user group ID"),
    ({"routing": {"Localities": "not a channel!"}}, "is not a channel ID"),
    ({"colour": "blue"}, "unknown key 'colour'"),
    ({"http_port": "3000"}, "must be a non-negative number"),
])
def test_bad_settings_name_the_key_and_the_fix(table, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        slack_settings(table, {})


@pytest.mark.parametrize("env,table,message", [
    ({}, {}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxp-user"}, {}, "starting with xoxb-"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, {}, "SLACK_APP_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, {"mode": "http"}, "SLACK_SIGNING_SECRET"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, {}, "TRIAGE_REVIEW_CHANNEL"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "TRIAGE_REVIEW_CHANNEL": "C0R"}, {}, "names no officers"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, {"mode": "webhook"}, "mode = 'webhook'"),
])
def test_start_up_check_names_what_is_missing(env, table, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        slack_settings(table, env).check()


# ------------------------------------------------------------------ client ---


def test_client_has_connection_and_rate_limit_retries(settings):
    client = make_web_client(settings)
    kinds = {type(h) for h in client.retry_handlers}
    assert {ConnectionErrorRetryHandler, RateLimitErrorRetryHandler} <= kinds
    assert client.base_url == settings.api_url


def test_rate_limited_call_is_retried_through_the_real_client(client, fake):
    fake.fail(429, times=2, retry_after=0, methods={"conversations.info"})
    assert client.conversations_info(channel=REVIEW)["channel"]["name"] == "triage-review"
    calls = fake.calls_to("conversations.info", ok=None)
    assert [c.status for c in calls] == [429, 429, 200]


# ------------------------------------------------------------------ doctor ---


def test_doctor_all_good(fake, client):
    checks = doctor(settings_table(mode="socket"), settings_env(fake), client=client)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    names = [c.name for c in checks]
    assert "slack bot token" in names and "slack app token" in names and "slack review channel C0REVIEW" in names
    assert any(n.startswith("slack routing (Localities)") for n in names)
    assert "slack intake channel C0INTAKE" in names and "slack officer group" in names


def test_doctor_names_each_problem_and_its_fix(fake):
    fake.channels["C0INTAKE"].is_member = False
    del fake.channels["C0FINANCE"]
    fake.usergroups.clear()
    env = settings_env(fake, SLACK_APP_TOKEN="xapp-wrong")
    checks = {c.name: c for c in doctor(settings_table(mode="socket"), env)}
    assert not checks["slack intake channel C0INTAKE"].ok
    assert "/invite @Triage" in checks["slack intake channel C0INTAKE"].detail
    assert "channel_not_found" in checks["slack routing (Customer Financial Affairs) channel C0FINANCE"].detail
    assert not checks["slack app token"].ok and "SLACK_APP_TOKEN" in checks["slack app token"].detail
    assert not checks["slack officer group"].ok
    assert checks["slack review channel C0REVIEW"].ok


def test_doctor_with_a_bad_bot_token(fake):
    checks = doctor(settings_table(), settings_env(fake, SLACK_BOT_TOKEN="xoxb-revoked"))
    failed = [c for c in checks if not c.ok]
    assert failed[-1].name == "slack bot token" and "invalid_auth" in failed[-1].detail
    assert all("xoxb-revoked" not in c.detail for c in checks)


def test_doctor_with_no_environment():
    checks = doctor({"officers": [OFFICER]}, {})
    assert len(checks) == 1 and not checks[0].ok and "SLACK_BOT_TOKEN" in checks[0].detail


def test_doctor_when_slack_is_unreachable(settings):
    from dataclasses import replace

    from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

    gone = replace(settings, api_url="http://127.0.0.1:9/api/")
    checks = check_slack(gone, make_web_client(gone, interval=FixedValueRetryIntervalCalculator(0.01)))
    assert not checks[-1].ok and "cannot reach Slack" in checks[-1].detail


# ---------------------------------------------------------------- manifest ---

#: Web API methods the connector calls, and the bot scope each needs (from api.slack.com/methods).
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_postEphemeral": {"chat:write"},
    "views_open": set(), "conversations_info": {"channels:read", "groups:read"},
    "conversations_history": {"channels:history", "groups:history"},
    "usergroups_users_list": {"usergroups:read"}, "users_info": {"users:read"}, "auth_test": set(),
    "apps_connections_open": set(),
}


def test_manifest_asks_for_exactly_the_scopes_used():
    manifest = json.loads(MANIFEST.read_text("utf-8"))
    used: set[str] = set()
    for source in (ROOT / "connectors" / "slack").rglob("*.py"):
        for method in re.findall(r"client\.([a-z]+_[a-zA-Z_]+)\(", source.read_text("utf-8")):
            assert method in METHOD_SCOPES, f"{source.name} calls {method}: add its scope to the manifest"
            used |= METHOD_SCOPES[method]
    used.add("commands")  # the message shortcut
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == used
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"message.channels", "message.groups"}


def test_manifest_features_match_the_app():
    from connectors.slack.listeners.shortcuts import CALLBACK_ID

    manifest = json.loads(MANIFEST.read_text("utf-8"))
    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut == {**shortcut, "name": "Triage this message", "type": "message", "callback_id": CALLBACK_ID}
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
