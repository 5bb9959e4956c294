"""Safe text for Slack: escaping untrusted input and cutting it to Block Kit's limits.

Message subjects, excerpts, reasons and notes come from the public. In
``mrkdwn`` they could ping a channel (``<!channel>``), mention people
(``<@U123>``), disguise links (``<https://evil|council.gov.uk>``) or break the
layout with formatting characters. :func:`escape` turns ``&``, ``<`` and
``>`` into entities and swaps the formatting characters for look-alikes, so
nothing the public writes is ever interpreted.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

#: Formatting characters swapped for look-alikes that Slack does not interpret.
_LOOKALIKES = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "`": "\u02cb",   # modifier letter grave accent
    "*": "\u2217",   # asterisk operator
    "_": "\u02cd",   # modifier letter low macron
    "~": "\u223c",   # tilde operator
})
#: Control characters and bidirectional overrides (text spoofing) are dropped.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def slack_len(text: str) -> int:
    """Length as Slack counts it at worst (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str | None) -> str:
    """Untrusted text made inert for a ``mrkdwn`` text object."""
    if not text:
        return ""
    return _INVISIBLE.sub("", str(text)).translate(_LOOKALIKES)


def plain(text: str | None) -> str:
    """Untrusted text for a ``plain_text`` object (never interpreted, but cleaned of invisible characters)."""
    return _INVISIBLE.sub("", str(text or ""))


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` Slack characters, never inside an entity such as ``&amp;``."""
    if slack_len(text) <= limit:
        return text
    room = max(0, limit - slack_len(ellipsis))
    out = text[:room]
    while slack_len(out) > room:
        out = out[:-1]
    out = _ENTITY_TAIL.sub("", out)
    return out + ellipsis


def quote(text: str) -> str:
    """Escaped text as a Slack block quote (every line starts with ``>``)."""
    return "\n".join(">" + (" " + line if line else "") for line in text.split("\n"))


def mention(user_id: str) -> str:
    """A user mention, only for a well-formed Slack user ID (anything else is escaped text)."""
    return f"<@{user_id}>" if _USER_ID.match(user_id or "") else escape(user_id)


def when(moment: datetime | None) -> str:
    """A moment that each reader's Slack shows in their own time zone, with a UTC fallback."""
    if moment is None:
        return "unknown time"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    fallback = moment.astimezone(timezone.utc).strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def day(value: date | datetime | None) -> str:
    """A due date such as ``Thu 5 Mar 2026``."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = value.date()
    return f"{value:%a} {value.day} {value:%b %Y}"
