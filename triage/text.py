"""Text processing for the classifier: normalising, tokenising, sentences.

Two tokenisers are available so they can be measured against each other
(see the model card): spaCy's rule-based English tokenizer with lookup
lemmas from ``spacy-lookups-data`` (no statistical model, nothing downloaded),
and scikit-learn's plain regular-expression tokenisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\w)(\+44\s?|0)(\d[\s-]?){9,10}(?!\w)")
_NUMBER = re.compile(r"\b\d+([.,:/]\d+)*\b")
_SPACE = re.compile(r"\s+")
_NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "cannot", "cant", "can't", "don't", "dont",
                       "didn't", "didnt", "won't", "wont", "isn't", "isnt", "wasn't", "wasnt", "couldn't",
                       "couldnt", "wouldn't", "wouldnt", "hasn't", "hasnt", "haven't", "havent", "none",
                       "neither", "nor", "without", "n't", "aren't", "arent", "doesn't", "doesnt", "weren't"})
_CLAUSE_END = frozenset({".", ",", ";", ":", "!", "?", "but", "and", "-", "(", ")", "\n"})
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n{1,}")
_WORD = re.compile(r"(?u)\b\w[\w']*\b|[.,;:!?()-]")


def normalise(text: str) -> str:
    """Fold addresses, links, phone numbers and digits into placeholder words; unify quotes."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = _URL.sub(" urltoken ", text)
    text = _EMAIL.sub(" emailtoken ", text)
    text = _PHONE.sub(" phonetoken ", text)
    text = _NUMBER.sub(" 0 ", text)
    return _SPACE.sub(" ", text).strip().lower()


#: "Nothing, it was excellent" is often written without the comma: a new subject
#: after a bare answer like "nothing" or "no" starts a clause the negation does not reach.
_ANSWER_NEGATORS = frozenset({"no", "nothing", "none", "nope"})
_CLAUSE_SUBJECTS = frozenset({"it", "everything", "everyone", "everybody", "they", "i", "we", "she", "he",
                              "you", "staff", "all"})


def _mark_negation(tokens: list[str]) -> list[str]:
    """Prefix the three words after a negator with ``neg_`` ("not helpful" -> "neg_helpful")."""
    out: list[str] = []
    remaining = 0
    for i, tok in enumerate(tokens):
        if tok in _CLAUSE_END:
            remaining = 0
            if tok[0].isalpha():
                out.append(tok)
            continue
        if tok in _NEGATORS:
            out.append(tok)
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            remaining = 0 if (tok in _ANSWER_NEGATORS and following in _CLAUSE_SUBJECTS) else 3
            continue
        if remaining:
            out.append("neg_" + tok)
            remaining -= 1
        else:
            out.append(tok)
    return out


class PlainTokenizer:
    """scikit-learn style tokenisation: regular-expression words, lower case."""

    name = "sklearn"

    def words(self, text: str) -> list[str]:
        return _WORD.findall(normalise(text))

    def sentence_words(self, sentences: list[str]) -> list[list[str]]:
        return [self.words(s) for s in sentences]


ORTH = "ORTH"
_BREAK = "\x00break"


@lru_cache(maxsize=1)
def _spacy_parts():
    import logging

    import spacy

    logging.getLogger("spacy").setLevel(logging.WARNING)

    nlp = spacy.blank("en")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = lemmatizer.lookups.get_table("lemma_lookup")
    return nlp, table


class _LemmaCache:
    """A lemma cache that is rebuilt after unpickling rather than stored in the artifact."""

    def __init__(self) -> None:
        self._lemmas: dict = {}

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._lemmas = {}


class SpacyTokenizer(_LemmaCache):
    """spaCy's rule-based English tokenizer with lookup lemmas (no statistical model needed)."""

    name = "spacy"

    def words(self, text: str) -> list[str]:
        return [w for part in self.sentence_words([text]) for w in part]

    def sentence_words(self, sentences: list[str]) -> list[list[str]]:
        """Words of each sentence, from one tokenizer call (a newline separates the sentences)."""
        nlp, table = _spacy_parts()
        cache = self._lemmas
        strings = nlp.vocab.strings
        joined = "\n".join(normalise(s) for s in sentences)  # normalise leaves no newline inside
        out: list[list[str]] = [[]]
        # token hashes straight from the Doc: no Python Token object per word
        for key in nlp.tokenizer(joined).to_array(ORTH).tolist():
            lemma = cache.get(key)
            if lemma is None:
                word = strings[key]
                if "\n" in word:
                    lemma = _BREAK
                elif word.isspace():
                    lemma = ""
                else:
                    lemma = table.get(word, word) if word.isalpha() else word
                if len(cache) < 200_000:
                    cache[key] = lemma
            if lemma == _BREAK:
                out.extend([] for _ in range(strings[key].count("\n")))
            elif lemma:
                out[-1].append(lemma)
        return out


def _lemma(word: str, table) -> str:
    """A plural folded to its singular by spaCy's lookup table ("carers" -> "carer");
    every other form stays as written. Full lemmas cost accuracy on short feedback:
    they turn "could be better" into "can be well", "quicker" into "quick" and the
    past of "she listened" (praise) into the "listen" of a request to listen."""
    if not word.endswith("s") or not word.isalpha() or word == "does":  # the table has "doe"
        return word
    lemma = table.get(word, word)
    return lemma if lemma[:3] == word[:3] else word  # not "was" -> "be" or "does" -> "do"


class LemmaTokenizer(_LemmaCache, PlainTokenizer):
    """Regular-expression words, plurals folded with spaCy's English lookup table."""

    name = "lemmas"

    def words(self, text: str) -> list[str]:
        _, table = _spacy_parts()
        cache = self._lemmas
        out = []
        for word in _WORD.findall(normalise(text)):
            lemma = cache.get(word)
            if lemma is None:
                lemma = _lemma(word, table)
                if len(cache) < 200_000:
                    cache[word] = lemma
            out.append(lemma)
        return out


TOKENIZERS = {"spacy": SpacyTokenizer, "sklearn": PlainTokenizer, "lemmas": LemmaTokenizer}


def make_tokenizer(name: str) -> PlainTokenizer | SpacyTokenizer:
    """The tokeniser called ``name``: "spacy", "sklearn" or "lemmas" (regex words, spaCy lemmas)."""
    if name not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {name!r} (expected one of {', '.join(TOKENIZERS)})")
    return TOKENIZERS[name]()


@dataclass
class Tokenized:
    """A text split into sentences, each tokenised once (negation marked within the sentence)."""

    sentences: list[str]
    tokens: list[list[str]]


def tokenize(text: str, tokenizer: PlainTokenizer | SpacyTokenizer, splitter: str = "regex") -> Tokenized:
    """Sentences of ``text`` and their tokens, shared by features, sentiment and reasons."""
    sentences = (spacy_sentences if splitter == "spacy" else regex_sentences)(text) or [text]
    words = tokenizer.sentence_words(sentences)
    if len(words) != len(sentences):  # a sentence break the tokenizer did not keep: go one by one
        words = [tokenizer.words(s) for s in sentences]
    tokens = [_mark_negation(w) for w in words]
    return Tokenized(sentences, tokens)


class NgramAnalyzer:
    """Unigrams and bigrams within each sentence of a :class:`Tokenized` text (for TfidfVectorizer)."""

    def __init__(self, ngram_max: int = 2) -> None:
        self.ngram_max = ngram_max

    def __call__(self, doc: Tokenized | list[list[str]]) -> list[str]:
        sentences = doc.tokens if isinstance(doc, Tokenized) else doc
        grams: list[str] = []
        for tokens in sentences:
            grams.extend(_ngrams(tokens, self.ngram_max))
        return grams


#: Marks the first word of a sentence: "^listen", "^more" and "^nothing" open the
#: requests and "nothing to change" answers that short feedback forms are full of.
SENTENCE_START = "^"


#: Pronouns, auxiliaries, articles, prepositions and conjunctions: no negators, no content words.
#: N-grams made only of these carry a corpus's writing style ("i was", "when she") rather than its
#: topic, so the category and service-area heads do not learn from them (see ``is_function_gram``).
FUNCTION_WORDS = frozenset("""
a an the this that these those it its it's i i'm i've i'd me my mine myself we us our ours you your yours
he him his she her hers they them their theirs is are was were be been being am do does did doing have has
had having will would shall should can could may might must of to in on at by for with from about into onto
over under up down out off than then so as if or and but because while when where what which who whom whose
why how there here some any all each every very just also too quite really bit lot lots much many more most
such own same other another again still even only
""".split())


def is_function_gram(term: str) -> bool:
    """True for an n-gram made only of function words (negated words are never function words)."""
    return all(w.removeprefix(SENTENCE_START) in FUNCTION_WORDS for w in term.split())


def _ngrams(tokens: list[str], ngram_max: int) -> list[str]:
    words = [t for t in tokens if t[0].isalnum() or t.startswith("neg_")]
    grams = list(words)
    if words:
        grams.append(SENTENCE_START + words[0])
    for n in range(2, ngram_max + 1):
        grams.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    return grams


def regex_sentences(text: str) -> list[str]:
    """Sentences by punctuation and line breaks (the plain splitter)."""
    return [s.strip() for s in _SENTENCE.split(text) if s and len(s.strip()) > 1]


def spacy_sentences(text: str) -> list[str]:
    """Sentences from spaCy's rule-based sentencizer."""
    nlp = _spacy_sentencizer()
    out: list[str] = []
    for block in text.split("\n"):
        if block.strip():
            out.extend(s.text.strip() for s in nlp(block).sents if len(s.text.strip()) > 1)
    return out


@lru_cache(maxsize=1)
def _spacy_sentencizer():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp
