"""Training, cross-validation and loading the model the product runs on."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from triage.artifacts import ArtifactError, load_verified, read_card, save_model
from triage.corpus import Example, data_hash, load_examples
from triage.model import BAYES_ALPHA, HEAD_TYPES, HEADS, Labels, TriageModel
from triage.paths import cache_dir, shipped_models_dir, training_data_dir
from triage.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

#: How often suggestions at a given confidence must be right for no review to be flagged.
REVIEW_TARGETS = {"type": 0.85, "category": 0.75, "service_area": 0.75}
DEFAULT_TOKENIZER = "lemmas"


@dataclass
class CrossValidation:
    """Out-of-fold predictions for each head."""

    truth: dict[str, list[str]]
    predicted: dict[str, list[str]]
    confidence: dict[str, list[float]]

    def macro_f1(self) -> dict[str, float]:
        return {h: round(float(f1_score(self.truth[h], self.predicted[h], average="macro")), 4) for h in HEADS}

    def thresholds(self) -> tuple[dict[str, float], dict[str, float]]:
        """Per head, the confidence below which a suggestion needs an officer's review, and the share above it.

        Judged locally: the threshold is the lowest confidence from which every window of
        suggestions ``[t, t + 0.15)`` was right at least as often as the head's target in
        cross-validation. (Accuracy of everything above ``t`` would be carried by the
        confident majority and flag almost nothing.)
        """
        chosen, coverage = {}, {}
        for head in HEADS:
            conf = np.asarray(self.confidence[head])
            right = np.asarray(self.truth[head]) == np.asarray(self.predicted[head])
            grid = np.round(np.arange(0.30, 0.951, 0.025), 3)
            ok = []
            for t in grid:
                window = (conf >= t) & (conf < t + 0.15)
                ok.append(window.sum() < 8 or right[window].mean() >= REVIEW_TARGETS[head])
            pick = 0.95
            for i, t in enumerate(grid):
                if all(ok[i:]):
                    pick = float(t)
                    break
            chosen[head] = round(pick, 3)
            coverage[head] = round(float((conf >= pick).mean()), 4)
        return chosen, coverage


def texts_and_labels(examples: Sequence[Example]) -> tuple[list[str], list[Labels]]:
    return [e.parsed().model_text for e in examples], [e.labels for e in examples]


def cross_validate(texts: list[str], labels: list[Labels], folds: int = 5, **params) -> CrossValidation:
    """Stratified k-fold predictions of every head on examples it was not trained on."""
    truth = {h: [] for h in HEADS}
    predicted = {h: [] for h in HEADS}
    confidence = {h: [] for h in HEADS}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    strata = [lab.type for lab in labels]
    for train_idx, test_idx in splitter.split(texts, strata):
        model = TriageModel(**params).fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        probs = model.predict_proba([texts[i] for i in test_idx])
        picks = {head: probs[head].argmax(axis=1) for head in HEADS}
        picks["type"] = model.pick_types(probs["type"])
        for head in HEADS:
            classes = model.classes(head)
            for row, i in enumerate(test_idx):
                lab = labels[i]
                true = lab.head(head)
                if true is None or (HEAD_TYPES[head] is not None and lab.type not in HEAD_TYPES[head]):
                    continue
                j = int(picks[head][row])
                truth[head].append(true)
                predicted[head].append(classes[j])
                confidence[head].append(float(probs[head][row, j]))
    return CrossValidation(truth, predicted, confidence)


def train(data_dir: Path | None = None, out_dir: Path | None = None, taxonomy: Taxonomy | None = None,
          tokenizer: str = DEFAULT_TOKENIZER, cv: bool = True, extra_card: dict | None = None,
          thresholds: dict[str, float] | None = None) -> dict:
    """Rebuild the model from labelled data; returns the model card written beside it.

    Review thresholds are learned by cross-validation; without it, ``thresholds``
    (or the defaults) are used.
    """
    data_dir = Path(data_dir or training_data_dir())
    out_dir = Path(out_dir or shipped_models_dir())
    taxonomy = taxonomy or load_taxonomy()
    examples = load_examples(data_dir, taxonomy)
    texts, labels = texts_and_labels(examples)
    card: dict = {
        "tokenizer": tokenizer,
        "data_hash": data_hash(data_dir),
        "taxonomy": taxonomy.source,
        "training_examples": len(examples),
        "training_counts": _counts(labels),
    }
    if cv:
        result = cross_validate(texts, labels, tokenizer=tokenizer)
        thresholds, coverage = result.thresholds()
        card["cv_macro_f1"] = result.macro_f1()
        card["cv_folds"] = 5
        card["review_targets"] = REVIEW_TARGETS
        card["confident_share"] = coverage
    model = TriageModel(tokenizer=tokenizer, thresholds=thresholds).fit(texts, labels)
    card["word_vectors_sha256"] = getattr(model, "vectors_sha256_", None)
    card["settings"] = {"tokenizer": model.tokenizer, "C": model.C, "sentiment": model.sentiment,
                        "word_vectors": model.word_vectors, "other_floor": model.other_floor,
                        "sentence_splitter": model.sentence_splitter, "bayes_weights": model.bayes_weights,
                        "bayes_alpha": BAYES_ALPHA}
    # data and settings both name the model: the same corpus under other settings is another model
    settings_hash = hashlib.sha256(json.dumps(card["settings"], sort_keys=True).encode()).hexdigest()
    card["model_version"] = f"{card['data_hash'][:12]}-{tokenizer}-{settings_hash[:6]}"
    card["review_thresholds"] = model.thresholds
    if extra_card:
        card.update(extra_card)
    previous = None
    try:
        previous = read_card(out_dir)
    except ArtifactError:
        pass
    if previous and "external" in previous and previous.get("data_hash") == card["data_hash"]:
        card.setdefault("external", previous["external"])
    return save_model(model, out_dir, card)


def _counts(labels: Sequence[Labels]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for head in HEADS:
        values = [lab.head(head) for lab in labels if lab.head(head)]
        out[head] = dict(sorted({v: values.count(v) for v in set(values)}.items()))
    return out


def load_model(model_dir: Path | None = None) -> TriageModel:
    """The model to run: the shipped artifact, or a rebuild when scikit-learn has changed.

    Raises :class:`ArtifactError` when the artifact does not match its card.
    """
    import sklearn

    model_dir = Path(model_dir or shipped_models_dir())
    card = read_card(model_dir)
    built_with = card.get("versions", {}).get("scikit-learn")
    if built_with == sklearn.__version__:
        model, _ = load_verified(model_dir)
        return model
    rebuilt = cache_dir() / f"sklearn-{sklearn.__version__}-{card.get('data_hash', 'unknown')[:16]}"
    try:
        model, _ = load_verified(rebuilt)
        return model
    except ArtifactError:
        pass
    log.warning("model_rebuild reason=sklearn_version built_with=%s installed=%s target=%s",
                built_with, sklearn.__version__, rebuilt)
    train(training_data_dir(), rebuilt, tokenizer=card.get("tokenizer", DEFAULT_TOKENIZER), cv=False,
          thresholds=card.get("review_thresholds"), extra_card={"rebuilt_from": str(model_dir)})
    model, _ = load_verified(rebuilt)
    return model
