"""Reading messages: RFC 5322 email, plain-text and JSON chat messages.

Everything the model sees comes through :func:`read_email` or :func:`read_chat`,
which cap sizes before parsing, decode charsets defensively, turn HTML into
text, list attachments without reading them and clean the text (see
:mod:`triage.cleaning`). Auto-replies and bulk mail are recognised from their
headers here, before any model runs.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

from triage.cleaning import clean_body
from triage.htmltext import html_to_text
from triage.charsets import decode_bytes

#: Largest raw message read at all; the rest is cut before parsing.
MAX_RAW_BYTES = 5 * 1024 * 1024
#: Largest header block passed to the email parser (huge headers are its slow path).
MAX_HEADER_BYTES = 64 * 1024
#: Longest single header line kept.
MAX_HEADER_LINE = 4 * 1024
#: Largest decoded body text kept, and the part the model reads.
MAX_BODY_CHARS = 200_000
MAX_MODEL_CHARS = 20_000
#: Most MIME parts walked in one message.
MAX_PARTS = 200

SUFFIXES = (".eml", ".txt", ".json")


class MessageError(ValueError):
    """A file or payload that cannot be read as a message."""


@dataclass
class ParsedMessage:
    """A message made ready for the model and for officers."""

    kind: str  # "email" or "chat"
    subject: str = ""
    sender_name: str = ""
    sender_address: str = ""
    recipients: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    body: str = ""
    clean_text: str = ""
    attachments: list[str] = field(default_factory=list)
    auto_reason: str | None = None
    channel: str | None = None
    source: str = ""

    @property
    def model_text(self) -> str:
        """What the classifier reads: subject line and cleaned body."""
        subject = re.sub(r"^\s*((re|fw|fwd)\s*:\s*)+", "", self.subject, flags=re.I)
        text = f"{subject}\n{self.clean_text}" if subject else self.clean_text
        return text[:MAX_MODEL_CHARS]


# ---------------------------------------------------------------- email ---

_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


def _split_headers(raw: bytes) -> tuple[bytes, bytes]:
    match = re.search(rb"\r?\n\r?\n", raw)
    if not match:
        return raw, b""
    return raw[: match.start()], raw[match.end():]


def _cap_raw(raw: bytes) -> bytes:
    """Cut an oversized message and its header block before the email parser sees it."""
    raw = raw[:MAX_RAW_BYTES]
    head, body = _split_headers(raw)
    lines = head.split(b"\n")
    if len(head) <= MAX_HEADER_BYTES and all(len(line) <= MAX_HEADER_LINE for line in lines):
        return raw
    kept: list[bytes] = []
    size = 0
    for line in lines:
        line = line[:MAX_HEADER_LINE]
        size += len(line) + 1
        if size > MAX_HEADER_BYTES:
            break
        kept.append(line)
    return b"\n".join(kept) + b"\n\n" + body


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # malformed encoded words: fall back to the raw header
        return str(msg.get_all(name, [""])[0]).strip()


def auto_reply_reason(msg: Message, sender_address: str) -> str | None:
    """Why a message is machine-sent or bulk mail, judged from headers alone; None when it is not."""
    headers: dict[str, str] = {}
    for name, value in msg.items():
        headers.setdefault(name.lower(), str(value).strip())
    auto_submitted = headers.get("auto-submitted", "").lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-reply (Auto-Submitted: {auto_submitted[:40]})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if name.lower() in headers:
            return f"auto-reply ({name} header)"
    precedence = headers.get("precedence", "").lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"bulk or automatic mail (Precedence: {precedence})"
    if "list-id" in headers:
        return "mailing list (List-Id header)"
    if "list-unsubscribe" in headers:
        return "bulk mail (List-Unsubscribe header)"
    local = sender_address.split("@", 1)[0].lower()
    if local in {"mailer-daemon", "postmaster"}:
        return f"delivery report (from {local})"
    if msg.get_content_type() == "multipart/report":
        return "delivery report (multipart/report)"
    return None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        payload = inner.encode("utf-8", "replace") if isinstance(inner, str) else b""
    return decode_bytes(payload[: MAX_BODY_CHARS * 4], part.get_content_charset())


def _attachment_name(part: Message) -> str | None:
    disposition = (part.get("Content-Disposition") or "").lower()
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    if filename or disposition.startswith("attachment"):
        return str(filename or f"unnamed {part.get_content_type()}")
    return None


def _body_and_attachments(msg: Message) -> tuple[str, list[str]]:
    """Prefer text/plain; fall back to HTML converted to text; list attachments."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[str] = []
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS:
            break
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = _attachment_name(part)
        if name is not None:
            attachments.append(name)
            continue
        if ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            html.append(_part_text(part))
        elif ctype == "message/delivery-status" or ctype.startswith("message/"):
            continue
        elif not ctype.startswith("text/"):
            attachments.append(f"unnamed {ctype}")
    if any(p.strip() for p in plain):
        body = "\n\n".join(p for p in plain if p.strip())
    elif html:
        body = "\n\n".join(html_to_text(h) for h in html)
    else:
        body = ""
    return body[:MAX_BODY_CHARS], attachments


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def read_email(raw: bytes, source: str = "") -> ParsedMessage:
    """Parse an RFC 5322 message (any MIME shape) into a cleaned :class:`ParsedMessage`."""
    if not isinstance(raw, (bytes, bytearray)):
        raise MessageError("email must be bytes")
    raw = _cap_raw(bytes(raw))
    if not raw.strip():
        raise MessageError("empty message")
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not msg.keys() and not msg.get_payload():
        raise MessageError("not an email: no headers and no body")
    sender_name, sender_address = parseaddr(_decoded(msg, "From"))
    subject = " ".join(_decoded(msg, "Subject").split())[:500]
    body, attachments = _body_and_attachments(msg)
    sent_at = None
    date = _header(msg, "Date")
    if date:
        try:
            sent_at = parsedate_to_datetime(date)
            if sent_at.tzinfo is None:
                sent_at = sent_at.replace(tzinfo=timezone.utc)
        except (TypeError, ValueError, IndexError):
            sent_at = None
    return ParsedMessage(
        kind="email",
        subject=subject,
        sender_name=sender_name.strip().strip('"'),
        sender_address=sender_address.lower(),
        recipients=[addr for _, addr in getaddresses([_decoded(msg, "To"), _decoded(msg, "Cc")]) if addr],
        sent_at=sent_at,
        message_id=(_message_ids(_header(msg, "Message-ID")) or [None])[0],
        in_reply_to=(_message_ids(_header(msg, "In-Reply-To")) or [None])[0],
        references=_message_ids(_header(msg, "References"))[:50],
        body=body,
        clean_text=clean_body(body, subject),
        attachments=attachments,
        auto_reason=auto_reply_reason(msg, sender_address),
        source=source,
    )


def _decoded(msg: Message, name: str) -> str:
    """A header with RFC 2047 encoded words decoded, tolerant of bad charsets."""
    value = msg.get(name)
    if value is None:
        return ""
    from email.header import decode_header

    try:
        pieces = decode_header(str(value))
    except Exception:
        return str(value)
    out = []
    for text, charset in pieces:
        if isinstance(text, bytes):
            out.append(decode_bytes(text, charset))
        else:
            out.append(text)
    return "".join(out)


# ----------------------------------------------------------------- chat ---


def read_chat(text: str, source: str = "", *, sender: str = "", channel: str | None = None,
              sent_at: datetime | None = None, subject: str = "") -> ParsedMessage:
    """A chat message (Slack post, web chat, relayed call) as a :class:`ParsedMessage`."""
    text = text[:MAX_BODY_CHARS]
    return ParsedMessage(
        kind="chat",
        subject=subject,
        sender_name=sender,
        body=text,
        clean_text=clean_body(text, subject, chat=True),
        sent_at=sent_at,
        channel=channel,
        source=source,
    )


def read_chat_json(data: bytes, source: str = "") -> ParsedMessage:
    """A chat message stored as JSON: ``{"text": ..., "user"?, "channel"?, "ts"?, "subject"?}``."""
    try:
        obj = json.loads(decode_bytes(data[:MAX_RAW_BYTES], "utf-8"))
    except json.JSONDecodeError as exc:
        raise MessageError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise MessageError('JSON chat message needs an object with a "text" string')
    sent_at = None
    ts = obj.get("ts") or obj.get("timestamp")
    if ts is not None:
        try:
            sent_at = datetime.fromtimestamp(float(ts), tz=timezone.utc)
        except (TypeError, ValueError, OverflowError):
            try:
                sent_at = datetime.fromisoformat(str(ts))
            except ValueError:
                sent_at = None
    sender = obj.get("user_name") or obj.get("user") or obj.get("author") or ""
    return read_chat(obj["text"], source, sender=str(sender), channel=obj.get("channel"),
                     sent_at=sent_at, subject=str(obj.get("subject") or ""))


def looks_like_email(raw: bytes) -> bool:
    """True when bytes start with an RFC 5322 header block."""
    head = raw[:2048].lstrip()
    return bool(re.match(rb"(?i)(received|return-path|from|to|subject|date|message-id|mime-version|delivered-to|x-[\w-]+):", head))


def read_bytes(data: bytes, source: str, suffix: str) -> ParsedMessage:
    """Read a message from bytes according to its file suffix."""
    suffix = suffix.lower()
    if suffix == ".eml":
        return read_email(data, source)
    if suffix == ".json":
        return read_chat_json(data, source)
    if suffix == ".txt" or suffix == "":
        if suffix == "" and looks_like_email(data):
            return read_email(data, source)
        return read_chat(decode_bytes(data[:MAX_RAW_BYTES], None), source)
    raise MessageError(f"unsupported file type {suffix!r} (expected .eml, .txt or .json)")


def read_file(path: str | Path) -> ParsedMessage:
    """Read one message file (.eml, .txt chat message or .json chat message)."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise MessageError(f"unsupported file type {path.suffix!r} (expected .eml, .txt or .json)")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RAW_BYTES)
    except OSError as exc:
        raise MessageError(exc.strerror or str(exc)) from None
    return read_bytes(data, str(path), path.suffix)
