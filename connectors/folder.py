"""Local sources: a directory (``dir:PATH``) or a Maildir (``maildir:PATH``) watched for new messages.

A directory source takes ``.eml`` emails (and ``.txt``/``.json`` chat messages)
from the top of the folder and, once each is stored, moves it into
``processed/`` beside them. A Maildir source takes messages from ``new/`` and,
once stored, moves them to ``cur/`` as a mail client would. Files are never
deleted. Write files under another name (or outside) and move them in, so a
half-written file is never read.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path

from triage.message import MessageError, looks_like_email, read_chat_json
from triage.ports import Incoming, StoreCallback

log = logging.getLogger("connectors.folder")

EMAIL_SUFFIXES = (".eml",)
CHAT_SUFFIXES = (".txt", ".json")
PROCESSED = "processed"


class FolderSource:
    """Watches one local folder; see the module docstring for the two layouts."""

    def __init__(self, path: str | Path, format: str = "dir", poll_seconds: float = 1.0) -> None:
        if format not in ("dir", "maildir"):
            raise ValueError(f"folder format must be 'dir' or 'maildir', not {format!r}")
        self.path = Path(path)
        self.format = format
        self.poll_seconds = poll_seconds
        self.name = f"{format}:{path}"

    def ensure(self) -> None:
        """Create the folder (and Maildir subfolders) when missing."""
        if self.format == "maildir":
            for sub in ("new", "cur", "tmp"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        else:
            self.path.mkdir(parents=True, exist_ok=True)

    def waiting(self) -> list[Path]:
        """Files waiting to be read, oldest first."""
        if self.format == "maildir":
            folder = self.path / "new"
            files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")] if folder.is_dir() else []
        else:
            suffixes = EMAIL_SUFFIXES + CHAT_SUFFIXES
            files = [p for p in self.path.iterdir()
                     if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes] \
                if self.path.is_dir() else []
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def _incoming(self, path: Path) -> Incoming:
        raw = path.read_bytes()
        received = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        suffix = path.suffix.lower()
        if self.format == "maildir" or suffix == ".eml" or (suffix == ".txt" and looks_like_email(raw)):
            external = path.name.split(":", 1)[0] if self.format == "maildir" else None
            return Incoming(source=self.name, kind="email", raw=raw, received_at=received, external_id=external)
        digest = hashlib.sha256(raw).hexdigest()[:32]
        if suffix == ".json":
            parsed = read_chat_json(raw, str(path))
            return Incoming(source=self.name, kind="chat", raw=parsed.body.encode("utf-8"),
                            received_at=parsed.sent_at or received, external_id=digest,
                            sender=parsed.sender_name or None, channel=parsed.channel)
        return Incoming(source=self.name, kind="chat", raw=raw, received_at=received, external_id=digest)

    def _acknowledge(self, path: Path) -> None:
        if self.format == "maildir":
            name = path.name if ":" in path.name else path.name + ":2,"
            path.rename(self.path / "cur" / name)
            return
        done = self.path / PROCESSED
        done.mkdir(exist_ok=True)
        target = done / path.name
        n = 1
        while target.exists():
            target = done / f"{path.stem}.{n}{path.suffix}"
            n += 1
        path.rename(target)

    async def drain(self, deliver: StoreCallback) -> int:
        """Deliver every waiting file once; returns how many were delivered."""
        count = 0
        for path in self.waiting():
            try:
                incoming = self._incoming(path)
            except (OSError, MessageError) as exc:
                log.warning("folder_unreadable source=%s file=%s error=%s", self.name, path.name, exc)
                continue
            await deliver(incoming)
            self._acknowledge(path)
            count += 1
        return count

    async def run(self, deliver: StoreCallback) -> None:
        """Deliver new files until cancelled."""
        self.ensure()
        log.info("folder_watching source=%s", self.name)
        while True:
            try:
                await self.drain(deliver)
            except OSError as exc:
                log.warning("folder_error source=%s error=%s", self.name, exc)
            await asyncio.sleep(self.poll_seconds)
