"""The run loop: sources deliver into the store, a processor classifies, a dispatcher hands work to the reviewer."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, Awaitable, Callable

from triage.ports import Incoming
from triage.service import OutboxItem, TriageService

log = logging.getLogger("connectors.run")


def stopping() -> bool:
    """True when the current task has been asked to stop (a cancellation that asyncio.wait_for may have
    swallowed in Python 3.11 still counts)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def wait_event(event: asyncio.Event, timeout: float) -> None:
    """Wait for ``event`` up to ``timeout`` seconds without ever swallowing a cancellation."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()


class ConsoleDispatcher:
    """Delivers outbox items to a reviewer with show/route/thread/alert (the console reviewer)."""

    def __init__(self, service: TriageService, reviewer: Any) -> None:
        self.service = service
        self.reviewer = reviewer

    async def dispatch_once(self) -> int:
        sent = 0
        items = await asyncio.to_thread(self.service.outbox_pending, None, 200)
        for item in items:
            try:
                ref = await self._send(item)
            except Exception as exc:
                log.warning("outbox_failed id=%s kind=%s error=%s", item.id, item.kind, type(exc).__name__)
                await asyncio.to_thread(self.service.mark_outbox_failed, item.id, type(exc).__name__)
                continue
            await asyncio.to_thread(self.service.mark_outbox_sent, item.id, ref)
            sent += 1
        return sent

    async def _send(self, item: OutboxItem) -> str | None:
        if item.kind == "review":
            return await self.reviewer.show(await asyncio.to_thread(self.service.review_item, item.message_id))
        if item.kind == "route":
            return await self.reviewer.route(item)
        if item.kind == "thread":
            review = await asyncio.to_thread(self.service.review_item, item.message_id)
            return await self.reviewer.thread(item, review)
        if item.kind == "alert":
            return await self.reviewer.alert(item.payload.get("text", ""))
        return None


class App:
    """The running product: sources, the classifier loop and the reviewer, wired by :mod:`connectors.bootstrap`."""

    def __init__(self, service: TriageService, sources: list, dispatcher: ConsoleDispatcher | None = None,
                 extra_tasks: list[Callable[[asyncio.Event], Awaitable[None]]] | None = None,
                 idle_seconds: float = 1.0, dispatch_once: Callable[[], int] | None = None) -> None:
        self.service = service
        self.sources = sources
        self.dispatcher = dispatcher
        #: For ``--once`` when a reviewer runs its own dispatcher (Slack): one blocking pass over the outbox.
        self.dispatch_once = dispatch_once
        self.extra_tasks = extra_tasks or []
        self.idle_seconds = idle_seconds
        self.stop_event = asyncio.Event()
        self._new_mail = asyncio.Event()
        self._new_work = asyncio.Event()

    async def deliver(self, incoming: Incoming) -> None:
        """The StoreCallback given to every source: returns once the message is durably stored."""
        await self.service.ingest(incoming)
        self._new_mail.set()

    async def process(self) -> int:
        """Classify everything received (in a worker thread)."""
        done = await asyncio.to_thread(self.service.process_pending)
        if done:
            self._new_work.set()
        return done

    async def dispatch(self) -> int:
        if self.dispatcher is not None:
            return await self.dispatcher.dispatch_once()
        if self.dispatch_once is not None:
            return await asyncio.to_thread(self.dispatch_once)
        return 0

    async def run_once(self) -> dict[str, int]:
        """Drain every source, classify, dispatch, and return counts (``triage run --once``)."""
        delivered = 0
        for source in self.sources:
            delivered += await source.drain(self.deliver)
        processed = await self.process()
        dispatched = await self.dispatch()
        return {"delivered": delivered, "processed": processed, "dispatched": dispatched}

    async def _processor(self) -> None:
        while not self.stop_event.is_set() and not stopping():
            await wait_event(self._new_mail, self.idle_seconds)
            self._new_mail.clear()
            try:
                await self.process()
            except Exception as exc:  # keep running: the messages stay "received" and are retried
                log.error("process_failed error=%s", type(exc).__name__)
                await asyncio.sleep(self.idle_seconds)

    async def _dispatcher(self) -> None:
        while not self.stop_event.is_set() and not stopping():
            await wait_event(self._new_work, self.idle_seconds)
            self._new_work.clear()
            try:
                await self.dispatch()
            except Exception as exc:
                log.error("dispatch_failed error=%s", type(exc).__name__)

    def request_stop(self) -> None:
        self.stop_event.set()

    async def run(self, handle_signals: bool = True) -> None:
        """Run until SIGTERM/SIGINT (or :meth:`request_stop`), then stop every task cleanly."""
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        tasks = [asyncio.create_task(source.run(self.deliver), name=source.name) for source in self.sources]
        tasks.append(asyncio.create_task(self._processor(), name="processor"))
        if self.dispatcher is not None:
            tasks.append(asyncio.create_task(self._dispatcher(), name="dispatcher"))
        tasks.extend(asyncio.create_task(extra(self.stop_event)) for extra in self.extra_tasks)
        log.info("run_started sources=%s", ",".join(s.name for s in self.sources))
        stopper = asyncio.create_task(self.stop_event.wait())
        try:
            done, _ = await asyncio.wait({stopper, *tasks}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception() is not None:
                    raise task.exception()
        finally:
            self.stop_event.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stopper.cancel()
            if handle_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            log.info("run_stopped")
