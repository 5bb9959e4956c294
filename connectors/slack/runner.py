"""Running the Slack side: the Bolt app over Socket Mode (default) or HTTP, and the outbox dispatcher."""

from __future__ import annotations

import asyncio
import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from triage.service import TriageService

from connectors.slack.app import build_app
from connectors.slack.client import make_web_client
from connectors.slack.reviewer import OutboxDispatcher, SlackReviewer
from connectors.slack.settings import SlackSettings

log = logging.getLogger("connectors.slack")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # request lines may carry ids: keep them out of the log
        pass


def serve_http(app: App, host: str, port: int, path: str = "/slack/events") -> WSGIServer:
    """Serve the Bolt app over HTTP in a background thread; Bolt checks every request's signature."""
    server = make_server(host, port, SlackRequestHandler(app, path=path), server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="slack-http",
                     daemon=True).start()
    log.info("slack_http_listening host=%s port=%s path=%s", host, server.server_port, path)
    return server


class SlackRuntime:
    """The Bolt app, its connection to Slack and the outbox dispatcher, started and stopped together."""

    def __init__(self, settings: SlackSettings, service: TriageService, client: WebClient | None = None) -> None:
        settings.check()
        self.settings = settings
        self.client = client or make_web_client(settings)
        self.app, self.deps = build_app(settings, service, self.client)
        self.reviewer = SlackReviewer(self.client, settings)
        self.dispatcher = OutboxDispatcher(service, self.reviewer)
        self.http: WSGIServer | None = None
        self.socket: SocketModeHandler | None = None
        self._stop = threading.Event()
        self._dispatch_thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect (Socket Mode or HTTP) and start the dispatcher thread; returns at once."""
        if self.settings.mode == "http":
            self.http = serve_http(self.app, self.settings.http_host, self.settings.http_port, self.settings.http_path)
        self._stop.clear()
        if self.settings.mode == "socket":
            self.socket = SocketModeHandler(self.app, self.settings.app_token)
            threading.Thread(target=self._connect, name="slack-socket", daemon=True).start()
        self._dispatch_thread = threading.Thread(target=self.dispatcher.run, args=(self._stop,),
                                                 name="slack-outbox", daemon=True)
        self._dispatch_thread.start()

    def _connect(self) -> None:
        """Open the Socket Mode connection, retrying with back-off while Slack cannot be reached
        (the SDK reconnects by itself once connected)."""
        delay = 1.0
        while not self._stop.is_set() and self.socket is not None:
            try:
                self.socket.connect()
                log.info("slack_socket_mode_connected")
                return
            except Exception as exc:  # any failure to connect is retried; the error names no secret
                log.warning("slack_socket_mode_connect_failed error=%s retry_in=%.0fs", type(exc).__name__, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 60.0)

    def stop(self) -> None:
        """Stop dispatching and disconnect."""
        self._stop.set()
        if self._dispatch_thread is not None:
            self._dispatch_thread.join(timeout=10)
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
            self.http = None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (for the ``triage run`` event loop)."""
        await asyncio.to_thread(self.start)
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(self.stop)
