"""The one wiring function: from settings to a running :class:`~connectors.runner.App`."""

from __future__ import annotations

import logging
from pathlib import Path

from triage.config import FolderSettings, MailboxSettings, Settings
from triage.service import TriageService
from triage.store import open_store
from triage.taxonomy import load_taxonomy

from connectors.console import ConsoleReviewer
from connectors.folder import FolderSource
from connectors.runner import App, ConsoleDispatcher

log = logging.getLogger("connectors.bootstrap")


def build_service(settings: Settings, model=None) -> TriageService:
    """Open the store (migrating it), load the model and taxonomy."""
    from triage.training import load_model

    store = open_store(settings.store_url)
    if model is None:
        model = load_model(Path(settings.model_dir) if settings.model_dir else None)
    return TriageService(store, model, load_taxonomy(settings.taxonomy), settings)


def build_sources(settings: Settings, service: TriageService) -> list:
    from connectors.imap import watchers_for

    sources: list = []
    for mailbox in settings.mailboxes:
        sources.extend(watchers_for(mailbox, service))
    for folder in settings.folders:
        source = FolderSource(folder.path, folder.format, folder.poll_seconds)
        source.ensure()
        sources.append(source)
    return sources


def build_app(settings: Settings, model=None, service: TriageService | None = None) -> App:
    """Everything ``triage run`` needs: store, model, sources and reviewer (Slack when configured)."""
    service = service or build_service(settings, model)
    sources = build_sources(settings, service)
    if settings.reviewer == "slack":
        from connectors.slack.runner import SlackRuntime
        from connectors.slack.settings import slack_settings

        runtime = SlackRuntime(slack_settings(settings.slack, redaction=settings.excerpt), service)
        return App(service, sources, dispatcher=None, extra_tasks=[runtime.run],
                   dispatch_once=runtime.dispatcher.dispatch_once)
    return App(service, sources, dispatcher=ConsoleDispatcher(service, ConsoleReviewer()))


def apply_sources(settings: Settings, sources: list[MailboxSettings | FolderSettings]) -> Settings:
    """``--source`` arguments replace the configured sources; folders of one account share a mailbox."""
    if not sources:
        return settings
    mailboxes: dict[str, MailboxSettings] = {}
    folders: list[FolderSettings] = []
    for source in sources:
        if isinstance(source, FolderSettings):
            folders.append(source)
            continue
        known = mailboxes.get(source.name)
        if known is None:
            configured = next((m for m in settings.mailboxes if m.host == source.host and m.user == source.user), None)
            if configured is not None:  # keep the configured secrets, marking and timing for that account
                source.password, source.auth, source.password_env = (configured.password, configured.auth,
                                                                     configured.password_env)
                source.token_env, source.mark, source.move_to = configured.token_env, configured.mark, configured.move_to
                source.keyword, source.ca_file = configured.keyword, configured.ca_file
            mailboxes[source.name] = source
        else:
            known.folders.extend(f for f in source.folders if f not in known.folders)
    settings.mailboxes = list(mailboxes.values())
    settings.folders = folders
    return settings
