import numpy as np
import pytest
import scipy.sparse as sp

import pickle

from spplus_nlp.fast.features import NgramTfidf, WordCharNgrams

TEXTS = [
    "Le guichet était fermé. Personne au téléphone !",
    "IMPOSSIBLE de joindre la CAF,  trois   semaines\td'attente\net aucun retour",
    "Très bien accueillie, l'agent m'a aidée (merci).",
    "Délais : 4 mois... pour une carte grise ?!",
    "",
    "   ",
    "a b c d e f",
]


@pytest.fixture(scope="module")
def vectorizer():
    return NgramTfidf(min_df=1).fit(TEXTS * 2)


def _same(ours, sklearns):
    return ours.shape == sklearns.shape and (ours != sklearns).nnz == 0


def test_word_by_word_char_counts_equal_sklearns(vectorizer):
    counter = vectorizer.counters_[1]
    assert _same(WordCharNgrams(counter).count(TEXTS), counter.transform(TEXTS))


def test_cached_words_give_the_same_counts_call_after_call(vectorizer):
    counter = vectorizer.counters_[1]
    words = WordCharNgrams(counter, max_words=12)  # small: the cache fills and starts again on the way
    calls = [TEXTS[:2], TEXTS[1:4], TEXTS, ["guichet guichet fermé", "CAF caf"], TEXTS[::-1], TEXTS[2:3]]
    for texts in calls:
        assert _same(words.count(texts), counter.transform(texts))
        assert len(words._row_of) <= max(12, len(set(" ".join(texts).lower().split())))  # one call's words stay


def test_char_counts_of_texts_without_words(vectorizer):
    counter = vectorizer.counters_[1]
    out = WordCharNgrams(counter).count(["", "  \n "])
    assert out.shape == (2, len(counter.vocabulary_)) and out.nnz == 0


def test_the_word_cache_is_not_pickled_and_a_refit_drops_it():
    vectorizer = NgramTfidf(min_df=1).fit(TEXTS)
    before = vectorizer.count(TEXTS)[1]
    assert vectorizer._char_rows._row_of
    copy = pickle.loads(pickle.dumps(vectorizer))
    assert getattr(copy, "_char_rows", None) is None
    assert vectorizer._char_rows._row_of  # pickling leaves the live object's cache alone
    assert _same(copy.count(TEXTS)[1], before)
    vectorizer.fit(["tout autre chose", "autre chose encore"])  # new vocabulary: old rows would be wrong
    assert _same(vectorizer.count(TEXTS)[1], vectorizer.counters_[1].transform(TEXTS))


def test_document_counts_are_the_sum_of_their_sentences(vectorizer):
    texts = ["Personne au téléphone. Trois semaines d'attente.", "Merci."]
    bounds = [[(0, 22), (23, 48)], [(0, 6)]]
    docs, sentences = vectorizer.documents_and_sentences(texts, bounds)
    sentence_texts = ["Personne au téléphone.", "Trois semaines d'attente.", "Merci."]
    np.testing.assert_allclose(sentences.toarray(), vectorizer.transform(sentence_texts).toarray())
    counts = vectorizer.count(sentence_texts)
    summed = [np.vstack([c[:2].sum(axis=0), c[2].toarray()]) for c in counts]
    expected = vectorizer.weigh([sp.csr_matrix(c) for c in summed])
    np.testing.assert_allclose(docs.toarray(), expected.toarray())
