"""Adapters to the outside world: mailboxes, Slack, local folders, console review."""
