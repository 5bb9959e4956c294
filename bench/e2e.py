"""End-to-end benchmark: a real Dovecot, the IMAP watcher, the store and the shipped model.

1. Steady load: messages APPENDed at a fixed rate while the watcher idles;
   prints p50/p95 from APPEND to the recorded suggestion (target p95 <= 2 s).
2. Backlog: 5,000 messages waiting before the watcher starts; prints the drain
   rate to recorded suggestions (target >= 100 messages/s).

Reproduce: .venv/bin/python bench/e2e.py [--rate 10] [--seconds 30] [--backlog 5000] [--store URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from _common import ROOT

sys.path.insert(0, str(ROOT / "tests"))

from fixtures_servers import make_dovecot  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from connectors.imap import FolderWatcher  # noqa: E402
from connectors.runner import App  # noqa: E402
from triage.config import MailboxSettings, Settings  # noqa: E402
from triage.service import TriageService  # noqa: E402
from triage.store import open_store  # noqa: E402
from triage.store.models import Message, SuggestionRecord  # noqa: E402
from triage.taxonomy import load_taxonomy  # noqa: E402
from triage.training import load_model  # noqa: E402

BODIES = [
    "The home care agency missed my mother's visits three times this week and nobody rang us. Please put this right.",
    "I want to thank the reablement team who helped my father after his fall. They were kind and patient.",
    "Could you tell me how the charges for residential care are worked out and send me the form?",
    "We have been waiting four months for an occupational therapy assessment and still have no date.",
    "The social worker was rude to my brother at the review meeting and would not listen to him.",
]


def mail(tag: str, n: int) -> bytes:
    return (f"From: Resident {n} <resident{n}@example.org>\r\nTo: feedback@council.example.gov.uk\r\n"
            f"Subject: Feedback {n}\r\nMessage-ID: <{tag}-{n}@bench.example.org>\r\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n{BODIES[n % len(BODIES)]}\r\n").encode()


def suggestions(service: TriageService) -> int:
    with service.store.reading() as s:
        return s.scalar(select(func.count()).select_from(SuggestionRecord))


def suggestion_times(service: TriageService, tag: str) -> dict[str, datetime]:
    with service.store.reading() as s:
        rows = s.execute(select(Message.message_id_header, SuggestionRecord.created_at)
                         .join(SuggestionRecord, SuggestionRecord.message_id == Message.id)
                         .where(Message.message_id_header.like(f"<{tag}-%")))
        return {mid: at for mid, at in rows}


def mailbox(server) -> MailboxSettings:
    return MailboxSettings(name="bench", host="127.0.0.1", user=server.user, password=server.password,
                           port=server.port, security="plain", allow_plaintext=True, fetch_batch=200)


async def steady(server, service: TriageService, rate: float, seconds: float) -> list[float]:
    watcher = FolderWatcher(mailbox(server), "INBOX", service)
    app = App(service, [watcher], dispatcher=None, idle_seconds=0.2)
    task = asyncio.create_task(app.run(handle_signals=False))
    await asyncio.wait_for(watcher.connected.wait(), 10)
    await asyncio.sleep(0.5)
    sent: dict[str, datetime] = {}
    total = int(rate * seconds)

    def producer() -> None:
        imap = server.client()
        start = time.monotonic()
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[f"<steady-{n}@bench.example.org>"] = datetime.now(timezone.utc)
            imap.append("INBOX", None, None, mail("steady", n))
        imap.logout()

    thread = threading.Thread(target=producer)
    thread.start()
    await asyncio.to_thread(thread.join)
    deadline = time.monotonic() + 30
    while suggestions(service) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    app.request_stop()
    await task
    done = suggestion_times(service, "steady")
    return [(done[mid] - at).total_seconds() for mid, at in sent.items() if mid in done]


async def backlog(server, service: TriageService, count: int) -> tuple[float, int]:
    before = suggestions(service)
    watcher = FolderWatcher(mailbox(server), "INBOX", service)
    app = App(service, [watcher], dispatcher=None, idle_seconds=0.2)
    started = time.monotonic()
    task = asyncio.create_task(app.run(handle_signals=False))
    last, last_change = before, started
    while suggestions(service) - before < count:
        await asyncio.sleep(0.05)
        now_done = suggestions(service)
        if now_done != last:
            last, last_change = now_done, time.monotonic()
        elif time.monotonic() - last_change > 60:
            break  # no progress for a minute: report what was done
    elapsed = time.monotonic() - started
    app.request_stop()
    await task
    return elapsed, suggestions(service) - before


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=10.0, help="APPENDs per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    parser.add_argument("--backlog", type=int, default=5000, help="messages waiting in the backlog phase")
    parser.add_argument("--store", default=None, help="store URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop Dovecot on the way out
    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    server = make_dovecot()
    server.start()
    try:
        store = open_store(args.store or f"sqlite:///{workdir}/bench.db")
        service = TriageService(store, load_model(), load_taxonomy(), Settings())
        latencies = asyncio.run(steady(server, service, args.rate, args.seconds))
        if not latencies:
            print("steady load: no suggestions recorded (see the log above)")
            return 1
        print(f"steady load: {len(latencies)} of {int(args.rate * args.seconds)} messages at {args.rate:g}/s, "
              f"APPEND -> suggestion p50 {statistics.median(latencies):.3f} s, "
              f"p95 {percentile(latencies, 0.95):.3f} s, max {max(latencies):.3f} s (target p95 <= 2 s)")
        t = time.monotonic()
        imap = server.client()
        for n in range(args.backlog):
            imap.append("INBOX", None, None, mail("backlog", n))
        imap.logout()
        print(f"backlog: {args.backlog} messages APPENDed in {time.monotonic() - t:.1f} s")
        elapsed, drained = asyncio.run(backlog(server, service, args.backlog))
        print(f"backlog drain: {drained} messages stored and classified in {elapsed:.1f} s = "
              f"{drained / elapsed:.0f} messages/s (target >= 100/s), store {store.dialect}")
        store.close()
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"reproduce: .venv/bin/python bench/e2e.py --rate {args.rate:g} --seconds {args.seconds:g} "
          f"--backlog {args.backlog}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
