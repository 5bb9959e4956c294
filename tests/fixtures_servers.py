"""Real servers for the tests: PostgreSQL (initdb in a temporary directory) and Dovecot (own config,
users and Maildir), each on a free loopback port. A server that cannot start fails the test, never skips it."""

from __future__ import annotations

import glob
import imaplib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def server_failed(what: str, detail: str) -> None:
    """A server that cannot start is a failure (the CI contract), with what went wrong."""
    pytest.fail(f"{what} could not start: {detail}", pytrace=False)


def _run_as() -> tuple[str | None, int, int]:
    """Servers refuse to run as root: use the 'postgres' system user then (uid, gid for chown)."""
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    entry = pwd.getpwnam("postgres")
    return "postgres", entry.pw_uid, entry.pw_gid


# ------------------------------------------------------------ PostgreSQL ---


@dataclass
class PostgresServer:
    directory: Path
    port: int
    user: str | None
    process: subprocess.Popen | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def start_postgres() -> PostgresServer:
    bindir = _postgres_bin()
    if bindir is None:
        server_failed("PostgreSQL", "no /usr/lib/postgresql/*/bin/initdb; install the Debian package postgresql")
    user, uid, gid = _run_as()
    base = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    os.chmod(base, 0o755)
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    os.chown(base, uid, gid)
    os.chown(sockets, uid, gid)
    kwargs = {"user": user} if user else {}
    init = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C"], capture_output=True, text=True, **kwargs)
    if init.returncode != 0:
        server_failed("PostgreSQL", f"initdb failed: {init.stderr.strip()[-400:]}")
    port = free_port()
    log = open(base / "postgres.log", "wb")
    process = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(sockets),
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "max_connections=100"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
    server = PostgresServer(base, port, user, process)
    if not wait_for_port(port, 30, process):
        server.stop()
        server_failed("PostgreSQL", (base / "postgres.log").read_text(errors="replace")[-600:])
    import psycopg

    deadline = time.monotonic() + 20
    while True:
        try:
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres").close()
            break
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                server.stop()
                server_failed("PostgreSQL", str(exc))
            time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def postgres_server():
    server = start_postgres()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


# ---------------------------------------------------------------- Dovecot ---

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
disable_plaintext_auth = no
auth_mechanisms = {auth_mechanisms}
mail_location = maildir:{base}/mail/%u
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
default_internal_user = {internal}
default_login_user = {login}
default_internal_group = {internal_group}
mail_max_userip_connections = 200
mail_fsync = never
# Dovecot's default (yes) creates a dotlock with O_EXCL and writes its PID afterwards: a SIGKILL between
# the two leaves an empty lock that no PID check can clear, so every SELECT waits out the 120 s stale
# timeout. With "no" the PID is written to a temporary file that is linked into place, and a lock left by
# a killed process is taken over in seconds. Production servers behave either way; the watcher retries.
dotlock_use_excl = no
auth_failure_delay = 0
protocol imap {{
  mail_max_userip_connections = 200
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
  process_min_avail = 1
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class DovecotServer:
    """A running Dovecot with one user; ``port`` is plain IMAP (STARTTLS offered), ``tls_port`` IMAPS."""

    directory: Path
    port: int
    tls_port: int
    user: str = "feedback"
    password: str = "s3cret-pass"
    process: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.directory / "dovecot.conf"

    @property
    def cert(self) -> Path:
        return self.directory / "cert.pem"

    def start(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        log = open(self.directory / "stdout.log", "ab")
        self.process = subprocess.Popen([binary, "-F", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        if not wait_for_port(self.port, 20, self.process) or not wait_for_port(self.tls_port, 5, self.process):
            self.kill()
            server_failed("Dovecot", self.log_tail())

    def log_tail(self) -> str:
        parts = []
        for name in ("stdout.log", "dovecot.log"):
            path = self.directory / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-800:])
        return "\n".join(parts) or "no log"

    def kill(self) -> None:
        """Kill the whole server (master and every child) at once, as a crash would."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kick(self) -> None:
        """Drop every IMAP connection of the user (the server closes them mid-IDLE)."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        result = subprocess.run([doveadm, "-c", str(self.config), "kick", self.user], capture_output=True, text=True)
        if result.returncode not in (0, 68):  # 68: nobody was connected
            raise RuntimeError(f"doveadm kick failed: {result.stderr.strip()}")

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        self.append_many([raw], folder)

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> None:
        imap = self.client()
        try:
            for raw in messages:
                typ, data = imap.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def message_ids(self, folder: str = "INBOX") -> set[str]:
        """The distinct Message-ID headers in a folder."""
        imap = self.client()
        try:
            imap.select(folder, readonly=True)
            typ, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            return {part[1].decode().split(":", 1)[1].strip() for part in data if isinstance(part, tuple)}
        finally:
            imap.logout()

    def keyword_uids(self, keyword: str, folder: str = "INBOX") -> list[int]:
        imap = self.client()
        try:
            imap.select(folder, readonly=True)
            return [int(x) for x in imap.uid("SEARCH", "KEYWORD", keyword)[1][0].split()]
        finally:
            imap.logout()

    def uids(self, folder: str = "INBOX") -> list[int]:
        imap = self.client()
        try:
            imap.select(folder)
            typ, data = imap.uid("SEARCH", "ALL")
            return [int(x) for x in data[0].split()]
        finally:
            imap.logout()


def _self_signed(directory: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        server_failed("Dovecot", "openssl is needed to make the test certificate; install the Debian package openssl")
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")], capture_output=True, text=True)
    if result.returncode != 0:
        server_failed("Dovecot", f"openssl failed: {result.stderr[-400:]}")


def make_dovecot(extra_config: str = "", auth_mechanisms: str = "plain login") -> DovecotServer:
    """A configured, not yet started Dovecot; "{base}" in ``extra_config`` names its directory."""
    base = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
    os.chmod(base, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir()
    _self_signed(base)
    server = DovecotServer(base, free_port(), free_port())
    (base / "users").write_text(f"{server.user}:{{PLAIN}}{server.password}::::::\n")
    if os.geteuid() == 0:  # Dovecot refuses mail access as root: the mail belongs to 'nobody'
        entry = pwd.getpwnam("nobody")
        uid, gid = entry.pw_uid, entry.pw_gid
        for sub in ("mail", "home"):
            os.chown(base / sub, uid, gid)
        internal, login, group = "dovecot", "dovenull", "dovecot"
    else:
        uid, gid = os.getuid(), os.getgid()
        me = pwd.getpwuid(uid).pw_name
        internal = login = me
        group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    server.config.write_text(DOVECOT_CONF.format(base=base, uid=uid, gid=gid, port=server.port,
                                                 tls_port=server.tls_port, internal=internal, login=login,
                                                 internal_group=group, auth_mechanisms=auth_mechanisms)
                             + extra_config.replace("{base}", str(base)))
    return server


@pytest.fixture
def dovecot():
    """A fresh Dovecot per test (empty Maildir), stopped afterwards."""
    server = make_dovecot()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def dovecot_without_idle():
    """A Dovecot that does not advertise IDLE after login, so clients must poll."""
    server = make_dovecot("imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE MOVE UIDPLUS\n")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


# ------------------------------------------------- Dovecot with OAuth2 ---


class TokenServer:
    """An OAuth2 token introspection endpoint (RFC 7662) on loopback, as Dovecot's oauth2 passdb asks it:
    ``POST token=...``; a known token is {"active": true, "username": <its user>}, any other {"active": false}."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)
        self.asked: list[str] = []  # every token Dovecot introspected, in order
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                token = parse_qs(body).get("token", [""])[0]
                server.asked.append(token)
                user = server.tokens.get(token)
                answer = {"active": True, "username": user} if user else {"active": False}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # keep tokens out of stderr
                pass

        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        except OSError as exc:
            server_failed("OAuth2 introspection server", str(exc))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="token-introspection", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


OAUTH2_PASSDB = """\
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/dovecot-oauth2.conf.ext
}
# no growing penalty (2, 4, 8, 15 s) for repeated failures from 127.0.0.1: the tests retry refused tokens fast
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
"""

OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


@dataclass
class OAuth2Dovecot:
    """A Dovecot that accepts XOAUTH2/OAUTHBEARER bearer tokens checked against ``tokens`` (the password user
    still logs in with LOGIN/PLAIN, so the helpers of :class:`DovecotServer` keep working)."""

    server: DovecotServer
    tokens: TokenServer
    good_token: str


@pytest.fixture
def dovecot_oauth2():
    """A fresh Dovecot whose oauth2 passdb introspects tokens at a TokenServer run by the test."""
    good = "ya29." + uuid.uuid4().hex + uuid.uuid4().hex
    server = make_dovecot(OAUTH2_PASSDB, auth_mechanisms="plain login xoauth2 oauthbearer")
    tokens = TokenServer({good: server.user})
    (server.directory / "dovecot-oauth2.conf.ext").write_text(OAUTH2_CONF.format(url=tokens.url))
    try:
        server.start()
        yield OAuth2Dovecot(server, tokens, good)
    finally:
        server.stop()
        tokens.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
