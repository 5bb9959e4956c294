"""Decoding bytes whose declared charset may be missing or wrong."""

from __future__ import annotations

import codecs

_ALIASES = {"utf8": "utf-8", "unicode-1-1-utf-7": "utf-7", "x-unknown": "", "unknown-8bit": "",
            "ansi_x3.4-1968": "ascii", "us-ascii": "ascii", "cp-1252": "cp1252"}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text, trusting valid UTF-8 first, then the declared charset, then detection.

    Mail often declares the wrong charset (UTF-8 labelled as iso-8859-1, Windows
    "smart quotes" labelled as us-ascii); a strict UTF-8 decode that succeeds is
    almost never wrong, so it wins over the label.
    """
    if not data:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = _codec(declared)
    if codec in {"iso8859-1", "ascii"}:
        codec = "cp1252"  # the superset Windows mailers actually send
    if codec and codec != "utf-8":
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except Exception:  # detection is a best effort
        pass
    return data.decode("cp1252", errors="replace")
