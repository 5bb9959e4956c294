"""``triage run``, ``triage review``, ``triage cases list`` and ``triage doctor``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from triage.cli import CommandError
from triage.config import ConfigError, Settings, load_settings, source_from_url

log = logging.getLogger("connectors.commands")


def _settings(args: argparse.Namespace) -> Settings:
    try:
        settings = load_settings(args.config)
        sources = [source_from_url(s, getattr(args, "allow_plaintext", False)) for s in getattr(args, "source", None) or []]
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    from connectors.bootstrap import apply_sources

    return apply_sources(settings, sources)


def _service(settings: Settings):
    from connectors.bootstrap import build_service
    from triage.store import StoreError

    try:
        return build_service(settings)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


# ------------------------------------------------------------------ run ---


def cmd_run(args: argparse.Namespace) -> int:
    from connectors.bootstrap import build_app

    settings = _settings(args)
    service = _service(settings)
    try:
        app = build_app(settings, service=service)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    try:
        if args.once:
            counts = asyncio.run(app.run_once())
            log.info("run_once delivered=%s processed=%s dispatched=%s", counts["delivered"], counts["processed"],
                     counts["dispatched"])
            return 0
        asyncio.run(app.run())
        return 0
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot reach a source: {exc}") from None
    finally:
        service.store.close()


# --------------------------------------------------------------- review ---


def cmd_review(args: argparse.Namespace) -> int:
    from connectors.console import review_session

    settings = _settings(args)
    service = _service(settings)
    try:
        service.process_pending()
        decided = review_session(service, officer=args.officer, limit=args.limit)
    except (EOFError, KeyboardInterrupt):
        print()
        return 0
    finally:
        service.store.close()
    print(f"{decided} decision(s) recorded")
    return 0


# ---------------------------------------------------------------- cases ---


def cmd_cases_list(args: argparse.Namespace) -> int:
    from triage.service import TriageService
    from triage.store import StoreError, open_store
    from triage.taxonomy import load_taxonomy

    settings = _settings(args)
    try:
        store = open_store(settings.store_url)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    service = TriageService(store, None, load_taxonomy(settings.taxonomy), settings)
    try:
        rows = service.message_rows(limit=args.limit, states=args.state or None)
    finally:
        store.close()
    if args.format == "jsonl":
        for r in rows:
            print(json.dumps({"message_id": r.message_id, "case_reference": r.case_reference, "state": r.state,
                              "type": r.type, "category": r.category, "service_area": r.service_area,
                              "labels_from": r.labels_from, "source": r.source,
                              "received_at": r.received_at.isoformat(),
                              "acknowledgement_due": r.acknowledgement_due.isoformat() if r.acknowledgement_due
                              else None}, ensure_ascii=False))
        return 0
    print(f"{'id':>6} {'case':<14} {'state':<10} {'type':<11} {'category':<14} {'service area':<32} "
          f"{'received (UTC)':<16} source")
    for r in rows:
        print(f"{r.message_id:>6} {r.case_reference or '-':<14} {r.state:<10} {r.type or '-':<11} "
              f"{r.category or '-':<14} {(r.service_area or '-')[:32]:<32} {r.received_at:%Y-%m-%d %H:%M} "
              f"{r.source}")
    return 0


# --------------------------------------------------------------- doctor ---


def cmd_doctor(args: argparse.Namespace) -> int:
    problems = 0

    def report(name: str, ok: bool, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        print(f"{'ok ' if ok else 'FAIL'} {name}: {detail}")

    try:
        settings = _settings(args)
        report("config", True, settings.path or "no triage.toml: embedded defaults")
    except CommandError as exc:
        report("config", False, str(exc))
        return 1
    from triage.store import StoreError, open_store

    try:
        store = open_store(settings.store_url)
        report("store", True, f"{store.dialect}, schema up to date")
        store.close()
    except StoreError as exc:
        report("store", False, str(exc))
    try:
        from triage.training import load_model

        model = load_model(Path(settings.model_dir) if settings.model_dir else None)
        report("model", True, f"version {model.version or 'unknown'}")
    except Exception as exc:
        report("model", False, f"{exc}; check [model] dir or run `triage train`")
    try:
        from triage.taxonomy import load_taxonomy

        load_taxonomy(settings.taxonomy)
        report("taxonomy", True, settings.taxonomy or "built-in")
    except Exception as exc:
        report("taxonomy", False, f"{exc}; fix [model] taxonomy")
    from connectors.imap import check_mailbox

    for mailbox in settings.mailboxes:
        try:
            summary = asyncio.run(asyncio.wait_for(check_mailbox(mailbox), mailbox.connect_timeout + 5))
            report(f"mailbox {mailbox.name}", True, summary)
        except ConfigError as exc:
            report(f"mailbox {mailbox.name}", False, str(exc))
        except Exception as exc:
            report(f"mailbox {mailbox.name}", False, f"{type(exc).__name__}: {exc}; check host, port, security "
                   f"and the password/token environment variable ({mailbox.password_env if mailbox.auth == 'password' else mailbox.token_env})")
    for folder in settings.folders:
        path = Path(folder.path)
        target = path / "new" if folder.format == "maildir" else path
        if target.is_dir():
            report(f"folder {folder.name}", True, "present")
        else:
            report(f"folder {folder.name}", path.parent.exists(),
                   "will be created at start-up" if path.parent.exists() else f"parent of {path} does not exist")
    if settings.reviewer == "slack":
        try:
            from connectors.slack.doctor import doctor as slack_doctor

            for check in slack_doctor(settings.slack, redaction=settings.excerpt):
                report(check.name, check.ok, check.detail)
        except ImportError as exc:
            report("slack", False, f"Slack connector unavailable: {exc}")
    else:
        report("reviewer", True, "console (decide with `triage review`)")
    print("all checks passed" if not problems else f"{problems} problem(s) found")
    return 0 if not problems else 1


# ------------------------------------------------------------- register ---


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None,
                        help="config file (default: ./triage.toml when present, else embedded defaults)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add run, review, cases and doctor to the ``triage`` command line."""
    p = sub.add_parser("run", help="watch mailboxes and folders, classify, and hand suggestions to reviewers",
                       description="Start the configured sources (or those given with --source), store and classify "
                                   "each new message and hand the suggestion to the reviewer (Slack when configured, "
                                   "else the console). SIGTERM/SIGINT stop it cleanly.")
    _config_arg(p)
    p.add_argument("--once", action="store_true", help="drain what is waiting, then exit (for cron and scripts)")
    p.add_argument("--source", action="append", metavar="URL",
                   help="imaps://user@host/FOLDER, imap+starttls://..., imap://... (with --allow-plaintext), "
                        "maildir:PATH or dir:PATH; repeatable; replaces the configured sources. "
                        "The password comes from TRIAGE_IMAP_PASSWORD")
    p.add_argument("--allow-plaintext", action="store_true", help="allow imap:// without TLS (loopback testing only)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("review", help="confirm, change or dismiss suggestions in the terminal")
    _config_arg(p)
    p.add_argument("--officer", default=None, help="your name or id for the audit log (default: login name)")
    p.add_argument("--limit", type=int, default=100, help="most suggestions to walk through")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("cases", help="list cases and messages")
    cases = p.add_subparsers(dest="cases_command", metavar="ACTION")
    q = cases.add_parser("list", help="messages with case reference, state, labels, source and received time")
    _config_arg(q)
    q.add_argument("--format", choices=("table", "jsonl"), default="table")
    q.add_argument("--limit", type=int, default=1000)
    q.add_argument("--state", action="append", help="only messages in this state (repeatable)")
    q.set_defaults(func=cmd_cases_list)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    p = sub.add_parser("doctor", help="check the config, the model and every connection")
    _config_arg(p)
    p.add_argument("--source", action="append", metavar="URL", help="check these sources instead (as for run)")
    p.add_argument("--allow-plaintext", action="store_true", help="allow imap:// without TLS (loopback testing only)")
    p.set_defaults(func=cmd_doctor)
