"""Saving and loading the model artifact with its model card.

The card records the artifact's SHA-256; loading checks it *before*
unpickling and refuses a mismatched file. If the installed scikit-learn is not
the one that built the artifact, the model is rebuilt from the training data
(and cached) instead of being unpickled across versions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import joblib

from triage.model import TriageModel

ARTIFACT = "triage-model.joblib"
CARD_JSON = "model_card.json"
CARD_MD = "MODEL_CARD.md"
FORMAT = 1

log = logging.getLogger(__name__)


class ArtifactError(RuntimeError):
    """A model artifact that must not be loaded."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import numpy
    import scipy
    import sklearn
    import spacy

    import triage

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__, "spacy": spacy.__version__,
            "triage": triage.__version__}


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model: TriageModel, out_dir: Path, card: dict) -> dict:
    """Write the artifact and its card (JSON and Markdown); returns the card as written."""
    out_dir = Path(out_dir)
    artifact = out_dir / ARTIFACT
    _atomic_write(artifact, lambda p: joblib.dump({"format": FORMAT, "model": model}, p, compress=3))
    card = dict(card)
    card["artifact"] = ARTIFACT
    card["artifact_sha256"] = sha256_file(artifact)
    card.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    card["versions"] = library_versions()
    write_card(out_dir, card)
    return card


def write_card(out_dir: Path, card: dict) -> None:
    from triage.modelcard import render_card

    _atomic_write(out_dir / CARD_JSON, lambda p: p.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n"))
    _atomic_write(out_dir / CARD_MD, lambda p: p.write_text(render_card(card)))


def read_card(model_dir: Path) -> dict:
    path = Path(model_dir) / CARD_JSON
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no model card; run `triage train` to build the model") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path}: model card is not valid JSON ({exc.msg})") from None


def load_verified(model_dir: Path) -> tuple[TriageModel, dict]:
    """Load an artifact after checking its SHA-256 against the card; never unpickle a mismatch."""
    model_dir = Path(model_dir)
    card = read_card(model_dir)
    artifact = model_dir / card.get("artifact", ARTIFACT)
    if not artifact.is_file():
        raise ArtifactError(f"{artifact}: model artifact missing; run `triage train` to rebuild it")
    actual = sha256_file(artifact)
    if card.get("word_vectors_sha256"):
        from triage.vectors import vectors_sha256

        if vectors_sha256() != card["word_vectors_sha256"]:
            raise ArtifactError(
                f"{artifact}: built with other word vectors than the installed triage/data/word_vectors_50d.npz; "
                "rebuild with `triage train`")
    if actual != card.get("artifact_sha256"):
        raise ArtifactError(
            f"{artifact}: SHA-256 {actual[:16]}... does not match the model card "
            f"({str(card.get('artifact_sha256'))[:16]}...); refusing to load it. "
            "Rebuild with `triage train` or restore the shipped files."
        )
    payload = joblib.load(artifact)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ArtifactError(f"{artifact}: unknown artifact format; rebuild with `triage train`")
    model = payload["model"]
    model.version = card.get("model_version", "")
    return model, card
