"""The IMAP mailbox watcher, on aioimaplib.

One :class:`FolderWatcher` per watched folder. It logs in (password or
XOAUTH2, over IMAPS or STARTTLS; plain text only when explicitly allowed),
selects the folder, reads every message past the persisted UID high-water
mark, stores each one and only then marks it on the server (moved to a folder
or given a keyword; never deleted), then waits with IDLE (re-issued before 29
minutes) or polls when the server has no IDLE. A changed UIDVALIDITY starts a
re-scan, deduplicated by Message-ID and content hash in the store. Lost
connections are retried with capped exponential backoff and jitter; a folder
unreachable for longer than ``alert_after_seconds`` raises an alert.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import re
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

from aioimaplib import aioimaplib as imap

from triage.config import ConfigError, MailboxSettings
from triage.ports import Incoming, StoreCallback
from triage.service import TriageService

log = logging.getLogger("connectors.imap")
# aioimaplib logs whole messages and the LOGIN password at DEBUG: keep it quiet whatever the app's level.
logging.getLogger("aioimaplib").setLevel(logging.WARNING)

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_HEAD = re.compile(rb"^(\d+) FETCH \(")
_UID = re.compile(rb"UID (\d+)")
_NUMBERS = re.compile(rb"[\d ]*")


class ImapError(Exception):
    """The server refused something or answered unexpectedly."""


class LoginRefused(ImapError):
    """Wrong user, password or token: retrying will not help until the config changes."""


class ConnectionLost(ImapError):
    """The server closed the connection (BYE, restart, network)."""


def uid_set(uids: list[int]) -> str:
    """A compact IMAP sequence set: [1, 2, 3, 7] -> "1:3,7"."""
    uids = sorted(set(uids))
    parts, start, prev = [], None, None
    for uid in uids:
        if start is None:
            start = prev = uid
        elif uid == prev + 1:
            prev = uid
        else:
            parts.append(f"{start}:{prev}" if prev != start else str(start))
            start = prev = uid
    if start is not None:
        parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def parse_fetch(lines: list) -> list[tuple[int, bytes]]:
    """(uid, raw message) pairs from a ``UID FETCH ... (UID BODY.PEEK[])`` response."""
    out: list[tuple[int, bytes]] = []
    uid: int | None = None
    body: bytes | None = None
    for line in lines:
        if isinstance(line, (bytearray, memoryview)):
            body = bytes(line)
            continue
        if _FETCH_HEAD.match(line):
            if uid is not None and body is not None:
                out.append((uid, body))
            match = _UID.search(line)
            uid, body = (int(match.group(1)) if match else None), None
            continue
        match = _UID.search(line)
        if match and uid is None:
            uid = int(match.group(1))
    if uid is not None and body is not None:
        out.append((uid, body))
    return out


def parse_search(lines: list) -> list[int]:
    """UIDs from a UID SEARCH response (aioimaplib strips the leading "SEARCH")."""
    uids: list[int] = []
    for line in lines[:-1] if len(lines) > 1 else []:
        if not isinstance(line, bytes):
            continue
        if line.startswith(b"SEARCH"):
            line = line[len(b"SEARCH"):]
        if _NUMBERS.fullmatch(line):
            uids.extend(int(x) for x in line.split())
    return uids


def backoff_delay(attempt: int, initial: float, cap: float, rng: random.Random = random) -> float:
    """Capped exponential backoff with jitter: between half and all of min(cap, initial * 2**attempt)."""
    ceiling = min(cap, initial * (2 ** min(attempt, 30)))
    return ceiling * (0.5 + rng.random() * 0.5)


def tls_context(settings: MailboxSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _SaslCommand(imap.Command):
    """An AUTHENTICATE command that answers the server's challenges: with the queued replies (the initial
    response when the server has no SASL-IR), then with an empty line: a refused XOAUTH2 token is reported as a
    challenge carrying a base64 JSON error, and the server says NO only after that empty reply."""

    def __init__(self, *args, protocol, replies: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._protocol = protocol
        self._replies = list(replies)

    def flush(self) -> None:  # aioimaplib calls this after appending a "+ ..." continuation line
        if self._resp_lines and self._resp_lines[-1].startswith(b"+"):
            self._resp_lines.pop()  # the challenge (for XOAUTH2 a base64 JSON error) is not a response line
            reply = self._replies.pop(0) if self._replies else ""
            self._protocol.transport.write(reply.encode("ascii") + b"\r\n")


@dataclass
class Connection:
    client: imap.IMAP4
    lost: asyncio.Event
    uidvalidity: int


class FolderWatcher:
    """Watches one folder of one mailbox and delivers each new message exactly once."""

    def __init__(self, settings: MailboxSettings, folder: str, service: TriageService,
                 on_state: Callable[[str, str], Awaitable[None]] | None = None) -> None:
        self.settings = settings
        self.folder = folder
        self.service = service
        self.key = f"{settings.name}/{folder}"
        self.name = f"imap:{self.key}"
        self.on_state = on_state
        self.connected = asyncio.Event()
        self._marking = settings.mark

    # ------------------------------------------------------- connecting ---

    async def connect(self) -> Connection:
        """Open, secure, log in and select the folder."""
        s = self.settings
        if s.security == "plain" and not s.allow_plaintext:
            raise ConfigError(f"mailbox {s.name!r}: plain-text IMAP needs allow_plaintext = true (loopback only)")
        secret = s.secret()
        lost = asyncio.Event()
        context = tls_context(s) if s.security in ("tls", "starttls") else None
        client = imap.IMAP4(host=s.host, port=s.effective_port, timeout=s.connect_timeout,
                            conn_lost_cb=lambda exc: lost.set(),
                            ssl_context=context if s.security == "tls" else None)
        try:
            await client.wait_hello_from_server()
            if s.security == "starttls":
                await self._starttls(client, context)
            if s.auth == "xoauth2":
                response = await self._xoauth2(client, s.user, secret)
            else:
                response = await client.login(s.user, secret)
            if response.result != "OK":
                raise LoginRefused(f"login refused for {s.user}: {_text(response)[:120]}")
            await asyncio.wait_for(client.protocol.capability(), s.connect_timeout)  # post-login capabilities
            if self._marking == "move":
                await self._ensure_folder(client, s.move_to)
            response = await client.select(_quote(self.folder))
            if response.result != "OK":
                raise ImapError(f"cannot select {self.folder!r}: {_text(response)[:120]}")
            uidvalidity = None
            for line in response.lines:
                if isinstance(line, bytes):
                    match = _UIDVALIDITY.search(line)
                    if match:
                        uidvalidity = int(match.group(1))
            if uidvalidity is None:
                raise ImapError(f"server gave no UIDVALIDITY for {self.folder!r}")
        except BaseException:
            await _close(client)
            raise
        if self._marking == "move" and "MOVE" not in client.protocol.capabilities:
            log.warning("imap_no_move mailbox=%s folder=%s fallback=keyword", s.name, self.folder)
            self._marking = "keyword"
        return Connection(client, lost, uidvalidity)

    async def _xoauth2(self, client: imap.IMAP4, user: str, token: str) -> imap.Response:
        """AUTHENTICATE XOAUTH2 (not aioimaplib's, which hangs when the token is refused: the server then sends
        its error as a challenge and waits for an empty reply before saying NO)."""
        protocol = client.protocol
        initial = base64.b64encode(f"user={user}\1auth=Bearer {token}\1\1".encode()).decode("ascii")
        sasl_ir = "SASL-IR" in protocol.capabilities
        command = _SaslCommand("AUTHENTICATE", protocol.new_tag(), "XOAUTH2", *([initial] if sasl_ir else []),
                               loop=protocol.loop, protocol=protocol, replies=[] if sasl_ir else [initial])
        response = await asyncio.wait_for(protocol.execute(command, scrub=initial), self.settings.connect_timeout)
        if response.result == "OK":
            protocol.state = imap.AUTH
        return response

    async def _starttls(self, client: imap.IMAP4, context: ssl.SSLContext) -> None:
        protocol = client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError(f"{self.settings.host} offers no STARTTLS; use security = \"tls\"")
        command = imap.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        response = await asyncio.wait_for(protocol.execute(command), self.settings.connect_timeout)
        if response.result != "OK":
            raise ImapError(f"STARTTLS refused: {_text(response)[:120]}")
        loop = asyncio.get_running_loop()
        protocol.transport = await asyncio.wait_for(
            loop.start_tls(protocol.transport, protocol, context, server_hostname=self.settings.host),
            self.settings.connect_timeout)
        await asyncio.wait_for(protocol.capability(), self.settings.connect_timeout)

    async def _ensure_folder(self, client: imap.IMAP4, name: str) -> None:
        response = await client.create(_quote(name))
        if response.result != "OK" and b"ALREADYEXISTS" not in b" ".join(
                bytes(x) for x in response.lines if isinstance(x, (bytes, bytearray))).upper():
            listed = await client.list('""', _quote(name))
            if not any(isinstance(x, bytes) and x.startswith(b"LIST") for x in listed.lines):
                raise ImapError(f"cannot create folder {name!r} to move triaged mail into: {_text(response)[:120]}")

    # ---------------------------------------------------------- reading ---

    async def sync(self, conn: Connection, deliver: StoreCallback) -> int:
        """Store and mark every message not yet stored; returns how many were delivered."""
        client, uidvalidity = conn.client, conn.uidvalidity
        checkpoint = await asyncio.to_thread(self.service.checkpoint, self.key)
        if checkpoint is None:
            start = 0
        elif checkpoint.uidvalidity != uidvalidity:
            log.warning("imap_uidvalidity_changed mailbox=%s folder=%s old=%s new=%s action=rescan",
                        self.settings.name, self.folder, checkpoint.uidvalidity, uidvalidity)
            await asyncio.to_thread(self.service.reset_checkpoint, self.key, self.folder, uidvalidity, 0)
            start = 0
        else:
            start = checkpoint.last_uid
        if self._marking == "move":
            response = await client.uid_search("ALL", charset=None)
        elif self._marking == "keyword":
            response = await client.uid_search("UNKEYWORD", self.settings.keyword, charset=None)
        else:
            response = await client.uid_search("UID", f"{start + 1}:*", charset=None)
        _check(response, "UID SEARCH")
        uids = parse_search(response.lines)
        seen = [u for u in uids if u <= start]
        stored = await asyncio.to_thread(self.service.stored_uids, self.key, uidvalidity, seen) if seen else set()
        await self._mark(client, sorted(stored))  # stored before a crash, never marked
        to_fetch = sorted([u for u in uids if u > start] + [u for u in seen if u not in stored])
        delivered = 0
        batch = max(1, self.settings.fetch_batch)
        for i in range(0, len(to_fetch), batch):
            if _stopping():
                raise asyncio.CancelledError
            chunk = to_fetch[i:i + batch]
            response = await client.uid("fetch", uid_set(chunk), "(UID BODY.PEEK[])")
            _check(response, "UID FETCH")
            done = []
            for uid, raw in parse_fetch(response.lines):
                await deliver(Incoming(source=self.name, kind="email", raw=raw,
                                       received_at=datetime.now(timezone.utc), mailbox=self.key,
                                       uidvalidity=uidvalidity, uid=uid))
                done.append(uid)
                delivered += 1
            await self._mark(client, done)
        if delivered:
            log.info("imap_synced mailbox=%s folder=%s delivered=%s", self.settings.name, self.folder, delivered)
        return delivered

    async def _mark(self, client: imap.IMAP4, uids: list[int]) -> None:
        if not uids or self._marking == "none":
            return
        for i in range(0, len(uids), 500):
            chunk = uid_set(uids[i:i + 500])
            if self._marking == "move":
                command = client.uid("move", chunk, _quote(self.settings.move_to))
            else:
                command = client.uid("store", chunk, "+FLAGS.SILENT", f"({self.settings.keyword})")
            # aioimaplib bounds only UID FETCH: a MOVE or STORE the server never answers (a folder lock
            # left by a crash) would otherwise stall the watcher silently; a timeout reconnects and retries
            response = await asyncio.wait_for(command, self.settings.connect_timeout)
            _check(response, "marking")

    # ---------------------------------------------------------- waiting ---

    async def wait_for_mail(self, conn: Connection) -> None:
        """Return when new mail may have arrived (IDLE push, IDLE renewal or poll interval)."""
        client = conn.client
        if _stopping():  # a stop that an earlier command's asyncio.wait_for swallowed: do not go idle
            raise asyncio.CancelledError
        if conn.lost.is_set():
            raise ConnectionLost("connection closed by the server")
        if not client.has_capability("IDLE"):
            lost = asyncio.ensure_future(conn.lost.wait())
            done, _ = await asyncio.wait({lost}, timeout=self.settings.poll_seconds)
            lost.cancel()
            if done:
                raise ConnectionLost("connection closed by the server")
            _check(await client.noop(), "NOOP")
            return
        renew = self.settings.idle_renew_seconds
        try:
            idle = await asyncio.wait_for(client.idle_start(timeout=renew), self.settings.connect_timeout)
        except asyncio.TimeoutError:
            raise ConnectionLost("server did not accept IDLE in time") from None
        try:
            while True:
                if _stopping():  # swallowed inside idle_start: the finally below ends IDLE
                    raise asyncio.CancelledError
                push = asyncio.ensure_future(client.wait_server_push(timeout=renew + 5))
                lost = asyncio.ensure_future(conn.lost.wait())
                done, _ = await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    push.cancel()
                    raise ConnectionLost("connection closed during IDLE")
                lost.cancel()
                try:
                    lines = push.result()
                except asyncio.TimeoutError:
                    return
                if lines == imap.STOP_WAIT_SERVER_PUSH:
                    return  # time to renew IDLE
                if any(isinstance(x, bytes) and x.startswith(b"BYE") for x in lines):
                    raise ConnectionLost("server said BYE during IDLE")
                if any(isinstance(x, bytes) and (x.endswith(b"EXISTS") or x.endswith(b"RECENT")) for x in lines):
                    return
                if idle.done():
                    return
        finally:
            if client.has_pending_idle() and not conn.lost.is_set():
                client.idle_done()
                done, _ = await asyncio.wait({idle}, timeout=self.settings.connect_timeout)
                if not done:
                    conn.lost.set()
                    raise ConnectionLost("server did not end IDLE")

    # ------------------------------------------------------------ running ---

    async def drain(self, deliver: StoreCallback) -> int:
        """Connect once, store everything waiting, log out (``triage run --once``)."""
        conn = await self.connect()
        try:
            return await self.sync(conn, deliver)
        finally:
            await _close(conn.client)

    async def run(self, deliver: StoreCallback) -> None:
        """Watch the folder until cancelled, reconnecting with backoff and alerting on long outages."""
        s = self.settings
        attempt, down_since, alerted = 0, None, False
        while True:
            if _stopping():
                raise asyncio.CancelledError
            conn = None
            try:
                conn = await self.connect()
                if down_since is not None:
                    log.info("imap_reconnected mailbox=%s folder=%s after_seconds=%.1f", s.name, self.folder,
                             time.monotonic() - down_since)
                    if alerted:
                        await self._alert(f"mailbox {s.name} folder {self.folder} is reachable again")
                attempt, down_since, alerted = 0, None, False
                log.info("imap_connected mailbox=%s folder=%s uidvalidity=%s idle=%s", s.name, self.folder,
                         conn.uidvalidity, conn.client.has_capability("IDLE"))
                self.connected.set()
                await self._serve(conn, deliver)
            except asyncio.CancelledError:
                if conn is not None:
                    await _close(conn.client)
                raise
            except ConfigError:
                raise
            except (OSError, asyncio.TimeoutError, imap.AioImapException, ImapError, ssl.SSLError) as exc:
                self.connected.clear()
                if conn is not None:
                    await _close(conn.client)
                now = time.monotonic()
                down_since = down_since or now
                delay = backoff_delay(attempt, s.backoff_initial, s.backoff_max)
                attempt += 1
                log.warning("imap_disconnected mailbox=%s folder=%s error=%s attempt=%s retry_in=%.2f",
                            s.name, self.folder, _describe(exc), attempt, delay)
                if not alerted and now - down_since >= s.alert_after_seconds:
                    alerted = True
                    text = (f"mailbox {s.name} folder {self.folder} unreachable for "
                            f"{int(now - down_since)} s: {_describe(exc)}")
                    log.error("imap_unreachable mailbox=%s folder=%s seconds=%d error=%s", s.name, self.folder,
                              int(now - down_since), _describe(exc))
                    await self._alert(text)
                await asyncio.sleep(delay)

    async def _serve(self, conn: Connection, deliver: StoreCallback) -> None:
        """Sync and wait, over and over, until the connection is lost (which interrupts any command)."""

        async def loop() -> None:
            while not _stopping():
                while await self.sync(conn, deliver) and not _stopping():
                    pass  # mail that arrived while syncing is read before going idle
                await self.wait_for_mail(conn)
            raise asyncio.CancelledError

        session = asyncio.ensure_future(loop())
        lost = asyncio.ensure_future(conn.lost.wait())
        try:
            done, _ = await asyncio.wait({session, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not session.done():
                session.cancel()
                try:
                    await session
                except (asyncio.CancelledError, Exception):
                    pass
        if session in done:
            session.result()
        raise ConnectionLost("connection closed by the server")

    async def _alert(self, text: str) -> None:
        try:
            await asyncio.to_thread(self.service.raise_alert, self.name, text)
        except Exception as exc:  # the store being down must not stop the watcher
            log.error("alert_failed source=%s error=%s", self.name, type(exc).__name__)


def _stopping() -> bool:
    """A cancellation swallowed by one of aioimaplib's asyncio.wait_for calls (Python 3.11) still stops us."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _quote(name: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.\-/]+", name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(response) -> str:
    return " ".join(bytes(x).decode("utf-8", "replace") for x in response.lines if isinstance(x, (bytes, bytearray)))


def _check(response, what: str) -> None:
    if response.result != "OK":
        raise ImapError(f"{what} failed: {response.result} {_text(response)[:120]}")


def _describe(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _close(client: imap.IMAP4) -> None:
    """Log out politely when possible, then make sure the socket is gone."""
    try:
        transport = client.protocol.transport
        if (transport is not None and not transport.is_closing()
                and client.protocol.state in (imap.NONAUTH, imap.AUTH, imap.SELECTED)):
            await asyncio.wait_for(client.logout(), min(2.0, client.timeout))
    except Exception:
        pass
    finally:
        transport = client.protocol.transport
        if transport is not None:
            transport.close()


def watchers_for(settings: MailboxSettings, service: TriageService) -> list[FolderWatcher]:
    """One watcher per configured folder of a mailbox."""
    return [FolderWatcher(settings, folder, service) for folder in settings.folders]


async def check_mailbox(settings: MailboxSettings) -> str:
    """Connect and log in (for ``triage doctor``); returns a one-line summary or raises."""
    watcher = FolderWatcher(settings, settings.folders[0], service=None)  # type: ignore[arg-type]
    conn = await watcher.connect()
    try:
        idle = "IDLE" if conn.client.has_capability("IDLE") else "no IDLE (polling)"
        return f"logged in, {settings.folders[0]} selected (UIDVALIDITY {conn.uidvalidity}), {idle}"
    finally:
        await _close(conn.client)
