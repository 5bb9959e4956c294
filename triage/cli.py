"""The ``triage`` command line.

Core commands (classify, train, evaluate) live here. Commands that need the
outside world (run, review, doctor, ...) are contributed by the ``connectors``
package through the ``triage.commands`` entry-point group, so the core never
imports IMAP or Slack code.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterator, Sequence

from triage import __version__

BATCH = 256
log = logging.getLogger("triage")


class CommandError(Exception):
    """An error to print without a traceback; exit status 2."""


# ------------------------------------------------------------- classify ---


def iter_inputs(paths: Sequence[str]) -> Iterator[tuple[str, Path | None]]:
    """Expand the classify arguments into (source, path) pairs; ``-`` is stdin."""
    from triage.message import SUFFIXES

    for raw in paths:
        if raw == "-":
            yield "-", None
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            for p in found:
                yield str(p), p
        else:
            yield raw, path


def _read_stdin():
    from triage.charsets import decode_bytes
    from triage.message import looks_like_email, read_chat, read_chat_json, read_email

    data = sys.stdin.buffer.read()
    if data.lstrip().startswith(b"{"):
        return read_chat_json(data, "-")
    if looks_like_email(data):
        return read_email(data, "-")
    return read_chat(decode_bytes(data, None), "-")


def _print_table_header() -> None:
    print(f"{'source':<40} {'type':<16} {'category':<20} {'service area':<36} review")


def _short(value: str | None, conf: float | None) -> str:
    return "-" if value is None else f"{value} {conf:.2f}"


def _print_row(source: str, s) -> None:
    shown = source if len(source) <= 40 else "..." + source[-37:]
    flag = "NEEDS REVIEW" if s.needs_review else "ok"
    print(f"{shown:<40} {_short(s.type, s.type_confidence):<16} {_short(s.category, s.category_confidence):<20} "
          f"{_short(s.service_area, s.service_area_confidence):<36} {flag}")


def cmd_classify(args: argparse.Namespace) -> int:
    from triage.message import MessageError, read_file
    from triage.training import load_model

    model = load_model(args.model_dir)
    failures = 0
    pending: list[tuple[str, object]] = []

    def flush() -> None:
        suggestions = model.predict([m for _, m in pending])
        for (source, _), s in zip(pending, suggestions):
            if args.format == "jsonl":
                row = {"source": source, **s.to_dict()}
                print(json.dumps(row, ensure_ascii=False))
            else:
                _print_row(source, s)
        sys.stdout.flush()
        pending.clear()

    if args.format == "table":
        _print_table_header()
    for source, path in iter_inputs(args.paths):
        try:
            message = _read_stdin() if path is None else read_file(path)
        except MessageError as exc:
            failures += 1
            print(f"triage: error: {source}: {exc}", file=sys.stderr)
            continue
        except OSError as exc:
            failures += 1
            print(f"triage: error: {source}: {exc.strerror or exc}", file=sys.stderr)
            continue
        pending.append((source, message))
        if len(pending) >= BATCH:
            flush()
    if pending:
        flush()
    return 1 if failures else 0


# ---------------------------------------------------------- train, eval ---


def cmd_train(args: argparse.Namespace) -> int:
    from triage.corpus import CorpusError
    from triage.taxonomy import load_taxonomy
    from triage.training import train

    try:
        card = train(args.data, args.out, load_taxonomy(args.taxonomy), tokenizer=args.tokenizer, cv=not args.no_cv)
    except CorpusError as exc:
        raise CommandError(str(exc)) from None
    out = args.out or "models/"
    print(f"trained on {card['training_examples']} examples; wrote {out} (model {card['model_version']})")
    for head, score in card.get("cv_macro_f1", {}).items():
        print(f"  cross-validated macro-F1 {head:<13} {score:.3f}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from triage.corpus import CorpusError, load_examples
    from triage.evaluate import evaluate, format_report
    from triage.taxonomy import load_taxonomy
    from triage.training import load_model

    try:
        examples = load_examples(args.data, load_taxonomy(args.taxonomy), require_type=False)
    except CorpusError as exc:
        raise CommandError(str(exc)) from None
    if not examples:
        raise CommandError(f"{args.data}: no labelled examples")
    reports = evaluate(load_model(args.model_dir), examples)
    if args.format == "json":
        print(json.dumps(reports, indent=2))
    else:
        print(format_report(reports))
    return 0


# ------------------------------------------------------------ plumbing ---


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage",
        description="First-pass triage of adult social care feedback: reads emails and chat messages, "
                    "suggests type, complaint category and service area for an officer to confirm.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail (never message bodies)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("classify", help="label message files and print suggestions",
                       description="Label .eml emails and .txt/.json chat messages. Directories are searched "
                                   "recursively; '-' reads one message from standard input.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for stdin")
    p.add_argument("--format", choices=("table", "jsonl"), default="table", help="output format (default table)")
    p.add_argument("--model-dir", type=Path, default=None, help="model folder (default: the shipped model)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("train", help="rebuild the model from labelled data",
                       description="Train the three heads from JSONL training data, cross-validate them and write "
                                   "the joblib artifact with its model card. Same data gives the same predictions.")
    p.add_argument("--data", type=Path, default=None, help="training data folder (default: training_data/)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: models/)")
    p.add_argument("--taxonomy", type=Path, default=None, help="a council's own taxonomy TOML file")
    p.add_argument("--tokenizer", choices=("lemmas", "spacy", "sklearn"), default="lemmas",
                   help="lemmas: regex words with spaCy lookup lemmas (default); spacy: spaCy's tokenizer and "
                        "lemmas; sklearn: plain regex words")
    p.add_argument("--no-cv", action="store_true", help="skip cross-validation (faster; no thresholds learned)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score the model on labelled data",
                       description="Per-head precision, recall, F1, macro-F1 and confusion matrix on a labelled "
                                   "CSV (columns text, and any of type, category, service_area), JSONL file or folder.")
    p.add_argument("data", type=Path, metavar="DATA")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--model-dir", type=Path, default=None)
    p.add_argument("--taxonomy", type=Path, default=None)
    p.set_defaults(func=cmd_evaluate)

    for ep in sorted(entry_points(group="triage.commands"), key=lambda e: e.name):
        try:
            ep.load()(sub)
        except Exception as exc:  # a broken plugin must not take the core commands down
            log.debug("command plugin %s failed to load: %s", ep.name, exc)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from triage.artifacts import ArtifactError

    try:
        return int(args.func(args) or 0)
    except (CommandError, ArtifactError) as exc:
        print(f"triage: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
