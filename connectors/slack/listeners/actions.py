"""The card's buttons: Confirm, Change... (opens the modal) and Not feedback."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from triage.service import ServiceError

from connectors.slack.cards import CHANGE, CONFIRM, DISMISS
from connectors.slack.modal import change_modal

log = logging.getLogger("connectors.slack.actions")


def _message_id(action: dict) -> int | None:
    try:
        return int(json.loads(action.get("value") or "{}")["message_id"])
    except (ValueError, KeyError, TypeError):
        return None


def _where(body: dict) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


def register(app: App, deps) -> None:
    def decide(ack: Ack, body: dict, action: dict, verb: str) -> None:
        ack()
        user = (body.get("user") or {}).get("id", "")
        channel, ts = _where(body)
        if not deps.officers.allows(user):
            deps.refuse(channel, user, verb)
            return
        message_id = _message_id(action)
        if message_id is None:
            log.warning("action_without_message user=%s", user)
            return
        key = f"slack:{channel}:{ts}:{action.get('action_ts') or body.get('trigger_id')}"
        deps.decide(user=user, message_id=message_id, action=verb, channel=channel, ts=ts, key=key)

    @app.action(CONFIRM)
    def confirm(ack: Ack, body: dict, action: dict) -> None:
        decide(ack, body, action, "confirm")

    @app.action(DISMISS)
    def dismiss(ack: Ack, body: dict, action: dict) -> None:
        decide(ack, body, action, "dismiss")

    @app.action(CHANGE)
    def change(ack: Ack, body: dict, action: dict) -> None:
        ack()
        user = (body.get("user") or {}).get("id", "")
        channel, ts = _where(body)
        if not deps.officers.allows(user):
            deps.refuse(channel, user, "change")
            return
        message_id = _message_id(action)
        if message_id is None:
            return
        try:
            item = deps.service.review_item(message_id)
        except ServiceError as exc:
            deps.tell(channel, user, f"That message cannot be changed: {exc}")
            return
        view = change_modal(item, deps.service.taxonomy, channel, ts)
        try:
            deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("modal_open_failed message=%s error=%s", message_id, type(exc).__name__)
            deps.tell(channel, user, "The form could not be opened; please press Change... again.")
