"""Text processing: placeholders, negation, sentences, and the three tokenisers."""

from __future__ import annotations

import pickle

import pytest

from triage.sentiment import polarity
from triage.text import NgramAnalyzer, _mark_negation, make_tokenizer, normalise, regex_sentences, tokenize


def test_normalise_folds_contact_details_and_digits():
    text = "Ring Mrs Lee on 07700 900123 or mail lee@example.org, see https://x.example/y. Ref 4471/22"
    assert normalise(text) == ("ring mrs lee on phonetoken or mail emailtoken , see urltoken ref 0")


def test_negation_is_marked_within_the_clause_only():
    doc = tokenize("The carers were not helpful, but the manager was kind.", make_tokenizer("sklearn"))
    assert doc.tokens == [["the", "carers", "were", "not", "neg_helpful", "but", "the", "manager", "was", "kind"]]


def test_sentences_split_on_punctuation_and_lines():
    assert regex_sentences("Nobody came. I rang twice!\nStill waiting? yes") == [
        "Nobody came.", "I rang twice!", "Still waiting? yes"]


@pytest.mark.parametrize("name", ["lemmas", "spacy", "sklearn"])
def test_each_sentence_keeps_its_own_tokens(name):
    tokenizer = make_tokenizer(name)
    text = "Carers arrived late.\n\n!!\nThey didn't stay. Mum cried."
    doc = tokenize(text, tokenizer)
    assert len(doc.sentences) == len(doc.tokens)
    # one tokenizer call for the whole text gives exactly what sentence-by-sentence calls give
    assert doc.tokens == [_mark_negation(tokenizer.words(s)) for s in doc.sentences]
    assert [t for sentence in doc.tokens for t in sentence if t.startswith("neg_")] == ["neg_stay"]
    again = pickle.loads(pickle.dumps(tokenizer))
    assert tokenize(text, again).tokens == doc.tokens


def test_lemmas_fold_word_forms():
    assert make_tokenizer("lemmas").words("The carers were rushing") == ["the", "carer", "were", "rushing"]
    # only plurals fold: tense, modals and comparatives carry the difference between
    # praise ("she listened") and a request ("could be better", "listen to mum")
    assert make_tokenizer("lemmas").words("Services could be quicker, she listened") == [
        "service", "could", "be", "quicker", ",", "she", "listened"]
    assert make_tokenizer("lemmas").words("It was less than he does") == ["it", "was", "less", "than", "he", "does"]
    assert make_tokenizer("spacy").words("The carers were rushing") == ["the", "carer", "be", "rush"]
    assert make_tokenizer("sklearn").words("The carers were rushing") == ["the", "carers", "were", "rushing"]
    with pytest.raises(ValueError, match="unknown tokenizer"):
        make_tokenizer("bert")


def test_bigrams_do_not_cross_sentences():
    doc = tokenize("Staff rude. Food cold.", make_tokenizer("sklearn"))
    grams = NgramAnalyzer(2)(doc)
    assert "staff rude" in grams and "food cold" in grams and "rude food" not in grams


def test_polarity_reads_praise_criticism_and_negation():
    t = make_tokenizer("lemmas")
    praise = polarity(tokenize("The staff were wonderful and kind.", t))
    grievance = polarity(tokenize("Terrible care, I am angry and upset.", t))
    negated = polarity(tokenize("The staff were not kind.", t))
    assert praise[0] > 0.5 > -0.5 > grievance[0]
    assert negated[0] < 0
    mixed = polarity(tokenize("Lovely carers. The office is useless and rude.", t))
    assert mixed[3] < 0 < mixed[4]  # most negative and most positive sentence


def test_a_bare_answer_does_not_negate_the_clause_after_it():
    tokenizer = make_tokenizer("sklearn")
    # "Nothing it was excellent": the answer to "what could we do better?", then praise
    assert tokenize("Nothing it was excellent", tokenizer).tokens == [["nothing", "it", "was", "excellent"]]
    assert tokenize("No everything was great", tokenizer).tokens == [["no", "everything", "was", "great"]]
    # a negator that governs what follows still negates it
    assert tokenize("No problems at all", tokenizer).tokens == [["no", "neg_problems", "neg_at", "neg_all"]]
    assert tokenize("Not everything was explained", tokenizer).tokens == [
        ["not", "neg_everything", "neg_was", "neg_explained"]]


def test_the_first_word_of_each_sentence_is_a_feature_of_its_own():
    grams = NgramAnalyzer(2)(tokenize("Listen to mum. She listened.", make_tokenizer("sklearn")))
    assert "^listen" in grams and "^she" in grams
    assert "^to" not in grams and "^listened" not in grams


def test_the_clause_after_but_carries_the_writers_point():
    t = make_tokenizer("lemmas")
    grievance = polarity(tokenize("The carers were lovely but the wait was dreadful", t))
    praise = polarity(tokenize("The wait was dreadful but the carers were lovely", t))
    assert grievance[0] < 0 < praise[0]
    plain = polarity(tokenize("The carers were lovely and the wait was dreadful", t))
    assert grievance[0] < plain[0] < praise[0]
