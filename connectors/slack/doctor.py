"""``triage doctor`` checks for Slack: tokens, the officers' group and every configured channel.

:func:`check_slack` returns one :class:`Check` per item, each with the fix
when it fails; it never raises for a Slack problem and never prints tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from triage.config import ConfigError

from connectors.slack.client import make_web_client
from connectors.slack.settings import SlackSettings, slack_settings


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        return str(data.get("error") or f"HTTP {exc.response.status_code}")
    return f"cannot reach Slack ({type(exc).__name__})"


def _channel(client: WebClient, channel: str, role: str) -> Check:
    name = f"slack {role} channel {channel}"
    try:
        info = client.conversations_info(channel=channel).get("channel") or {}
    except (SlackApiError, SlackClientError, OSError) as exc:
        error = _error(exc)
        fix = " (use the channel ID: channel name > About > Channel ID; for a private channel, /invite the bot " \
              "first)" if error == "channel_not_found" else ""
        return Check(name, False, f"{error}{fix}")
    label = f"#{info.get('name', channel)}"
    if not info.get("is_member"):
        return Check(name, False, f"{label}: the bot is not a member; in {label} type /invite @Triage")
    return Check(name, True, f"{label}, bot is a member")


def check_slack(settings: SlackSettings, client: WebClient | None = None) -> list[Check]:
    """Check tokens, the officers and every configured channel against the Web API."""
    checks: list[Check] = []
    try:
        settings.check()
        checks.append(Check("slack settings", True, f"{settings.mode} mode"))
    except ConfigError as exc:
        checks.append(Check("slack settings", False, str(exc)))
        if not settings.bot_token:
            return checks
    client = client or make_web_client(settings)
    try:
        auth = client.auth_test()
        checks.append(Check("slack bot token", True, f"workspace {auth.get('team')}, bot user {auth.get('user_id')}"))
    except (SlackApiError, SlackClientError, OSError) as exc:
        checks.append(Check("slack bot token", False, f"{_error(exc)}: check SLACK_BOT_TOKEN (OAuth & Permissions > "
                                                      f"Bot User OAuth Token) and SLACK_API_URL"))
        return checks
    if settings.mode == "socket" and settings.app_token:
        try:
            client.apps_connections_open(app_token=settings.app_token)
            checks.append(Check("slack app token", True, "Socket Mode connection can be opened"))
        except (SlackApiError, SlackClientError, OSError) as exc:
            checks.append(Check("slack app token", False, f"{_error(exc)}: check SLACK_APP_TOKEN (Basic Information > "
                                                          "App-Level Tokens, scope connections:write) and that "
                                                          "Socket Mode is enabled"))
    if settings.officer_group:
        try:
            users = client.usergroups_users_list(usergroup=settings.officer_group).get("users") or []
            checks.append(Check("slack officer group", bool(users),
                                f"{len(users)} members" if users else "the group has no members"))
        except (SlackApiError, SlackClientError, OSError) as exc:
            checks.append(Check("slack officer group", False, f"{_error(exc)}: check [slack] officer_group"))
    if settings.review_channel:
        checks.append(_channel(client, settings.review_channel, "review"))
    for area, channel in sorted(settings.routing.items()):
        checks.append(_channel(client, channel, f"routing ({area})"))
    for channel in sorted(settings.intake_channels):
        checks.append(_channel(client, channel, "intake"))
    return checks


def doctor(slack_table: Mapping | None, env: Mapping[str, str] | None = None, redaction: str | None = None,
           client: WebClient | None = None) -> list[Check]:
    """The doctor entry point for ``triage doctor``: the ``[slack]`` table (Settings.slack) and the environment."""
    try:
        settings = slack_settings(slack_table, env, redaction)
    except ConfigError as exc:
        return [Check("slack settings", False, str(exc))]
    return check_slack(settings, client)
