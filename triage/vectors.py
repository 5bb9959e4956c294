"""Pretrained word vectors: meaning for words our own corpus never used.

A 60,000-word table of GloVe 6B 50d vectors (public domain, PDDL 1.0) ships in
``triage/data``; ``scripts/build_word_vectors.py`` says how it was made. A
message becomes the mean of its words' vectors (a negated word counts against),
so "the carers were impolite" lands near "rude" even if no training message
said "impolite".
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Sequence

import numpy as np

from triage.text import Tokenized

FILE = "word_vectors_50d.npz"
DIMENSIONS = 50
#: The most frequent words (the, of, and ...) carry no meaning here.
SKIP_MOST_FREQUENT = 100


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, int], np.ndarray, str]:
    ref = resources.files("triage").joinpath("data", FILE)
    data = ref.read_bytes()
    with np.load(ref.open("rb")) as npz:
        words = [str(w) for w in npz["words"]]
        vectors = npz["vectors"].astype(np.float32)
    return {w: i for i, w in enumerate(words)}, vectors, hashlib.sha256(data).hexdigest()


def vectors_sha256() -> str:
    """SHA-256 of the shipped vector file, recorded with every model trained on it."""
    return _table()[2]


def mean_vectors(docs: Sequence[Tokenized], weight: float = 1.0) -> np.ndarray:
    """One 50-dimensional vector per text, scaled by ``weight``."""
    index, vectors, _ = _table()
    out = np.zeros((len(docs), DIMENSIONS), dtype=np.float32)
    for row, doc in enumerate(docs):
        rows: list[int] = []
        signs: list[float] = []
        for tokens in doc.tokens:
            for tok in tokens:
                negated = tok.startswith("neg_")
                i = index.get(tok[4:] if negated else tok)
                if i is None or i < SKIP_MOST_FREQUENT:
                    continue
                rows.append(i)
                signs.append(-1.0 if negated else 1.0)
        if rows:
            out[row] = (np.asarray(signs, dtype=np.float32) @ vectors[rows]) / np.sqrt(len(rows))
    return out * weight
