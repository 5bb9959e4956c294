"""Who may decide: officers named by user ID, or members of a Slack user group (cached briefly)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("connectors.slack.officers")

REFUSAL = ("Only triage officers can confirm, change or dismiss suggestions. Ask your triage lead to add you "
           "to the officers' user group. Nothing was changed.")


class OfficerList:
    """The allow-list: fixed user IDs plus the members of one user group, fetched at most every ``ttl`` seconds.

    When the group cannot be read, only the fixed IDs are allowed (it fails closed).
    """

    def __init__(self, client: WebClient, officers: frozenset[str], group: str | None, ttl: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.officers = officers
        self.group = group
        self.ttl = ttl
        self._clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _group_members(self) -> frozenset[str]:
        with self._lock:
            now = self._clock()
            if self._fetched_at is not None and now - self._fetched_at < self.ttl:
                return self._members
            try:
                response = self.client.usergroups_users_list(usergroup=self.group)
                self._members = frozenset(response.get("users") or [])
                self._fetched_at = now
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("officer_group_unreadable group=%s error=%s", self.group, type(exc).__name__)
                if self._fetched_at is None:
                    return frozenset()
            return self._members

    def allows(self, user_id: str | None) -> bool:
        """True when ``user_id`` may decide."""
        if not user_id:
            return False
        if user_id in self.officers:
            return True
        return bool(self.group) and user_id in self._group_members()
