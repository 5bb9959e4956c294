"""The message shortcut "Triage this message", usable on any message the app can see."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from connectors.slack.cards import intake_reply

CALLBACK_ID = "triage_this_message"


def register(app: App, deps) -> None:
    @app.shortcut(CALLBACK_ID)
    def triage_this(ack: Ack, shortcut: dict, respond: Respond) -> None:
        ack()
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id") or ""
        text = message.get("text") or ""
        if not text.strip() or not message.get("ts"):
            respond(text="That message has no text to triage.", response_type="ephemeral")
            return
        thread_ts = message.get("thread_ts")
        message_id, seen = deps.intake.take_in(channel, message["ts"], message.get("user"), text, thread_ts,
                                          answer=False)
        reply = intake_reply(message_id, duplicate=seen)
        if not deps.intake.answer(channel, thread_ts or message["ts"], reply):
            respond(text=reply, response_type="ephemeral")
