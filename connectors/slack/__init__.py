"""The Slack app: review cards, decisions, routing to service areas and chat intake."""
