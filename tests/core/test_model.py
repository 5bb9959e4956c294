"""The three-head model: outputs, reasons, review flags, determinism."""

from __future__ import annotations

import numpy as np

from triage.message import read_chat, read_email
from triage.model import TriageModel
from triage.training import cross_validate, texts_and_labels
from triage.corpus import load_examples
from triage.taxonomy import load_taxonomy


def test_suggestion_shape_follows_the_type(small_model):
    texts = ["The carers have missed my mother's morning call three times this week and nobody told us why.",
             "Thank you so much to the reablement team, they were wonderful with dad.",
             "Please can you send me the form for a carer's assessment?"]
    out = small_model.predict_texts(texts)
    for s in out:
        assert 0.0 <= s.type_confidence <= 1.0
        if s.type in ("complaint", "comment"):
            assert s.category is not None and 0 <= s.category_confidence <= 1
        else:
            assert s.category is None and s.category_confidence is None
        if s.type in ("enquiry", "other"):
            assert s.service_area is None and s.service_area_confidence is None
        else:
            assert s.service_area is not None
    assert out[0].type == "complaint"
    assert out[1].type == "compliment"
    assert out[2].type == "enquiry"


def test_reason_has_terms_and_a_sentence_from_the_message(small_model):
    text = ("I rang on Monday about the bathroom. The carers never turned up on Sunday and mum was left "
            "without her tablets. I want to know why.")
    s = small_model.predict_texts([text])[0]
    assert s.reason.terms and all(isinstance(t, str) and t for t in s.reason.terms)
    assert s.reason.sentence in text
    assert str(s.reason)


def test_probabilities_are_calibrated_distributions(small_model):
    probs = small_model.predict_proba(["carers late again", "lovely staff thank you", "out of office"])
    for head, p in probs.items():
        assert np.allclose(p.sum(axis=1), 1.0)
        assert p.shape[1] == len(small_model.classes(head))


def test_needs_review_follows_the_thresholds(small_model):
    text = ["mixed message about something"]
    original = dict(small_model.thresholds)
    try:
        small_model.thresholds = {"type": 0.0, "category": 0.0, "service_area": 0.0}
        assert small_model.predict_texts(text)[0].needs_review is False
        small_model.thresholds = {"type": 1.01, "category": 1.01, "service_area": 1.01}
        assert small_model.predict_texts(text)[0].needs_review is True
    finally:
        small_model.thresholds = original


def test_auto_reply_is_other_by_rule_without_the_model(small_model):
    raw = (b"From: sw@northbridge.gov.uk\r\nSubject: Automatic reply: complaint\r\nAuto-Submitted: auto-replied\r\n\r\n"
           b"I am on leave. This complaint about missed care calls will be read on my return.\r\n")
    s = small_model.predict([read_email(raw), read_chat("Carers were brilliant")])
    assert s[0].type == "other" and s[0].type_confidence == 1.0
    assert "Auto-Submitted" in str(s[0].reason)
    assert s[1].type != "other" or s[1].reason.rule is None


def test_training_is_deterministic(small_corpus):
    examples = load_examples(small_corpus, load_taxonomy())
    texts, labels = texts_and_labels(examples)
    probe = texts[:50]
    a = TriageModel().fit(texts, labels).predict_proba(probe)
    b = TriageModel().fit(texts, labels).predict_proba(probe)
    for head in a:
        assert np.array_equal(a[head], b[head])


def test_cross_validation_yields_scores_and_thresholds(small_corpus):
    examples = load_examples(small_corpus, load_taxonomy())
    texts, labels = texts_and_labels(examples)
    result = cross_validate(texts, labels, folds=3, tokenizer="sklearn")
    scores = result.macro_f1()
    assert set(scores) == {"type", "category", "service_area"}
    assert all(0.3 < v <= 1.0 for v in scores.values())  # far above chance on five to seven classes
    thresholds, coverage = result.thresholds()
    assert all(0.3 <= t <= 0.95 for t in thresholds.values())
    assert all(0 < c <= 1 for c in coverage.values())


def test_category_and_service_area_heads_learn_from_content_only(small_model):
    from triage.model import CONTENT_HEADS
    from triage.sentiment import FEATURES as SENTIMENT_FEATURES
    from triage.text import is_function_gram

    n = small_model.n_word_features_
    style = np.array([is_function_gram(t) for t in small_model.word_names_])
    assert style.any() and not style.all()
    assert is_function_gram("i was") and is_function_gram("^when") and not is_function_gram("neg_told")
    for head in CONTENT_HEADS:
        weights = small_model._linear(head).coef_
        assert np.all(weights[:, :n][:, style] == 0.0), head
        assert np.any(weights[:, :n][:, ~style] != 0.0), head
        assert np.all(weights[:, n:n + len(SENTIMENT_FEATURES)] == 0.0), head  # polarity is for the type head
        assert np.any(weights[:, n + len(SENTIMENT_FEATURES):] != 0.0), head  # word vectors stay
    assert np.any(small_model._linear("type").coef_[:, :n][:, style] != 0.0)  # "could", "more" stay for type
    assert np.any(small_model._linear("type").coef_[:, n:n + len(SENTIMENT_FEATURES)] != 0.0)


def test_each_head_blends_naive_bayes_over_words_and_it_ignores_masked_columns(small_model):
    from triage.model import BAYES_WEIGHTS, CONTENT_HEADS
    from triage.text import is_function_gram

    n = small_model.n_word_features_
    style = np.asarray([is_function_gram(t) for t in small_model.word_names_])
    for head, weight in BAYES_WEIGHTS.items():
        blended = small_model.heads_[head]
        assert blended.bayes is not None and blended.bayes_weight == weight
        bayes = blended.bayes.calibrated_classifiers_[0].estimator
        assert bayes.feature_log_prob_.shape[1] == n
        if head in CONTENT_HEADS:
            assert np.all(bayes.feature_log_prob_[:, style] == 0.0), head
            assert np.any(bayes.feature_log_prob_[:, ~style] != 0.0), head
    # the blend is what predict_proba returns: neither part alone
    texts = ["The carers were late again and nobody rang us.", "Thank you, the reablement team were lovely."]
    features, _ = small_model._features(small_model.tokenize(texts))
    head = small_model.heads_["type"]
    linear = head.linear.predict_proba(features)
    bayes = head.bayes.predict_proba(features[:, :n])
    blended = small_model.predict_proba(texts)["type"]
    assert np.allclose(blended, (1 - head.bayes_weight) * linear + head.bayes_weight * bayes)
    assert not np.allclose(blended, linear)


def test_quick_prediction_path_matches_scikit_learn_and_survives_pickling(small_model):
    import pickle

    from triage.model import FAST_PATH_TOLERANCE

    texts = ["The carers were late again and nobody rang us.", "Thank you, the reablement team were lovely.",
             "Can I have the form for a carer's assessment?", "Out of office until Monday", "",
             "Mum's invoice is wrong and the financial assessment ignored her rent. I want it looked at again."]
    features, _ = small_model._features(small_model.tokenize(texts))
    restored = pickle.loads(pickle.dumps(small_model))
    for model in (small_model, restored):
        for head, blended in model.heads_.items():
            assert blended._fast is not None, head  # the check passed, so the quick path is on
            assert np.allclose(blended.predict_proba(features), blended.library_proba(features),
                               rtol=0, atol=FAST_PATH_TOLERANCE), head


def test_quick_prediction_path_stays_off_when_it_disagrees(small_model, monkeypatch):
    """If a scikit-learn release computed calibration differently, the library's answer is used."""
    import copy

    from triage import model as model_module

    head = copy.deepcopy(small_model.heads_["type"])
    rows = head.check_rows
    library = head.library_proba(rows)
    original = model_module._FastCalibrated.predict_proba
    monkeypatch.setattr(model_module._FastCalibrated, "predict_proba",
                        lambda self, x: np.roll(original(self, x), 1, axis=1))
    assert head.check_fast_path(rows) is False
    assert head._fast is None
    assert np.allclose(head.predict_proba(rows), library)
