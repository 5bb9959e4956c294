"""The Bolt app: what it depends on, and building it with every listener registered."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from triage.ports import Decision
from triage.service import ServiceError, TriageService

from connectors.slack.cards import decided_card, decision_line
from connectors.slack.client import make_web_client, quiet_logger
from connectors.slack.officers import REFUSAL, OfficerList
from connectors.slack.reviewer import split_ref
from connectors.slack.settings import SlackSettings

log = logging.getLogger("connectors.slack.app")


@dataclass
class SlackDeps:
    """What the listeners need: settings, the Web API client, the service and the officers' allow-list."""

    settings: SlackSettings
    client: WebClient
    service: TriageService
    officers: OfficerList
    names: dict[str, str] = field(default_factory=dict)
    intake: Any = None

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """An ephemeral message only ``user`` sees (best effort)."""
        if not channel:
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("ephemeral_failed user=%s error=%s", user, type(exc).__name__)

    def refuse(self, channel: str | None, user: str, what: str) -> None:
        log.info("decision_refused user=%s action=%s", user, what)
        self.tell(channel, user, REFUSAL)

    def display_name(self, user_id: str | None) -> str:
        """A user's real name for the store (so redaction can hide it), or the ID when unknown."""
        if not user_id:
            return ""
        if user_id not in self.names:
            try:
                user = self.client.users_info(user=user_id).get("user") or {}
                profile = user.get("profile") or {}
                self.names[user_id] = str(profile.get("real_name") or user.get("real_name") or user_id)[:200]
            except (SlackApiError, SlackClientError, OSError):
                return user_id
        return self.names[user_id]

    def decide(self, *, user: str, message_id: int, action: str, channel: str | None, ts: str | None,
               key: str, type: str | None = None, category: str | None = None, service_area: str | None = None,
               note: str | None = None) -> None:
        """Record a decision once, update the card in place, and tell a late clicker what stands."""
        decision = Decision(message_id=message_id, officer=f"slack:{user}", action=action, type=type,
                            category=category, service_area=service_area, note=note,
                            decided_at=datetime.now(timezone.utc), idempotency_key=key[:200])
        try:
            result = self.service.decide(decision)
        except ServiceError as exc:
            log.warning("decision_rejected message=%s action=%s error=%s", message_id, action, exc)
            self.tell(channel, user, f"That could not be recorded: {exc}")
            return
        if not channel or not ts:
            ref = split_ref(self.service.review_ref(message_id))
            if ref:
                channel, ts = ref
        if channel and ts:
            item = self.service.review_item(message_id)
            card = decided_card(item, result, self.settings.redaction, note if result.changed else None)
            try:
                self.client.chat_update(channel=channel, ts=ts, text=card.text, blocks=card.blocks)
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("card_update_failed message=%s error=%s", message_id, type_name(exc))
        if not result.changed:
            self.tell(channel, user, "Already decided: " + decision_line(result) + ". Nothing was changed.")
        log.info("decision_done message=%s action=%s changed=%s user=%s", message_id, action, result.changed, user)


def type_name(exc: BaseException) -> str:
    return type(exc).__name__


def build_app(settings: SlackSettings, service: TriageService, client: WebClient | None = None,
              officers: OfficerList | None = None) -> tuple[App, SlackDeps]:
    """The Bolt app with every listener registered, and its dependencies.

    Bolt verifies each HTTP request's signature with the signing secret
    (Socket Mode requests arrive over the app's own authenticated socket).
    """
    from connectors.slack.intake import Intake
    from connectors.slack.listeners import register_all

    client = client or make_web_client(settings)
    officers = officers or OfficerList(client, settings.officers, settings.officer_group,
                                       settings.officer_cache_seconds)
    app = App(client=client, signing_secret=settings.signing_secret, token_verification_enabled=False,
              process_before_response=False, name="triage", logger=quiet_logger("connectors.slack.bolt"))
    deps = SlackDeps(settings, client, service, officers)
    deps.intake = Intake(deps)
    register_all(app, deps)
    return app, deps
