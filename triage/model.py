"""The three-head classifier: type, complaint category and service area.

One shared feature step, fitted in ``fit`` only, feeds three heads: word
unigram and bigram TF-IDF (counted within sentences, negation marked),
sentence-level polarity from a sentiment lexicon, and the mean of pretrained
word vectors. Each head blends a calibrated logistic regression over all of
these with a calibrated complement naive Bayes over the words alone. Each text
is tokenised once; the same sentence counts give the document features and the
reason. Every prediction carries a confidence per head, a ``needs_review`` flag when a head falls below its
threshold, and a reason: the terms that weighed most and the sentence that
most supports the label.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from threadpoolctl import threadpool_limits

from triage.message import ParsedMessage
from triage.sentiment import FEATURES as SENTIMENT_FEATURES, sentiment_matrix
from triage.vectors import mean_vectors, vectors_sha256
from triage.taxonomy import CATEGORISED_TYPES, ROUTED_TYPES
from triage.text import SENTENCE_START, NgramAnalyzer, Tokenized, is_function_gram, make_tokenizer, tokenize

HEADS = ("type", "category", "service_area")
_PLACEHOLDERS = frozenset({"0", "urltoken", "emailtoken", "phonetoken"})
#: Which training examples each head learns from.
HEAD_TYPES = {"type": None, "category": CATEGORISED_TYPES, "service_area": ROUTED_TYPES}
DEFAULT_THRESHOLDS = {"type": 0.55, "category": 0.45, "service_area": 0.45}
#: Heads that learn from content only: n-grams made purely of function words ("i was", "when she") and the
#: polarity figures mark how our writers told a kind of complaint, not what it is about, and do not carry
#: over to real mail. (The type head keeps both: "could", "should" and "more" and the writer's polarity
#: separate a request or a grievance from praise.)
CONTENT_HEADS = ("category", "service_area")
#: Share of each head's probabilities that comes from complement naive Bayes over the word block, and its
#: smoothing; chosen by 5-fold cross-validation on training_data/ (see the model card).
BAYES_WEIGHTS = {"type": 0.2, "category": 0.5, "service_area": 0.5}
BAYES_ALPHA = 0.3
#: Training rows kept with each head to confirm, on every load, that quick prediction matches scikit-learn.
FAST_PATH_CHECK_ROWS = 64
#: How far quick prediction may differ from scikit-learn's: the library scores naive Bayes in float32 (the
#: dtype of the features and stored log probabilities), the quick path in float64; measured differences are
#: below 2e-5, well under the 4 decimals a confidence is shown with.
FAST_PATH_TOLERANCE = 1e-4
MAX_REASON_SENTENCES = 40


@dataclass
class Reason:
    """Why the model said what it said."""

    terms: list[str] = field(default_factory=list)
    sentence: str = ""
    rule: str | None = None

    def __str__(self) -> str:
        if self.rule:
            return self.rule
        parts = []
        if self.terms:
            parts.append("key terms: " + ", ".join(f'"{t}"' for t in self.terms))
        if self.sentence:
            parts.append(f'most telling sentence: "{self.sentence}"')
        return "; ".join(parts)


@dataclass
class Suggestion:
    """The model's suggested labels for one message."""

    type: str
    type_confidence: float
    category: str | None
    category_confidence: float | None
    service_area: str | None
    service_area_confidence: float | None
    needs_review: bool
    reason: Reason
    model_version: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["reason"] = str(self.reason)
        data["reason_terms"] = list(self.reason.terms)
        data["reason_sentence"] = self.reason.sentence
        return data


@dataclass(frozen=True)
class Labels:
    """The true labels of one training or evaluation example."""

    type: str
    category: str | None = None
    service_area: str | None = None

    def head(self, name: str) -> str | None:
        return getattr(self, name)


class _FastCalibrated:
    """A fitted sigmoid-calibrated classifier reduced to arrays, for quick prediction (agrees with the
    library within ``FAST_PATH_TOLERANCE``; it scores in float64 where scikit-learn uses float32).

    ``CalibratedClassifierCV.predict_proba`` validates its input once per class, which costs
    more than the arithmetic on one message. This does the same arithmetic (the score, then
    each class's fitted sigmoid, then normalising) without the checks; ``BlendedHead`` uses it
    only after confirming it gives the library's answer (see ``BlendedHead.check_fast_path``).
    """

    def __init__(self, calibrated: CalibratedClassifierCV) -> None:
        inner = calibrated.calibrated_classifiers_[0]
        estimator = inner.estimator
        if isinstance(estimator, LogisticRegression):
            self.kind = "linear"
            self.weights = np.ascontiguousarray(estimator.coef_.T, dtype=np.float64)
            self.offset = np.asarray(estimator.intercept_, dtype=np.float64)
        elif isinstance(estimator, ComplementNB):
            self.kind = "bayes"
            self.weights = np.ascontiguousarray(estimator.feature_log_prob_.T, dtype=np.float64)
            self.offset = (np.asarray(estimator.class_log_prior_, dtype=np.float64)
                           if len(estimator.classes_) == 1 else np.zeros(len(estimator.classes_)))
        else:
            raise TypeError(f"no fast path for {type(estimator).__name__}")
        self.n_classes = len(calibrated.classes_)
        self.columns = np.searchsorted(calibrated.classes_, estimator.classes_)
        self.a = np.asarray([c.a_ for c in inner.calibrators], dtype=np.float64)
        self.b = np.asarray([c.b_ for c in inner.calibrators], dtype=np.float64)

    def predict_proba(self, x: sp.csr_matrix) -> np.ndarray:
        scores = np.asarray(x @ self.weights) + self.offset
        if self.kind == "bayes":  # the classifier's own probabilities are what was calibrated
            scores -= scores.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
        if self.n_classes == 2:
            scores = scores[:, 1:] if scores.shape[1] == 2 else scores
        calibrated = 1.0 / (1.0 + np.exp(self.a * scores + self.b))
        proba = np.zeros((x.shape[0], self.n_classes))
        if self.n_classes == 2:
            proba[:, 1] = calibrated[:, 0]
            proba[:, 0] = 1.0 - proba[:, 1]
        else:
            proba[:, self.columns] = calibrated
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / self.n_classes), where=total != 0)
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


class BlendedHead:
    """One head: calibrated logistic regression over all features, blended with calibrated complement
    naive Bayes over the word block (the first ``n_words`` columns).

    The two disagree in useful ways: the regression weighs features against each other, naive Bayes
    counts evidence word by word and is steadier on short or unusual wording.
    """

    def __init__(self, linear: CalibratedClassifierCV, bayes: CalibratedClassifierCV | None,
                 n_words: int, bayes_weight: float) -> None:
        self.linear = linear
        self.bayes = bayes
        self.n_words = n_words
        self.bayes_weight = bayes_weight if bayes is not None else 0.0
        self.classes_ = linear.classes_
        self.check_rows: sp.csr_matrix | None = None
        self._fast: tuple[_FastCalibrated, _FastCalibrated | None] | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fast"] = None  # rebuilt and re-checked on loading: the artifact stays small
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._fast = None
        if getattr(self, "check_rows", None) is not None:
            self.check_fast_path(self.check_rows)

    def _blend(self, linear, bayes, features: sp.csr_matrix) -> np.ndarray:
        probs = linear.predict_proba(features)
        if bayes is not None and self.bayes_weight:
            words = features[:, :self.n_words]
            probs = (1.0 - self.bayes_weight) * probs + self.bayes_weight * bayes.predict_proba(words)
        return probs

    def library_proba(self, features: sp.csr_matrix) -> np.ndarray:
        """The blend computed through scikit-learn's own ``predict_proba``."""
        return self._blend(self.linear, self.bayes, features)

    def check_fast_path(self, sample: sp.csr_matrix) -> bool:
        """Turn on the quick path if it matches the library on ``sample``; the library path stays otherwise
        (a scikit-learn release that changed how calibration works would otherwise go unnoticed)."""
        self._fast = None
        try:
            fast = (_FastCalibrated(self.linear),
                    _FastCalibrated(self.bayes) if self.bayes is not None and self.bayes_weight else None)
        except (AttributeError, TypeError, IndexError, ValueError):
            return False
        self._fast = fast
        try:
            agrees = bool(np.allclose(self.predict_proba(sample), self.library_proba(sample),
                                      rtol=0.0, atol=FAST_PATH_TOLERANCE))
        except (ValueError, IndexError):
            agrees = False
        if not agrees:
            self._fast = None
        return agrees

    def predict_proba(self, features: sp.csr_matrix) -> np.ndarray:
        fast = getattr(self, "_fast", None)
        return self.library_proba(features) if fast is None else self._blend(*fast, features)


def _meaningful(term: str) -> bool:
    """A term worth showing an officer: not only stop words, digits or placeholders."""
    words = [w.removeprefix(SENTENCE_START).removeprefix("neg_") for w in term.split()]
    return any(w not in ENGLISH_STOP_WORDS and w not in _PLACEHOLDERS and len(w) > 1 for w in words)


class TriageModel:
    """Shared TF-IDF features and three calibrated heads, following scikit-learn's fit/predict."""

    def __init__(self, tokenizer: str = "lemmas", C: float = 10.0, sentiment: float = 1.0,
                 word_vectors: float = 0.3, other_floor: float = 0.7, thresholds: dict[str, float] | None = None,
                 sentence_splitter: str = "regex", bayes_weights: dict[str, float] | None = None) -> None:
        self.tokenizer = tokenizer
        self.C = C
        self.sentiment = sentiment
        self.word_vectors = word_vectors
        self.other_floor = other_floor
        self.thresholds = dict(thresholds or DEFAULT_THRESHOLDS)
        self.sentence_splitter = sentence_splitter
        self.bayes_weights = dict(BAYES_WEIGHTS if bayes_weights is None else bayes_weights)
        self.version = ""

    # ------------------------------------------------------------ fitting ---

    def tokenize(self, texts: Sequence[str]) -> list[Tokenized]:
        """Split and tokenise each text once; features, sentiment and reasons share the result."""
        tokenizer = self.tokenizer_
        return [tokenize(t, tokenizer, self.sentence_splitter) for t in texts]

    def _sentence_counts(self, docs: Sequence[Tokenized]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """N-gram counts per sentence, and the matrix that sums a text's sentences into the text."""
        sentences = [[tokens] for doc in docs for tokens in doc.tokens]
        lengths = np.fromiter((len(doc.tokens) for doc in docs), dtype=np.int64, count=len(docs))
        owner = np.repeat(np.arange(len(docs)), lengths)
        summing = sp.csr_matrix((np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))),
                                shape=(len(docs), len(owner)))
        return self.counts_.transform(sentences).tocsr(), summing

    def _features(self, docs: Sequence[Tokenized]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The feature matrix of the texts, with the per-sentence counts kept for the reasons."""
        sentence_counts, summing = self._sentence_counts(docs)
        blocks = [self.tfidf_.transform(summing @ sentence_counts)]
        if self.sentiment:
            blocks.append(sp.csr_matrix(sentiment_matrix(docs, self.sentiment)))
        if self.word_vectors:
            blocks.append(sp.csr_matrix(mean_vectors(docs, self.word_vectors)))
        return sp.hstack(blocks, format="csr"), sentence_counts

    def _fit_head(self, head: str, x: sp.csr_matrix, y: np.ndarray, columns: np.ndarray | None) -> BlendedHead:
        folds = min(5, max(2, int(np.unique(y, return_counts=True)[1].min())))
        linear = CalibratedClassifierCV(LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000),
                                        method="sigmoid", cv=folds, ensemble=False).fit(x, y)
        weight = self.bayes_weights.get(head, 0.0)
        bayes = None
        if weight:
            bayes = CalibratedClassifierCV(ComplementNB(alpha=BAYES_ALPHA), method="sigmoid", cv=folds,
                                           ensemble=False).fit(x[:, :self.n_word_features_], y)
            counted = bayes.calibrated_classifiers_[0].estimator
            if columns is not None:  # a masked column was zero in training: it must weigh nothing at prediction
                counted.feature_log_prob_[:, columns[:self.n_word_features_] == 0] = 0.0
            # prediction needs only the log probabilities; as float32, like the features, they take half the
            # space, and the raw counts (needed only to refit) are dropped: the artifact stays small to load
            counted.feature_log_prob_ = counted.feature_log_prob_.astype(np.float32)
            del counted.feature_count_, counted.feature_all_
        blended = BlendedHead(linear, bayes, self.n_word_features_, weight)
        blended.check_rows = x[:FAST_PATH_CHECK_ROWS].copy()
        blended.check_fast_path(blended.check_rows)
        return blended

    def _head_columns(self, head: str, n_columns: int) -> np.ndarray | None:
        """The feature columns a head learns from, as a 0/1 scale (None: all of them).

        A column that is zero in training gets a zero weight, so prediction needs no mask.
        """
        keep = np.ones(n_columns, dtype=np.float32)
        if head in CONTENT_HEADS:
            keep[[i for i, term in enumerate(self.word_names_) if is_function_gram(term)]] = 0.0
            if self.sentiment:  # how upset a writer is says it is a grievance, not what it is about
                keep[self.n_word_features_:self.n_word_features_ + len(SENTIMENT_FEATURES)] = 0.0
        return None if keep.all() else keep

    def fit(self, texts: Sequence[str], labels: Sequence[Labels]) -> "TriageModel":
        """Learn features and the three heads from texts and their labels.

        BLAS runs on one thread while fitting: the solver's path (and so the weights, to the
        last digits that can flip a borderline prediction) otherwise depends on how many cores
        the machine has, and on two cores one thread is also faster.
        """
        with threadpool_limits(limits=1):
            return self._fit(texts, labels)

    def _fit(self, texts: Sequence[str], labels: Sequence[Labels]) -> "TriageModel":
        texts = list(texts)
        self.tokenizer_ = make_tokenizer(self.tokenizer)
        self.vectors_sha256_ = vectors_sha256() if self.word_vectors else None
        docs = self.tokenize(texts)
        self.counts_ = CountVectorizer(analyzer=NgramAnalyzer(2), min_df=2, max_df=0.9, dtype=np.float32)
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(self.counts_.fit_transform(docs))
        features, _ = self._features(docs)
        self.n_word_features_ = len(self.counts_.vocabulary_)
        self.word_names_ = np.asarray(self.counts_.get_feature_names_out(), dtype=object)
        self.heads_: dict[str, BlendedHead] = {}
        for head in HEADS:
            rows = [i for i, lab in enumerate(labels)
                    if lab.head(head) is not None and (HEAD_TYPES[head] is None or lab.type in HEAD_TYPES[head])]
            y = np.asarray([labels[i].head(head) for i in rows], dtype=object)
            x = features[rows]
            columns = self._head_columns(head, features.shape[1])
            if columns is not None:
                x = x.multiply(columns).tocsr()
            self.heads_[head] = self._fit_head(head, x, y, columns)
        return self

    # --------------------------------------------------------- predicting ---

    def _linear(self, head: str) -> LogisticRegression:
        return self.heads_[head].linear.calibrated_classifiers_[0].estimator

    def classes(self, head: str) -> list[str]:
        return [str(c) for c in self.heads_[head].classes_]

    def pick_types(self, type_probs: np.ndarray) -> np.ndarray:
        """Column index of the type for each row: the most probable, except that ``other``
        (archived, never shown to an officer) must reach ``other_floor``; below it the
        next most probable type wins and an officer sees the message."""
        picks = type_probs.argmax(axis=1)
        classes = list(self.heads_["type"].classes_)
        if "other" in classes and getattr(self, "other_floor", 0):
            other = classes.index("other")
            unsure = (picks == other) & (type_probs[:, other] < self.other_floor)
            if unsure.any():
                masked = type_probs[unsure].copy()
                masked[:, other] = -1.0
                picks[unsure] = masked.argmax(axis=1)
        return picks

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Calibrated probabilities per head, columns in ``classes(head)`` order."""
        features, _ = self._features(self.tokenize(list(texts)))
        return {head: est.predict_proba(features) for head, est in self.heads_.items()}

    def predict_texts(self, texts: Sequence[str], with_reasons: bool = True) -> list[Suggestion]:
        """Suggestions for already-cleaned texts."""
        texts = list(texts)
        if not texts:
            return []
        docs = self.tokenize(texts)
        features, sentence_counts = self._features(docs)
        probs = {head: est.predict_proba(features) for head, est in self.heads_.items()}
        picks = {head: probs[head].argmax(axis=1) for head in HEADS}
        picks["type"] = self.pick_types(probs["type"])
        classes = {head: self.heads_[head].classes_ for head in HEADS}
        suggestions = []
        for i in range(len(texts)):
            type_ = str(classes["type"][picks["type"][i]])
            type_conf = float(probs["type"][i, picks["type"][i]])
            category = category_conf = area = area_conf = None
            needs_review = type_conf < self.thresholds["type"]
            if type_ in CATEGORISED_TYPES:
                category = str(classes["category"][picks["category"][i]])
                category_conf = float(probs["category"][i, picks["category"][i]])
                needs_review |= category_conf < self.thresholds["category"]
            if type_ in ROUTED_TYPES:
                area = str(classes["service_area"][picks["service_area"][i]])
                area_conf = float(probs["service_area"][i, picks["service_area"][i]])
                needs_review |= area_conf < self.thresholds["service_area"]
            suggestions.append(Suggestion(
                type=type_, type_confidence=round(type_conf, 4),
                category=category, category_confidence=None if category_conf is None else round(category_conf, 4),
                service_area=area, service_area_confidence=None if area_conf is None else round(area_conf, 4),
                needs_review=bool(needs_review), reason=Reason(), model_version=self.version,
            ))
        if with_reasons:
            self._explain(docs, features, sentence_counts, suggestions)
        return suggestions

    def predict(self, messages: Iterable[ParsedMessage]) -> list[Suggestion]:
        """Suggestions for parsed messages; auto-replies and bulk mail are ``other`` by rule."""
        messages = list(messages)
        suggestions: list[Suggestion | None] = [None] * len(messages)
        to_model = [i for i, m in enumerate(messages) if not m.auto_reason]
        for i, m in enumerate(messages):
            if m.auto_reason:
                suggestions[i] = Suggestion("other", 1.0, None, None, None, None, False,
                                            Reason(rule=m.auto_reason), self.version)
        predicted = self.predict_texts([messages[i].model_text for i in to_model])
        for i, suggestion in zip(to_model, predicted):
            suggestions[i] = suggestion
        return [s for s in suggestions if s is not None]

    # ----------------------------------------------------------- reasons ---

    def _class_weights(self, head: str, label: str) -> np.ndarray:
        linear = self._linear(head)
        classes = list(linear.classes_)
        coef = linear.coef_
        if coef.shape[0] == 1:  # binary: one row, positive for classes[1]
            row = coef[0] if label == classes[1] else -coef[0]
        else:
            row = coef[classes.index(label)]
        return row

    def _explain(self, docs: list[Tokenized], features: sp.csr_matrix, sentence_counts: sp.csr_matrix,
                 suggestions: list[Suggestion]) -> None:
        """Fill in each suggestion's key terms and most supportive sentence."""
        n_words = self.n_word_features_
        word_part = features[:, :n_words].tocsr()
        # sentence rows are contiguous per text: keep each text's first MAX_REASON_SENTENCES
        keep: list[int] = []
        owners: list[int] = []
        all_sentences: list[str] = []
        start = 0
        for i, doc in enumerate(docs):
            taken = doc.sentences[:MAX_REASON_SENTENCES]
            keep.extend(range(start, start + len(taken)))
            owners.extend([i] * len(taken))
            all_sentences.extend(taken)
            start += len(doc.sentences)
        sentence_features = self.tfidf_.transform(sentence_counts[keep]) if keep else None
        weights_cache: dict[tuple[str, str], np.ndarray] = {}

        def weights(s: Suggestion) -> np.ndarray:
            # the label that matters most to an officer: the category for complaints, else the type
            head, label = ("category", s.category) if s.category else ("type", s.type)
            key = (head, label)
            if key not in weights_cache:
                weights_cache[key] = self._class_weights(head, label)[:n_words]
            return weights_cache[key]

        best_sentence: dict[int, tuple[float, str]] = {}
        if sentence_features is not None:
            for row, owner in enumerate(owners):
                start, end = sentence_features.indptr[row], sentence_features.indptr[row + 1]
                idx = sentence_features.indices[start:end]
                score = float(sentence_features.data[start:end] @ weights(suggestions[owner])[idx]) if len(idx) else -1e9
                if owner not in best_sentence or score > best_sentence[owner][0]:
                    best_sentence[owner] = (score, all_sentences[row])
        for i, s in enumerate(suggestions):
            start, end = word_part.indptr[i], word_part.indptr[i + 1]
            idx = word_part.indices[start:end]
            terms: list[str] = []
            if len(idx):
                contrib = word_part.data[start:end] * weights(s)[idx]
                order = np.argsort(-contrib)
                for j in order[:24]:
                    if contrib[j] <= 0 or len(terms) >= 4:
                        break
                    term = str(self.word_names_[idx[j]])
                    if not _meaningful(term):
                        continue
                    term = term.removeprefix(SENTENCE_START).replace("neg_", "not ")
                    if not any(term in t or t in term for t in terms):
                        terms.append(term)
            sentence = best_sentence.get(i, (0.0, ""))[1]
            s.reason = Reason(terms=terms, sentence=sentence[:300])
