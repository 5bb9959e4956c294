"""A small fake of the Slack Web API on loopback, for the real slack_sdk WebClient.

It keeps channels, members, user groups and posted messages in memory,
records every call (method, parameters, headers, HTTP status), and can be
told to answer 500 or 429 (with Retry-After) for a while, or to be "down".
Point ``WebClient(base_url=fake.base_url)`` at it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
BOT_USER = "UBOT"
TEAM = "T0FAKE"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    ok: bool = True


@dataclass
class Failure:
    status: int
    remaining: int | None  # None: until cleared
    retry_after: int = 0
    methods: frozenset[str] | None = None
    after: bool = False  # carry the call out, then answer the error (a lost response)


@dataclass
class Channel:
    id: str
    name: str
    is_member: bool = True
    members: list[str] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)


class FakeSlack:
    """The fake Web API; use as a context manager or call start()/stop()."""

    def __init__(self, token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.token = token
        self.app_token = app_token
        #: What apps.connections.open hands out (a Socket Mode server's ws:// URL).
        self.socket_url = "ws://127.0.0.1:9/link"
        self.calls: list[Call] = []
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, dict] = {}
        self.views: list[dict] = []
        self.ephemeral: list[dict] = []
        self.responses: list[dict] = []
        self._failures: list[Failure] = []
        self._lock = threading.Lock()
        self._ts = int(time.time())
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------- set-up ---

    def add_channel(self, channel_id: str, name: str, *, is_member: bool = True, members: list[str] | None = None) -> Channel:
        channel = Channel(channel_id, name, is_member, list(members or []))
        self.channels[channel_id] = channel
        return channel

    def add_user(self, user_id: str, real_name: str, display_name: str = "") -> None:
        self.users[user_id] = {"id": user_id, "name": real_name.lower().replace(" ", "."), "real_name": real_name,
                               "profile": {"real_name": real_name, "display_name": display_name or real_name}}

    def fail(self, status: int, times: int | None = 1, retry_after: int = 0, methods: set[str] | None = None,
             after: bool = False) -> None:
        """Answer ``status`` to the next ``times`` calls (None: until :meth:`recover`); with ``after`` the
        call is carried out first, as when Slack posts a message but the answer is lost."""
        with self._lock:
            self._failures.append(Failure(status, times, retry_after, frozenset(methods) if methods else None,
                                          after))

    def go_down(self) -> None:
        """Answer 500 to everything until :meth:`recover`."""
        self.fail(500, None)

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    # ----------------------------------------------------------- queries ---

    def calls_to(self, method: str, *, ok: bool | None = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def messages(self, channel: str) -> list[dict]:
        return self.channels[channel].messages

    def find_message(self, channel: str, ts: str) -> dict:
        for message in self.channels[channel].messages:
            if message["ts"] == ts:
                return message
        raise KeyError(f"{channel}/{ts}")

    # -------------------------------------------------------- lifecycle ---

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def response_url(self) -> str:
        return self.base_url.replace("/api/", "/response/")

    def start(self) -> "FakeSlack":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fake._handle(self, self.rfile.read(length) if length else b"")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---------------------------------------------------------- serving ---

    def _handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        url = urlsplit(request.path)
        params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(url.query).items()}
        ctype = request.headers.get("Content-Type", "")
        if body:
            if "json" in ctype:
                params.update(json.loads(body.decode("utf-8")))
            else:
                params.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()})
        headers = {k.lower(): v for k, v in request.headers.items()}
        if url.path.startswith("/response/"):
            method = "response_url"
        else:
            method = url.path.rsplit("/", 1)[-1]
        for key in ("blocks", "view", "attachments"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError:
                    pass
        call = Call(method, params, headers)
        with self._lock:
            self.calls.append(call)
            failure = self._take_failure(method)
            if failure is None or failure.after:
                data = self._dispatch(method, params, headers)
                call.ok = bool(data.get("ok"))
            if failure is not None:
                call.status, call.ok = failure.status, False
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            self._send(request, failure.status, {"ok": False, "error": "ratelimited" if failure.status == 429
                                                 else "internal_error"}, extra)
            return
        self._send(request, 200, data)

    def _take_failure(self, method: str) -> Failure | None:
        for failure in self._failures:
            if failure.methods is not None and method not in failure.methods:
                continue
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, data: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.000100"

    def _dispatch(self, method: str, params: dict, headers: dict) -> dict:
        if method == "response_url":
            self.responses.append(params)
            return {"ok": True}
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.get("token", "")
        if method == "apps.connections.open":
            if token != self.app_token:
                return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
            return {"ok": True, "url": self.socket_url}
        if token != self.token:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(params)

    def _channel(self, params: dict) -> Channel | dict:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return channel

    # ---------------------------------------------------------- methods ---

    def _m_auth_test(self, params: dict) -> dict:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake Council", "team_id": TEAM,
                "user": "triage", "user_id": BOT_USER, "bot_id": "BFAKE"}

    def _m_chat_postMessage(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        if not channel.is_member:
            return {"ok": False, "error": "not_in_channel"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        message = {"ts": self._next_ts(), "text": params.get("text", ""), "blocks": params.get("blocks"),
                   "thread_ts": params.get("thread_ts"), "user": BOT_USER,
                   "metadata": params.get("metadata")}
        channel.messages.append(message)
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": message}

    def _m_chat_update(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        try:
            message = self.find_message(channel.id, str(params.get("ts")))
        except KeyError:
            return {"ok": False, "error": "message_not_found"}
        message["text"] = params.get("text", message["text"])
        if "blocks" in params:
            message["blocks"] = params["blocks"]
        message["edited"] = True
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "text": message["text"]}

    def _m_chat_postEphemeral(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        self.ephemeral.append(params)
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_views_open(self, params: dict) -> dict:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        self.views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.views):05d}", **view}}

    def _m_conversations_info(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name, "is_member": channel.is_member,
                                        "is_channel": True}}

    def _m_conversations_members(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        members = list(channel.members) + ([BOT_USER] if channel.is_member else [])
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_join(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        channel.is_member = True
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name}}

    def _m_conversations_replies(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        ts = str(params.get("ts"))
        found = [m for m in channel.messages if m["ts"] == ts or m.get("thread_ts") == ts]
        return {"ok": True, "messages": found, "has_more": False}

    def _m_conversations_history(self, params: dict) -> dict:
        channel = self._channel(params)
        if isinstance(channel, dict):
            return channel
        oldest = float(params.get("oldest") or 0)
        top = [m for m in channel.messages if not m.get("thread_ts") and float(m["ts"]) > oldest]
        return {"ok": True, "messages": list(reversed(top)), "has_more": False}

    def _m_usergroups_users_list(self, params: dict) -> dict:
        group = str(params.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _m_users_info(self, params: dict) -> dict:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}
