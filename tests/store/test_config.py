"""triage.toml and --source parsing."""

from __future__ import annotations

import pytest

from triage.config import ConfigError, FolderSettings, load_settings, source_from_url


def test_no_file_gives_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGE_STORE_URL", raising=False)
    settings = load_settings()
    assert settings.store_url == "sqlite:///triage.db"
    assert settings.reviewer == "console" and settings.excerpt == "excerpt"
    assert settings.folders == [FolderSettings(path="./inbox")] and settings.mailboxes == []


def test_example_file_at_repo_top_is_valid(monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("TRIAGE_IMAP_PASSWORD", "x")
    example = Path(__file__).resolve().parents[2] / "triage.example.toml"
    settings = load_settings(example)
    assert settings.mailboxes and settings.mailboxes[0].security in ("tls", "starttls")


def test_mailbox_config_and_secrets(tmp_path, monkeypatch):
    path = tmp_path / "triage.toml"
    path.write_text('[store]\nurl = "sqlite:///x.db"\n[[mailbox]]\nname = "feedback"\nhost = "imap.example.org"\n'
                    'user = "feedback@example.org"\nfolders = ["INBOX", "Complaints"]\nmark = "keyword"\n'
                    'auth = "xoauth2"\ntoken_env = "FB_TOKEN"\n')
    settings = load_settings(path)
    mailbox = settings.mailboxes[0]
    assert mailbox.effective_port == 993 and mailbox.folders == ["INBOX", "Complaints"]
    monkeypatch.delenv("FB_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="FB_TOKEN"):
        mailbox.secret()
    monkeypatch.setenv("FB_TOKEN", "tok")
    assert mailbox.secret() == "tok"
    assert settings.folders == []  # a configured mailbox replaces the default ./inbox


@pytest.mark.parametrize("text, needle", [
    ('[store]\nurls = "x"\n', "unknown key 'urls'"),
    ('[[mailbox]]\nhost = "h"\nuser = "u"\nsecurity = "plain"\n', "allow_plaintext"),
    ('[[mailbox]]\nhost = "h"\n', "missing user"),
    ('[[mailbox]]\nhost = "h"\nuser = "u"\nport = "993"\n', "port must be a whole number"),
    ('[review]\nexcerpt = "some"\n', "excerpt"),
    ('[review]\nreviewer = "slack"\n', "[slack]"),
    ('[store\n', "not valid TOML"),
])
def test_errors_name_the_key_and_the_fix(tmp_path, text, needle):
    path = tmp_path / "triage.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_missing_explicit_config_file(tmp_path):
    with pytest.raises(ConfigError, match="triage.example.toml"):
        load_settings(tmp_path / "nope.toml")


def test_sources_from_the_command_line():
    m = source_from_url("imaps://feedback@imap.example.org/Complaints")
    assert (m.host, m.user, m.security, m.folders, m.effective_port) == (
        "imap.example.org", "feedback", "tls", ["Complaints"], 993)
    assert source_from_url("imap+starttls://u@h:1143").security == "starttls"
    assert source_from_url("maildir:/var/mail/x") == FolderSettings("/var/mail/x", "maildir")
    assert source_from_url("dir:./inbox") == FolderSettings("./inbox", "dir")
    with pytest.raises(ConfigError, match="allow_plaintext|--allow-plaintext"):
        source_from_url("imap://u@127.0.0.1:1143/INBOX")
    assert source_from_url("imap://u@127.0.0.1:1143/INBOX", allow_plaintext=True).security == "plain"
    with pytest.raises(ConfigError, match="TRIAGE_IMAP_PASSWORD"):
        source_from_url("imaps://u:pw@h/INBOX")
    with pytest.raises(ConfigError):
        source_from_url("pop3://u@h")
