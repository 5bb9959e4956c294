"""Sentiment features: general-purpose polarity that transfers across kinds of writing.

Word n-grams learn the vocabulary of our corpus; polarity from the VADER
lexicon (a file shipped inside the ``vaderSentiment`` package; nothing is
downloaded) carries over to writing the corpus never saw, which is what
separates grievance from praise in short survey answers. Scoring works on the
tokens the classifier already made, so it costs one dictionary look-up a word.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Sequence

import numpy as np

from triage.text import Tokenized

FEATURES = ("compound", "positive_share", "negative_share", "most_negative_sentence",
            "most_positive_sentence", "mean_sentence")
#: VADER's own damping of a negated word's valence.
NEGATION_SCALAR = -0.74
_ALPHA = 15.0
#: VADER's contrast rule: in "the care was good but the wait was terrible" the clause after "but"
#: is the writer's point, so it counts one and a half times and the clause before it half.
CONTRAST_WORDS = frozenset({"but", "however", "although", "though", "except"})
_BEFORE_CONTRAST, _AFTER_CONTRAST = 0.5, 1.5


@lru_cache(maxsize=1)
def lexicon() -> dict[str, float]:
    """Word valences (-4 .. +4) from the VADER lexicon file."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                out[parts[0].lower()] = float(parts[1])
            except ValueError:
                continue
    return out


def _compound(total: float) -> float:
    return total / math.sqrt(total * total + _ALPHA)


def polarity(doc: Tokenized) -> list[float]:
    """The six polarity figures of one tokenised text (see ``FEATURES``)."""
    valences = lexicon()
    total = pos = neg = 0.0
    n_words = 0
    per_sentence = []
    for tokens in doc.tokens:
        sentence_total = 0.0
        contrast = max((i for i, tok in enumerate(tokens) if tok in CONTRAST_WORDS), default=-1)
        for position, tok in enumerate(tokens):
            negated = tok.startswith("neg_")
            word = tok[4:] if negated else tok
            value = valences.get(word)
            n_words += 1
            if value is None:
                continue
            if negated:
                value *= NEGATION_SCALAR
            if contrast >= 0:
                value *= _BEFORE_CONTRAST if position < contrast else _AFTER_CONTRAST
            sentence_total += value
            if value > 0:
                pos += value
            else:
                neg -= value
        total += sentence_total
        per_sentence.append(_compound(sentence_total))
    scale = max(1.0, pos + neg + 0.5 * n_words)
    if not per_sentence:
        per_sentence = [0.0]
    return [_compound(total), pos / scale, neg / scale, min(per_sentence), max(per_sentence),
            sum(per_sentence) / len(per_sentence)]


def sentiment_matrix(docs: Sequence[Tokenized], weight: float = 1.0) -> np.ndarray:
    """Polarity features for many texts, scaled by ``weight`` against the TF-IDF block."""
    return np.asarray([polarity(d) for d in docs], dtype=np.float32).reshape(len(docs), len(FEATURES)) * weight
