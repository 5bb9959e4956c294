"""The three-head classifier: type, complaint category and service area.

One shared feature step, fitted in ``fit`` only, feeds three calibrated
logistic-regression heads: word unigram and bigram TF-IDF (counted within
sentences, negation marked), sentence-level polarity from a sentiment lexicon,
and the mean of pretrained word vectors. Each text is tokenised once; the same
sentence counts give the document features and the reason. Every prediction carries a
confidence per head, a ``needs_review`` flag when a head falls below its
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


def _meaningful(term: str) -> bool:
    """A term worth showing an officer: not only stop words, digits or placeholders."""
    words = [w.removeprefix(SENTENCE_START).removeprefix("neg_") for w in term.split()]
    return any(w not in ENGLISH_STOP_WORDS and w not in _PLACEHOLDERS and len(w) > 1 for w in words)


class TriageModel:
    """Shared TF-IDF features and three calibrated heads, following scikit-learn's fit/predict."""

    def __init__(self, tokenizer: str = "lemmas", C: float = 10.0, sentiment: float = 1.0,
                 word_vectors: float = 0.3, other_floor: float = 0.7, thresholds: dict[str, float] | None = None,
                 sentence_splitter: str = "regex") -> None:
        self.tokenizer = tokenizer
        self.C = C
        self.sentiment = sentiment
        self.word_vectors = word_vectors
        self.other_floor = other_floor
        self.thresholds = dict(thresholds or DEFAULT_THRESHOLDS)
        self.sentence_splitter = sentence_splitter
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

    def _head_estimator(self, head: str, n_per_class: int) -> CalibratedClassifierCV:
        base = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
        return CalibratedClassifierCV(base, method="sigmoid", cv=min(5, max(2, n_per_class)), ensemble=False)

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
        self.heads_: dict[str, CalibratedClassifierCV] = {}
        for head in HEADS:
            rows = [i for i, lab in enumerate(labels)
                    if lab.head(head) is not None and (HEAD_TYPES[head] is None or lab.type in HEAD_TYPES[head])]
            y = np.asarray([labels[i].head(head) for i in rows], dtype=object)
            counts = np.unique(y, return_counts=True)[1]
            estimator = self._head_estimator(head, int(counts.min()))
            x = features[rows]
            columns = self._head_columns(head, features.shape[1])
            if columns is not None:
                x = x.multiply(columns).tocsr()
            estimator.fit(x, y)
            self.heads_[head] = estimator
        return self

    # --------------------------------------------------------- predicting ---

    def _linear(self, head: str) -> LogisticRegression:
        return self.heads_[head].calibrated_classifiers_[0].estimator

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
