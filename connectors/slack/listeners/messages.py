"""Messages posted in the configured intake channels become incoming messages."""

from __future__ import annotations

from slack_bolt import App


#: Message subtypes that carry something a person wrote.
PEOPLE_SUBTYPES = {None, "thread_broadcast", "file_share"}


def register(app: App, deps) -> None:
    @app.event("message")
    def message(event: dict) -> None:
        channel = event.get("channel")
        if channel not in deps.settings.intake_channels:
            return
        if event.get("subtype") not in PEOPLE_SUBTYPES or event.get("bot_id"):
            return
        text = event.get("text") or ""
        if not text.strip() or not event.get("ts"):
            return
        thread_ts = event.get("thread_ts")
        reply_in_thread = thread_ts and thread_ts != event["ts"]
        deps.intake.take_in(channel, event["ts"], event.get("user"), text, thread_ts, answer=not reply_in_thread)
