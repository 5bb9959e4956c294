"""The Change... modal's submission."""

from __future__ import annotations

from slack_bolt import Ack, App

from connectors.slack.modal import CALLBACK_ID, read_change


def register(app: App, deps) -> None:
    @app.view(CALLBACK_ID)
    def submitted(ack: Ack, body: dict, view: dict) -> None:
        user = (body.get("user") or {}).get("id", "")
        request, errors = read_change(view, deps.service.taxonomy)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        if not deps.officers.allows(user):
            deps.refuse(request.channel, user, "change")
            return
        deps.decide(user=user, message_id=request.message_id, action="change", channel=request.channel,
                    ts=request.ts, key=f"slack:view:{view.get('id')}", type=request.type,
                    category=request.category, service_area=request.service_area, note=request.note)
