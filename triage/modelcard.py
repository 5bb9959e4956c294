"""The model card in Markdown, rendered from its JSON twin."""

from __future__ import annotations


def _bayes_weights(card: dict) -> str:
    weights = card.get("settings", {}).get("bayes_weights")
    if not weights:
        return "as `triage/model.py` sets"
    return ", ".join(f"{w:g} for {head}" for head, w in weights.items())


def _table(rows: list[tuple[str, str]], head: tuple[str, str]) -> list[str]:
    out = [f"| {head[0]} | {head[1]} |", "|---|---|"]
    out.extend(f"| {a} | {b} |" for a, b in rows)
    return out


def render_card(card: dict) -> str:
    lines = ["# Model card: adult social care triage classifier", ""]
    lines += [f"- Built: {card.get('created', '?')}", f"- Model version: `{card.get('model_version', '?')}`",
              f"- Training data SHA-256: `{card.get('data_hash', '?')}` ({card.get('training_examples', '?')} examples)",
              f"- Artifact: `{card.get('artifact')}`, SHA-256 `{card.get('artifact_sha256')}`",
              f"- Tokenizer: {card.get('tokenizer')}", f"- Taxonomy: {card.get('taxonomy')}", ""]
    lines += ["## Library versions", ""]
    lines += _table(sorted(card.get("versions", {}).items()), ("library", "version")) + [""]
    lines += ["## Architecture", "",
              "Shared features: word unigram and bigram TF-IDF counted within sentences (regular-expression words, "
              "plurals folded by spaCy's English lookup table, tense, modals and comparatives kept; negation "
              "marked, except that a bare answer such as \"nothing\" or \"no\" does not reach a new clause after "
              "it; the first word of each sentence also counted on its own, so \"Listen to mum\" differs from "
              "\"she listened\"); six sentence-level polarity figures from the "
              "VADER lexicon; the mean of GloVe 6B 50-dimensional word vectors (public domain, 60,000 words shipped "
              "in `triage/data`). Three heads: type; category (complaints and comments); service area "
              "(complaints, compliments, comments). The category and service-area heads learn from content "
              "only: n-grams made purely of function words (\"i was\", \"when she\") and the polarity figures "
              "mark how our writers told a kind of complaint rather than what it is about, and do not carry over "
              "to real mail. Each head blends two calibrated models (sigmoid scaling, `CalibratedClassifierCV`): a "
              "class-balanced logistic regression over all features and a complement naive Bayes over the words "
              f"alone, with naive Bayes weighted {_bayes_weights(card)}; the weights were chosen by 5-fold "
              "cross-validation on training_data/. Key terms and the most telling sentence come from the "
              "regression's weights. Fitting runs with BLAS on one thread so that a rebuild gives the "
              "same weights whatever the number of cores. Auto-replies and bulk mail are recognised from "
              "headers before the model. A message is archived as `other` only when that probability reaches "
              f"{card.get('settings', {}).get('other_floor', '?')}; below it the next type wins and an officer "
              "sees it, because a complaint archived unseen costs far more than one click on Not feedback.", ""]
    if "cv_macro_f1" in card:
        lines += [f"## Cross-validated macro-F1 ({card.get('cv_folds')}-fold, on training_data/)", ""]
        lines += _table([(h, f"{v:.3f}") for h, v in card["cv_macro_f1"].items()], ("head", "macro-F1")) + [""]
    if card.get("review_thresholds"):
        lines += ["## Needs-review thresholds", "",
                  "Below these confidences a suggestion is marked `needs_review`. Each is the lowest confidence from "
                  "which, in cross-validation, suggestions in every confidence window were right at least as often "
                  "as the target; the share is the part of suggestions above it.", ""]
        rows = []
        for head, t in card["review_thresholds"].items():
            target = card.get("review_targets", {}).get(head)
            share = card.get("confident_share", {}).get(head)
            shown = f"{share:.0%}" if isinstance(share, float) else share
            rows.append((head, f"{t} (target accuracy {target}, {shown} of suggestions above it)"))
        lines += _table(rows, ("head", "threshold")) + [""]
    if card.get("external"):
        lines += ["## External evaluation (real NHS Friends and Family Test feedback, never trained on)", ""]
        for name, result in card["external"].items():
            lines.append(f"- **{name}**: {result}")
        lines.append("")
    if card.get("tokenizer_comparison"):
        lines += ["## spaCy against plain scikit-learn tokenisation", "",
                  "Measured by `bench/tokenizers.py` on the same data. What is kept: spaCy's English lookup "
                  "plural folding (from `spacy-lookups-data`) on regular-expression words (`lemmas`), chosen on "
                  "the figures below as last measured: level with plain tokens in cross-validation and ahead on "
                  "the NHS files, which measure transfer to real writing. spaCy's own tokenizer is slower and no more accurate "
                  "than the regular expression. Nor does spaCy's sentencizer earn its place for the reason: the "
                  "punctuation splitter is faster and its chosen sentence more often supports the label on its "
                  "own. Re-run the benchmark after changing the corpus and check this still holds.", ""]
        for name, result in card["tokenizer_comparison"].items():
            lines.append(f"- **{name}**: {result}")
        lines.append("")
    if card.get("training_counts"):
        lines += ["## Training counts", ""]
        for head, counts in card["training_counts"].items():
            lines.append(f"- {head}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        lines.append("")
    lines += ["## Limits", "",
              "Trained on messages written for this project, not on real council mail. Scores on real text "
              "(above) are the honest measure of transfer. Every suggestion is reviewed by an officer before it "
              "starts a statutory clock.", ""]
    return "\n".join(lines)
