"""Slack settings: the ``[slack]`` table of triage.toml plus environment variables for secrets.

Secrets (bot token, app-level token, signing secret) come only from the
environment: ``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``, ``SLACK_SIGNING_SECRET``.
``SLACK_API_URL`` and ``TRIAGE_REVIEW_CHANNEL`` override the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from triage.config import ConfigError
from triage.redaction import DEFAULT_SETTING, check_setting

DEFAULT_API_URL = "https://slack.com/api/"
MODES = ("socket", "http")
SECRET_KEYS = {"bot_token", "app_token", "signing_secret", "token", "client_secret"}
KNOWN_KEYS = {"mode", "review_channel", "api_url", "officers", "officer_group", "routing", "intake_channels",
              "http_host", "http_port", "http_path", "rate_limit_retries", "connection_retries",
              "officer_cache_seconds", "dispatch_seconds", "redaction"}
_CHANNEL = re.compile(r"^(?:[CGD][A-Z0-9]{2,}|#?[a-z0-9][a-z0-9._-]{0,79})$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")


@dataclass
class SlackSettings:
    """Everything the Slack connector needs, validated."""

    bot_token: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    mode: str = "socket"
    review_channel: str = ""
    officers: frozenset[str] = frozenset()
    officer_group: str | None = None
    routing: dict[str, str] = field(default_factory=dict)
    intake_channels: frozenset[str] = frozenset()
    redaction: str = DEFAULT_SETTING
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    http_path: str = "/slack/events"
    rate_limit_retries: int = 3
    connection_retries: int = 2
    officer_cache_seconds: float = 300.0
    dispatch_seconds: float = 2.0

    def check(self) -> None:
        """Raise ConfigError naming the key and the fix for anything the app cannot start without."""
        if self.mode not in MODES:
            raise ConfigError(f"[slack] mode = {self.mode!r}: use \"socket\" (default) or \"http\"")
        if not self.bot_token:
            raise ConfigError("Slack: set the environment variable SLACK_BOT_TOKEN to the app's Bot User "
                              "OAuth Token (xoxb-...; see docs/slack.md)")
        if not self.bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if self.mode == "socket" and not self.app_token:
            raise ConfigError("Slack Socket Mode needs the environment variable SLACK_APP_TOKEN (an app-level "
                              "token xapp-... with connections:write), or set [slack] mode = \"http\"")
        if self.mode == "socket" and not self.app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if self.mode == "http" and not self.signing_secret:
            raise ConfigError("Slack HTTP mode needs the environment variable SLACK_SIGNING_SECRET "
                              "(Basic Information > Signing Secret)")
        if not self.review_channel:
            raise ConfigError("Slack: no review channel; set [slack] review_channel = \"C0123...\" "
                              "or the environment variable TRIAGE_REVIEW_CHANNEL")
        if not self.officers and not self.officer_group:
            raise ConfigError("[slack] names no officers: set officers = [\"U0123...\"] and/or "
                              "officer_group = \"S0123...\" (nobody could confirm a case otherwise)")

    def channel_for(self, service_area: str | None) -> str | None:
        """The channel a case for ``service_area`` is routed to, if the config names one."""
        if service_area is None:
            return None
        return self.routing.get(service_area)


def _str_list(table: Mapping[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[slack] {key} must be a list of strings, e.g. {key} = [\"C0123ABCD\"]")
    return [v.strip() for v in value]


def _number(table: Mapping[str, Any], key: str, default: float, kind: type = int) -> Any:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"[slack] {key} must be a non-negative number, got {value!r}")
    return kind(value)


def _channel(value: str, where: str) -> str:
    value = value.strip()
    if not _CHANNEL.match(value):
        raise ConfigError(f"{where} = {value!r} is not a channel ID (C0123ABCD) or channel name")
    return value


def slack_settings(table: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                   redaction: str | None = None) -> SlackSettings:
    """Build SlackSettings from the ``[slack]`` table, the environment and the ``[review] excerpt``
    redaction setting (full, excerpt or none); not yet checked."""
    table = dict(table or {})
    env = os.environ if env is None else env
    secrets = sorted(SECRET_KEYS & set(table))
    if secrets:
        raise ConfigError(f"[slack] {secrets[0]} must not be in the config file: secrets go in environment "
                          "variables (SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET)")
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"[slack]: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(KNOWN_KEYS))})")
    officers = _str_list(table, "officers")
    bad = [o for o in officers if not _USER.match(o)]
    if bad:
        raise ConfigError(f"[slack] officers: {bad[0]!r} is not a Slack user ID (U0123ABCD; profile > "
                          "three dots > Copy member ID)")
    group = table.get("officer_group")
    if group is not None and (not isinstance(group, str) or not _GROUP.match(group)):
        raise ConfigError(f"[slack] officer_group = {group!r} is not a user group ID (S0123ABCD)")
    routing = table.get("routing", {})
    if not isinstance(routing, dict):
        raise ConfigError("[slack.routing] must map service areas to channels, e.g. \"Localities\" = \"C0123\"")
    routes = {str(area): _channel(str(ch), f"[slack.routing] {area!r}") for area, ch in routing.items()}
    review = env.get("TRIAGE_REVIEW_CHANNEL") or table.get("review_channel") or ""
    if not isinstance(review, str):
        raise ConfigError("[slack] review_channel must be a channel ID string")
    try:
        redaction = check_setting(redaction)
    except ValueError as exc:
        raise ConfigError(f"[review] excerpt: {exc}") from None
    api_url = env.get("SLACK_API_URL") or table.get("api_url") or DEFAULT_API_URL
    if not re.match(r"^https?://", str(api_url)):
        raise ConfigError(f"SLACK_API_URL = {api_url!r} must be an http(s) URL such as https://slack.com/api/")
    return SlackSettings(
        bot_token=env.get("SLACK_BOT_TOKEN", ""),
        app_token=env.get("SLACK_APP_TOKEN", ""),
        signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        api_url=str(api_url).rstrip("/") + "/",
        mode=str(table.get("mode", "socket")),
        review_channel=_channel(review, "review_channel") if review else "",
        officers=frozenset(officers),
        officer_group=group,
        routing=routes,
        intake_channels=frozenset(_channel(c, "[slack] intake_channels") for c in _str_list(table, "intake_channels")),
        redaction=redaction,
        http_host=str(table.get("http_host", "0.0.0.0")),
        http_port=_number(table, "http_port", 3000),
        http_path=str(table.get("http_path", "/slack/events")),
        rate_limit_retries=_number(table, "rate_limit_retries", 3),
        connection_retries=_number(table, "connection_retries", 2),
        officer_cache_seconds=_number(table, "officer_cache_seconds", 300.0, float),
        dispatch_seconds=_number(table, "dispatch_seconds", 2.0, float),
    )
