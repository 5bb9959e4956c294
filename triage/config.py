"""Configuration: one ``triage.toml`` plus environment variables for secrets.

Every value has an embedded default, so the product runs with no file at all
(SQLite ``./triage.db``, the shipped model, a ``./inbox`` folder, console
review). Problems raise :class:`ConfigError` naming the key and the fix.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_CONFIG_FILE = "triage.toml"
EXCERPT_MODES = ("full", "excerpt", "none")
SECURITY_MODES = ("tls", "starttls", "plain")
AUTH_MODES = ("password", "xoauth2")
MARK_MODES = ("move", "keyword", "none")


class ConfigError(ValueError):
    """A configuration problem, worded as what is wrong and how to fix it."""


@dataclass
class MailboxSettings:
    """One IMAP account and the folders watched in it."""

    name: str
    host: str
    user: str
    port: int | None = None
    security: str = "tls"
    auth: str = "password"
    password_env: str = "TRIAGE_IMAP_PASSWORD"
    token_env: str = "TRIAGE_IMAP_TOKEN"
    password: str | None = field(default=None, repr=False)
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    mark: str = "move"
    move_to: str = "Triaged"
    keyword: str = "$Triaged"
    allow_plaintext: bool = False
    verify_tls: bool = True
    ca_file: str | None = None
    idle_renew_seconds: float = 25 * 60
    poll_seconds: float = 60.0
    connect_timeout: float = 15.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    alert_after_seconds: float = 15 * 60
    fetch_batch: int = 100

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.security == "tls" else 143

    def secret(self) -> str:
        """The password or bearer token, from the environment first, then the config."""
        env = self.token_env if self.auth == "xoauth2" else self.password_env
        value = os.environ.get(env) or self.password
        if not value:
            kind = "an OAuth2 access token" if self.auth == "xoauth2" else "a password"
            raise ConfigError(f"mailbox {self.name!r}: no {kind} for {self.user}; set the environment variable {env}")
        return value

    def check(self) -> None:
        where = f"[[mailbox]] {self.name!r}"
        if self.security not in SECURITY_MODES:
            raise ConfigError(f"{where} security = {self.security!r}: use one of {', '.join(SECURITY_MODES)}")
        if self.security == "plain" and not self.allow_plaintext:
            raise ConfigError(f"{where} security = \"plain\" sends the password unencrypted; use \"tls\" or "
                              "\"starttls\", or set allow_plaintext = true (loopback testing only) "
                              "or pass --allow-plaintext")
        if self.auth not in AUTH_MODES:
            raise ConfigError(f"{where} auth = {self.auth!r}: use one of {', '.join(AUTH_MODES)}")
        if self.mark not in MARK_MODES:
            raise ConfigError(f"{where} mark = {self.mark!r}: use one of {', '.join(MARK_MODES)}")
        if not self.folders or not all(isinstance(f, str) and f for f in self.folders):
            raise ConfigError(f"{where} folders must be a list of folder names, e.g. [\"INBOX\"]")
        if self.idle_renew_seconds >= 29 * 60:
            raise ConfigError(f"{where} idle_renew_seconds must be under 1740 (29 minutes, RFC 2177)")
        if self.backoff_initial <= 0 or self.backoff_max < self.backoff_initial:
            raise ConfigError(f"{where} needs 0 < backoff_initial <= backoff_max")


@dataclass
class FolderSettings:
    """A local directory (``dir``) or Maildir (``maildir``) watched for new messages."""

    path: str
    format: str = "dir"
    poll_seconds: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.format}:{self.path}"


@dataclass
class Settings:
    """Everything the running product needs, validated."""

    store_url: str = "sqlite:///triage.db"
    model_dir: str | None = None
    taxonomy: str | None = None
    reviewer: str = "console"
    excerpt: str = "excerpt"
    excerpt_chars: int = 600
    reference_prefix: str = "ASC"
    acknowledgement_days: int = 3
    response_target_days: int = 20
    batch_size: int = 256
    mailboxes: list[MailboxSettings] = field(default_factory=list)
    folders: list[FolderSettings] = field(default_factory=list)
    slack: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def check(self) -> None:
        if self.excerpt not in EXCERPT_MODES:
            raise ConfigError(f"[review] excerpt = {self.excerpt!r}: use one of {', '.join(EXCERPT_MODES)}")
        if self.reviewer not in ("console", "slack"):
            raise ConfigError(f"[review] reviewer = {self.reviewer!r}: use \"console\" or \"slack\"")
        if self.reviewer == "slack" and not self.slack:
            raise ConfigError("[review] reviewer = \"slack\" needs a [slack] section (see docs/slack.md)")
        if not (1 <= self.response_target_days <= 130):
            raise ConfigError("[cases] response_target_days must be between 1 and 130 working days")
        if not self.reference_prefix.isalnum():
            raise ConfigError("[cases] reference_prefix must be letters and digits only, e.g. \"ASC\"")
        names = [m.name for m in self.mailboxes]
        if len(names) != len(set(names)):
            raise ConfigError("[[mailbox]] names must be unique; give each mailbox its own name")
        for mailbox in self.mailboxes:
            mailbox.check()
        for folder in self.folders:
            if folder.format not in ("dir", "maildir"):
                raise ConfigError(f"[[folder]] {folder.path!r} format = {folder.format!r}: use \"dir\" or \"maildir\"")


_TYPES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string", list: "a list"}


def _take(table: dict, key: str, kind: type, where: str, default: Any = None) -> Any:
    if key not in table:
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise ConfigError(f"{where} {key} must be {_TYPES[kind]}, got {value!r}")
    return value


def _known(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(allowed))})")


_MAILBOX_KEYS = {"name", "host", "port", "user", "security", "auth", "password_env", "token_env", "password",
                 "folders", "mark", "move_to", "keyword", "allow_plaintext", "verify_tls", "idle_renew_seconds",
                 "poll_seconds", "connect_timeout", "backoff_initial", "backoff_max", "alert_after_seconds",
                 "fetch_batch", "ca_file"}


def _mailbox(table: dict, index: int) -> MailboxSettings:
    where = f"[[mailbox]] #{index + 1}"
    _known(table, _MAILBOX_KEYS, where)
    for required in ("host", "user"):
        if required not in table:
            raise ConfigError(f"{where}: missing {required} (e.g. {required} = \"...\")")
    floats = ("idle_renew_seconds", "poll_seconds", "connect_timeout", "backoff_initial", "backoff_max",
              "alert_after_seconds")
    kwargs: dict[str, Any] = {
        "name": _take(table, "name", str, where, table["host"] + "/" + str(table["user"])),
        "host": _take(table, "host", str, where), "user": _take(table, "user", str, where),
        "port": _take(table, "port", int, where),
    }
    for key in ("security", "auth", "password_env", "token_env", "password", "mark", "move_to", "keyword",
                "ca_file"):
        if key in table:
            kwargs[key] = _take(table, key, str, where)
    for key in ("allow_plaintext", "verify_tls"):
        if key in table:
            kwargs[key] = _take(table, key, bool, where)
    for key in floats:
        if key in table:
            kwargs[key] = _take(table, key, float, where)
    if "fetch_batch" in table:
        kwargs["fetch_batch"] = _take(table, "fetch_batch", int, where)
    if "folders" in table:
        kwargs["folders"] = _take(table, "folders", list, where)
    return MailboxSettings(**kwargs)


def settings_from_dict(data: dict, path: str | None = None) -> Settings:
    """Build and validate :class:`Settings` from parsed TOML."""
    _known(data, {"store", "model", "review", "cases", "mailbox", "folder", "slack"}, "triage.toml")
    settings = Settings(path=path)
    store = data.get("store", {})
    _known(store, {"url"}, "[store]")
    settings.store_url = _take(store, "url", str, "[store]", settings.store_url)
    model = data.get("model", {})
    _known(model, {"dir", "taxonomy", "batch_size"}, "[model]")
    settings.model_dir = _take(model, "dir", str, "[model]") or None
    settings.taxonomy = _take(model, "taxonomy", str, "[model]") or None
    settings.batch_size = _take(model, "batch_size", int, "[model]", settings.batch_size)
    review = data.get("review", {})
    _known(review, {"reviewer", "excerpt", "excerpt_chars"}, "[review]")
    settings.reviewer = _take(review, "reviewer", str, "[review]", "slack" if data.get("slack") else "console")
    settings.excerpt = _take(review, "excerpt", str, "[review]", settings.excerpt)
    settings.excerpt_chars = _take(review, "excerpt_chars", int, "[review]", settings.excerpt_chars)
    cases = data.get("cases", {})
    _known(cases, {"reference_prefix", "acknowledgement_days", "response_target_days"}, "[cases]")
    settings.reference_prefix = _take(cases, "reference_prefix", str, "[cases]", settings.reference_prefix)
    settings.acknowledgement_days = _take(cases, "acknowledgement_days", int, "[cases]", 3)
    settings.response_target_days = _take(cases, "response_target_days", int, "[cases]", 20)
    mailboxes = data.get("mailbox", [])
    if not isinstance(mailboxes, list):
        raise ConfigError("mailboxes are written [[mailbox]] (double brackets), one block per mailbox")
    settings.mailboxes = [_mailbox(m, i) for i, m in enumerate(mailboxes)]
    folders = data.get("folder", [])
    if not isinstance(folders, list):
        raise ConfigError("local folders are written [[folder]] (double brackets), one block per folder")
    for i, table in enumerate(folders):
        where = f"[[folder]] #{i + 1}"
        _known(table, {"path", "format", "poll_seconds"}, where)
        if "path" not in table:
            raise ConfigError(f"{where}: missing path (e.g. path = \"./inbox\")")
        settings.folders.append(FolderSettings(
            path=_take(table, "path", str, where), format=_take(table, "format", str, where, "dir"),
            poll_seconds=_take(table, "poll_seconds", float, where, 1.0)))
    slack = data.get("slack", {})
    if not isinstance(slack, dict):
        raise ConfigError("[slack] must be a table")
    settings.slack = dict(slack)
    env_url = os.environ.get("TRIAGE_STORE_URL")
    if env_url:
        settings.store_url = env_url
    if not settings.mailboxes and not settings.folders:
        settings.folders = [FolderSettings(path="./inbox")]
    settings.check()
    return settings


def load_settings(path: str | Path | None = None) -> Settings:
    """Read ``path`` (or ``./triage.toml`` when present); embedded defaults when there is no file."""
    explicit = path is not None
    path = Path(path) if path is not None else Path(os.environ.get("TRIAGE_CONFIG", DEFAULT_CONFIG_FILE))
    if not path.is_file():
        if explicit:
            raise ConfigError(f"{path}: no such config file; copy triage.example.toml to {path} "
                              "or leave out --config to run on the defaults")
        return settings_from_dict({})
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return settings_from_dict(data, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def source_from_url(url: str, allow_plaintext: bool = False) -> MailboxSettings | FolderSettings:
    """A ``--source`` argument: ``imaps://user@host[:port]/FOLDER``, ``imap://...`` (plain, needs
    ``--allow-plaintext``), ``maildir:PATH`` or ``dir:PATH``. Passwords never go in the URL."""
    if url.startswith("maildir:"):
        return FolderSettings(path=url[len("maildir:"):], format="maildir")
    if url.startswith("dir:"):
        return FolderSettings(path=url[len("dir:"):], format="dir")
    parts = urlsplit(url)
    if parts.scheme not in ("imaps", "imap", "imap+starttls"):
        raise ConfigError(f"--source {url!r}: use imaps://user@host/FOLDER, imap+starttls://..., "
                          "imap://... (with --allow-plaintext), maildir:PATH or dir:PATH")
    if parts.password is not None:
        raise ConfigError(f"--source: put no password in the URL; set TRIAGE_IMAP_PASSWORD instead")
    if not parts.hostname or not parts.username:
        raise ConfigError(f"--source {url!r}: needs a user and a host, e.g. imaps://feedback@imap.example.org/INBOX")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    security = {"imaps": "tls", "imap+starttls": "starttls", "imap": "plain"}[parts.scheme]
    mailbox = MailboxSettings(name=f"{unquote(parts.username)}@{parts.hostname}", host=parts.hostname,
                              user=unquote(parts.username), port=parts.port, security=security, folders=[folder],
                              allow_plaintext=allow_plaintext)
    mailbox.check()
    return mailbox
