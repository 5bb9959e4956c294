"""Labelled examples: the training corpus and evaluation files.

Training data is JSON Lines (see ``training_data/README.md``); evaluation data
may also be CSV with a ``text`` column and any of ``type``, ``category`` and
``service_area``. Every label is checked against the taxonomy, and a problem
names the file and line.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from triage.message import ParsedMessage, read_chat, read_email
from triage.model import Labels
from triage.taxonomy import Taxonomy

csv.field_size_limit(10_000_000)


class CorpusError(ValueError):
    """A labelled file that cannot be used; the message names the file and line."""


@dataclass
class Example:
    """One labelled message."""

    id: str
    kind: str
    text: str
    labels: Labels
    where: str  # "file:line"

    def parsed(self) -> ParsedMessage:
        if self.kind == "email":
            return read_email(self.text.encode("utf-8"), self.where)
        return read_chat(self.text, self.where)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _labels(record: dict, where: str, taxonomy: Taxonomy, strict: bool) -> Labels:
    """Labels of one record. Training data (strict) must be complete and consistent;
    evaluation data may carry any subset of the three labels, each a known name."""
    type_ = _clean(record.get("type"))
    category = _clean(record.get("category"))
    area = _clean(record.get("service_area"))
    if strict:
        if type_ is None:
            raise CorpusError(f"{where}: missing label 'type'")
        problems = taxonomy.check(type_, category, area)
    else:
        problems = []
        if type_ is not None and type_ not in taxonomy.types:
            problems.append(f"unknown type {type_!r} (expected one of {', '.join(taxonomy.types)})")
        if category is not None and category not in taxonomy.categories:
            problems.append(f"unknown category {category!r} (expected one of {', '.join(taxonomy.categories)})")
        if area is not None and area not in taxonomy.service_areas:
            problems.append(f"unknown service area {area!r} (expected one of {', '.join(taxonomy.service_areas)})")
    if problems:
        raise CorpusError(f"{where}: {'; '.join(problems)}")
    return Labels(type=type_ or "", category=category, service_area=area)


def read_jsonl(path: Path, taxonomy: Taxonomy, require_type: bool = True) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise CorpusError(f'{where}: each line needs an object with a "text" string')
            kind = record.get("kind", "chat")
            if kind not in ("email", "chat"):
                raise CorpusError(f"{where}: kind must be 'email' or 'chat', got {kind!r}")
            examples.append(Example(str(record.get("id") or where), kind, record["text"],
                                    _labels(record, where, taxonomy, require_type), where))
    return examples


def read_csv(path: Path, taxonomy: Taxonomy) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise CorpusError(f"{path}:1: CSV needs a 'text' column")
        for number, record in enumerate(reader, start=2):
            where = f"{path}:{number}"
            labels = _labels(record, where, taxonomy, strict=False)
            examples.append(Example(str(record.get("id") or where), "chat", record["text"] or "", labels, where))
    return examples


def load_examples(path: str | Path, taxonomy: Taxonomy, require_type: bool = True) -> list[Example]:
    """Examples from a JSONL or CSV file, or every such file below a directory, in a stable order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".csv") and p.is_file())
        if not files:
            raise CorpusError(f"{path}: no .jsonl or .csv files")
    elif path.is_file():
        files = [path]
    else:
        raise CorpusError(f"{path}: no such file or directory")
    examples: list[Example] = []
    for file in files:
        if file.suffix == ".jsonl":
            examples.extend(read_jsonl(file, taxonomy, require_type))
        elif file.suffix == ".csv":
            examples.extend(read_csv(file, taxonomy))
        else:
            raise CorpusError(f"{file}: expected a .jsonl or .csv file")
    seen: dict[str, str] = {}
    for example in examples:
        if example.id in seen and require_type:
            raise CorpusError(f"{example.where}: duplicate id {example.id!r} (first at {seen[example.id]})")
        seen[example.id] = example.where
    return examples


def data_hash(path: str | Path) -> str:
    """SHA-256 over the training files' names and bytes, in sorted order."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*.jsonl")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
