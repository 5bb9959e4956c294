"""Scoring the model on labelled data: precision, recall, F1 and confusion per head."""

from __future__ import annotations

from typing import Sequence

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from triage.corpus import Example
from triage.model import HEAD_TYPES, HEADS, TriageModel


def head_report(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None) -> dict:
    """Per-label precision/recall/F1/support, macro-F1 and the confusion matrix."""
    labels = list(labels) if labels is not None else sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    present = [lab for lab in labels if lab in set(truth)]
    return {
        "n": len(truth),
        "labels": labels,
        "per_label": {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                            "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(labels)},
        "macro_f1": round(float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)), 4),
        "accuracy": round(sum(a == b for a, b in zip(truth, predicted)) / max(1, len(truth)), 4),
        "confusion": confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


def evaluate(model: TriageModel, examples: Sequence[Example]) -> dict[str, dict]:
    """Score each head on the examples that carry its label.

    The type head is scored on the full pipeline (auto-reply rules included).
    The category and service-area heads are scored directly on every example
    carrying that label, so their figures do not depend on the type head.
    """
    parsed = [e.parsed() for e in examples]
    suggestions = model.predict(parsed)
    probs = model.predict_proba([p.model_text for p in parsed])
    reports: dict[str, dict] = {}
    for head in HEADS:
        rows = [i for i, e in enumerate(examples) if e.labels.head(head)]
        if head != "type":
            rows = [i for i in rows if not examples[i].labels.type or examples[i].labels.type in HEAD_TYPES[head]]
        if not rows:
            continue
        truth = [examples[i].labels.head(head) for i in rows]
        if head == "type":
            predicted = [suggestions[i].type for i in rows]
            labels = list(model.classes("type"))
        else:
            classes = model.classes(head)
            predicted = [classes[int(probs[head][i].argmax())] for i in rows]
            labels = classes
        reports[head] = head_report(truth, predicted, labels)
    return reports


def format_report(reports: dict[str, dict]) -> str:
    """Plain-text tables of an evaluation."""
    out: list[str] = []
    for head, rep in reports.items():
        out.append(f"== {head}: n={rep['n']} macro-F1={rep['macro_f1']:.3f} accuracy={rep['accuracy']:.3f}")
        width = max(len(lab) for lab in rep["labels"]) + 2
        out.append(f"{'label':<{width}}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}")
        for lab, m in rep["per_label"].items():
            out.append(f"{lab:<{width}}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}")
        out.append("confusion (rows true, columns predicted):")
        short = [lab[:10] for lab in rep["labels"]]
        out.append(" " * width + "".join(f"{s:>12}" for s in short))
        for lab, row in zip(rep["labels"], rep["confusion"]):
            out.append(f"{lab:<{width}}" + "".join(f"{v:>12}" for v in row))
        out.append("")
    return "\n".join(out)
