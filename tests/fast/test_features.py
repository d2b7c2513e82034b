import numpy as np
import pytest
import scipy.sparse as sp

from spplus_nlp.fast.features import NgramTfidf, _count_char_wb

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


def test_word_by_word_char_counts_equal_sklearns(vectorizer):
    counter = vectorizer.counters_[1]
    ours, sklearns = _count_char_wb(counter, TEXTS), counter.transform(TEXTS)
    assert ours.shape == sklearns.shape
    assert (ours != sklearns).nnz == 0


def test_char_counts_of_texts_without_words(vectorizer):
    counter = vectorizer.counters_[1]
    out = _count_char_wb(counter, ["", "  \n "])
    assert out.shape == (2, len(counter.vocabulary_)) and out.nnz == 0


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
