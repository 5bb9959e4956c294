"""Faults a real Dovecot will not produce on demand: a server answering IDLE with BYE and then going silent."""

from __future__ import annotations

import asyncio
import logging

from connectors.imap import FolderWatcher
from triage.config import MailboxSettings


class SilentByeServer:
    """A minimal IMAP server that answers IDLE with "* BYE" but never closes (the hang aioimaplib cannot see)."""

    def __init__(self) -> None:
        self.connections = 0
        self.idles = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        writer.write(b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n")
        while line := await reader.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            command = rest.split(" ")[0].upper()
            if command == "CAPABILITY":
                writer.write(f"* CAPABILITY IMAP4rev1 IDLE MOVE\r\n{tag} OK done\r\n".encode())
            elif command in ("LOGIN", "NOOP", "LOGOUT", "CREATE"):
                writer.write(f"{tag} OK done\r\n".encode())
            elif command == "SELECT":
                writer.write(f"* 0 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n{tag} OK [READ-WRITE] done\r\n".encode())
            elif command == "UID":
                writer.write(f"* SEARCH\r\n{tag} OK done\r\n".encode())
            elif command == "IDLE":
                self.idles += 1
                writer.write(b"* BYE shutting down\r\n")  # ... and then nothing, with the socket left open
            await writer.drain()


class NoStore:
    def checkpoint(self, key):
        return None

    def reset_checkpoint(self, *args):
        pass

    def stored_uids(self, *args):
        return set()

    def raise_alert(self, *args):
        pass


async def test_idle_answered_with_bye_does_not_hang_the_watcher(caplog):
    caplog.set_level(logging.WARNING, logger="connectors.imap")
    fake = SilentByeServer()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = MailboxSettings(name="bye", host="127.0.0.1", user="u", password="p", port=port, security="plain",
                               allow_plaintext=True, mark="none", connect_timeout=0.3, backoff_initial=0.02,
                               backoff_max=0.05)
    watcher = FolderWatcher(settings, "INBOX", NoStore())

    async def deliver(incoming):
        raise AssertionError("nothing to deliver")

    task = asyncio.create_task(watcher.run(deliver))
    for _ in range(100):
        if fake.idles >= 3:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    for writer in fake.writers:
        writer.close()
    server.close()
    await server.wait_closed()
    assert fake.idles >= 3 and fake.connections >= 3  # it gave up on each silent IDLE and reconnected
    assert any("imap_disconnected" in r.message for r in caplog.records)
