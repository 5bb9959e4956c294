"""Bolt listeners grouped by kind, each module with a ``register(app, deps)``."""

from __future__ import annotations

from slack_bolt import App


def register_all(app: App, deps) -> None:
    """Register every listener of the triage app."""
    from connectors.slack.listeners import actions, messages, shortcuts, views

    for module in (actions, views, shortcuts, messages):
        module.register(app, deps)
