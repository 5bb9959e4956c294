"""Cleaning message text down to what the sender wrote this time.

Drops quoted earlier replies ("On ... wrote:", "> " lines, Outlook
"From: / Sent: / To:" blocks, "-----Original Message-----"), signatures,
"Sent from my iPhone" lines and confidentiality disclaimers. A forwarded
message is kept when the new part is only a covering line, because then the
forwarded text is what the sender wants us to read.
"""

from __future__ import annotations

import re

#: A new part of at most this many words, above a forwarded message, is a covering line.
COVERING_LINE_WORDS = 30

_ON_WROTE = re.compile(
    r"^\s*(on\b.{0,200}?\bwrote|le\b.{0,200}?\ba écrit|am\b.{0,200}?\bschrieb)\s*:?\s*$",
    re.I | re.S,
)
_ON_START = re.compile(r"^\s*on\s+(mon|tue|wed|thu|fri|sat|sun|\d{1,2}[\s/]|\w+ \d{1,2},|\d{4}-)", re.I)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.I)
_FORWARD = re.compile(
    r"^\s*(-{3,}\s*forwarded message\s*-{3,}|begin forwarded message:?|-{3,}\s*forwarded by .*|"
    r"-{2,}\s*original message\s*-{2,}|_{10,})\s*$",
    re.I,
)
_HEADER_LINE = re.compile(r"^\s*\*?(from|sent|date|to|cc|subject|importance)\s*:\*?\s", re.I)
_SENT_FROM = re.compile(
    r"^\s*(sent from my \w[\w\s-]{0,30}|sent from (outlook|yahoo mail|mail) for \w+|get outlook for \w+|"
    r"sent from samsung mobile|sent via [\w ]{1,30}|sent from my phone)\.?\s*$",
    re.I,
)
_SIGNOFF = re.compile(
    r"^\s*(kind(est)? regards|warm(est)? regards|best regards|regards|best wishes|all the best|"
    r"many thanks|thanks( again)?|thank you|with thanks|yours (sincerely|faithfully|truly)|"
    r"sincerely|best|cheers|ta|respectfully|with best wishes|kind wishes)[,.!]*\s*$",
    re.I,
)
_DISCLAIMER = re.compile(
    r"(this (e-?mail|message|communication)( and any (files|attachments?)[^.]{0,60})? (is|are|may be) "
    r"(strictly )?(confidential|private|intended)|intended (solely|only) for the (use of the )?"
    r"(individual|addressee|person|named)|if you (have )?received this (e-?mail|message|communication) in error|"
    r"(privileged|confidential) (and|or) (privileged|confidential)|any views or opinions (expressed|presented)|"
    r"internet e-?mail is not (a )?secure|please consider the environment before printing|"
    r"authorised and regulated by the solicitors regulation authority|"
    r"this e-?mail has been (scanned|checked) for viruses|disclaimer:)",
    re.I,
)
_SIG_DELIM = re.compile(r"^(-- ?|--|__+)$")


def _cut_quotes(lines: list[str]) -> tuple[list[str], list[str] | None, bool]:
    """Split lines into the new part and a quoted or forwarded tail.

    Returns ``(new, tail, is_forward)``; ``tail`` is None when nothing was quoted.
    """
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _FORWARD.match(stripped) and not _ORIGINAL.match(stripped):
            return lines[:i], lines[i + 1:], True
        if _ORIGINAL.match(stripped):
            return lines[:i], lines[i + 1:], False
        # "On Tue, 3 Mar 2026 at 10:12, Jane <j@x> wrote:" may wrap over two or three lines
        if _ON_START.match(stripped):
            for span in (1, 2, 3):
                candidate = " ".join(s.strip() for s in lines[i:i + span])
                if _ON_WROTE.match(candidate):
                    return lines[:i], lines[i + span:], False
        # Outlook: From: ... then Sent:/Date: ... and To:/Subject: within a few lines
        if re.match(r"^\s*\*?from\s*:", stripped, re.I):
            window = lines[i:i + 6]
            names = {m.group(1).lower() for s in window if (m := _HEADER_LINE.match(s))}
            if ("sent" in names or "date" in names) and ("to" in names or "subject" in names):
                return lines[:i], lines[i:], False
        if stripped.startswith(">"):
            # a quoted block with no attribution line
            rest = [s for s in lines[i:] if s.strip()]
            if rest and sum(1 for s in rest if s.lstrip().startswith(">")) >= 0.6 * len(rest):
                return lines[:i], lines[i:], False
    return lines, None, False


def _strip_forward_headers(lines: list[str]) -> list[str]:
    """Drop the From:/Date:/Subject:/To: lines at the top of a forwarded message."""
    out = list(lines)
    while out and (not out[0].strip() or _HEADER_LINE.match(out[0])):
        out.pop(0)
    return out


def _drop_signature(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if _SIG_DELIM.match(stripped):
            break
        if _SENT_FROM.match(stripped):
            continue
        out.append(line)
    # a sign-off line in the last part of the message ends it (name, title, phone follow)
    nonblank = [i for i, line in enumerate(out) if line.strip()]
    if len(nonblank) >= 2:
        tail_start = nonblank[max(0, len(nonblank) - 12)]
        for i in range(len(out) - 1, -1, -1):
            if i < tail_start:
                break
            if _SIGNOFF.match(out[i]) and any(line.strip() for line in out[:i]):
                out = out[:i]
                break
    return out


#: Words every disclaimer pattern contains; paragraphs without one skip the slow regex.
_DISCLAIMER_HINTS = ("confidential", "private", "intended", "received this", "views or opinions", "not secure",
                     "not a secure", "environment", "regulated", "viruses", "disclaimer")


def _drop_disclaimers(text: str) -> str:
    lowered = text.lower()
    if not any(hint in lowered for hint in _DISCLAIMER_HINTS):
        return text
    paragraphs = re.split(r"\n\s*\n", text)
    kept = [p for p in paragraphs if not _DISCLAIMER.search(p)]
    return "\n\n".join(kept)


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def clean_body(body: str, subject: str = "", *, chat: bool = False) -> str:
    """The text the sender wrote this time, without quotes, signatures or disclaimers."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "")
    lines = text.split("\n")
    if chat:
        # chat messages rarely quote, but staff paste "> " quotes of what a caller said: keep them
        return _tidy([line[1:].lstrip() if line.startswith(">") else line for line in lines])
    new, tail, is_forward = _cut_quotes(lines)
    new_text = _drop_disclaimers(_tidy(_drop_signature(new)))
    if tail is not None:
        forward_subject = re.match(r"^\s*(fw|fwd)\s*:", subject, re.I) is not None
        if (is_forward or forward_subject) and len(new_text.split()) <= COVERING_LINE_WORDS:
            forwarded_new, _, _ = _cut_quotes(_strip_forward_headers(tail))
            forwarded = _drop_disclaimers(_tidy(_drop_signature(forwarded_new)))
            new_text = f"{new_text}\n\n{forwarded}".strip()
    if not new_text:
        # everything looked like quoting: better the raw text than nothing
        new_text = _tidy([line.lstrip("> ") for line in lines])
    return new_text
