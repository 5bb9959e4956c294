"""The Slack Web API client, with retries for connection errors, server errors and rate limits."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator

from connectors.slack.settings import SlackSettings

#: Seconds before a Web API call gives up.
TIMEOUT = 15


def quiet_logger(name: str) -> logging.Logger:
    """A logger for slack_sdk / slack_bolt held at INFO even under ``triage -v``: their DEBUG lines
    carry request bodies and payloads, which hold message text."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    return logger


def make_web_client(settings: SlackSettings, interval: RetryIntervalCalculator | None = None) -> WebClient:
    """A WebClient at ``settings.api_url`` retrying connection errors and 429 (after its Retry-After).

    slack_sdk turns on only the connection-error handler by default; the
    rate-limit handler, which sleeps for the Retry-After the server asks for,
    is added here explicitly. Server errors (500) are not retried here: a post
    may have gone through before the error, so the outbox dispatcher retries
    on its next pass after checking whether the card is already there.
    """
    interval = interval or BackoffRetryIntervalCalculator(backoff_factor=0.5)
    handlers = [
        ConnectionErrorRetryHandler(max_retry_count=settings.connection_retries, interval_calculator=interval),
        RateLimitErrorRetryHandler(max_retry_count=settings.rate_limit_retries),
    ]
    return WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=TIMEOUT, retry_handlers=handlers,
                     logger=quiet_logger("connectors.slack.web_api"))
