"""Text features of the fast model: word and character n-gram TF-IDF, counted once per sentence.

The model needs features for every sentence (evidence, suggestions) and for every document (labels). Counting
n-grams is the costly part, so sentences are counted once and a document's counts are the sum of its sentences'
counts; TF-IDF weighting is applied afterwards, block by block (words, characters), each block L2-normalised.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

_WORD_TOKENS = r"(?u)\b\w[\w'’-]*\b"


class NgramTfidf(TransformerMixin, BaseEstimator):
    """Words (1–2-grams) for meaning, character 2–5-grams inside words for misspellings and inflection."""

    def __init__(self, max_word_features: int = 40_000, max_char_features: int = 60_000, min_df: int = 2):
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df

    def _counters(self) -> list[CountVectorizer]:
        return [
            CountVectorizer(ngram_range=(1, 2), min_df=self.min_df, max_features=self.max_word_features,
                            token_pattern=_WORD_TOKENS),
            CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=self.min_df,  # see _count_char_wb
                            max_features=self.max_char_features),
        ]

    def fit(self, texts: Sequence[str], y=None) -> "NgramTfidf":
        self.counters_ = [c.fit(texts) for c in self._counters()]
        self.weights_ = [TfidfTransformer(sublinear_tf=True).fit(c.transform(texts)) for c in self.counters_]
        return self

    def count(self, texts: Sequence[str]) -> list[sp.csr_matrix]:
        """Raw n-gram counts, one matrix per block."""
        words, chars = self.counters_
        return [words.transform(texts), _count_char_wb(chars, texts)]

    def weigh(self, counts: list[sp.csr_matrix]) -> sp.csr_matrix:
        """TF-IDF of (possibly summed) counts."""
        return sp.hstack(self.weigh_blocks(counts), format="csr")

    def weigh_blocks(self, counts: list[sp.csr_matrix]) -> list[sp.csr_matrix]:
        """TF-IDF of (possibly summed) counts, one matrix per block: ``weigh`` without joining them."""
        # scikit-learn refuses zero rows (a batch of texts with no sentence); their weights are zero rows too
        return [w.transform(c) if c.shape[0] else sp.csr_matrix(c.shape) for w, c in zip(self.weights_, counts)]

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.weigh(self.count(texts))

    def documents_and_sentences(self, texts: Sequence[str], bounds: Sequence[Sequence[tuple[int, int]]]):
        """(document features, sentence features) with n-grams counted once, on the sentences."""
        sentences = [t[s:e] for t, bs in zip(texts, bounds) for s, e in bs]
        counts = self.count(sentences) if sentences else [sp.csr_matrix((0, len(c.vocabulary_)))
                                                          for c in self.counters_]
        owner = np.repeat(np.arange(len(texts)), [len(bs) for bs in bounds])
        to_docs = sp.csr_matrix((np.ones(len(owner)), (owner, np.arange(len(owner)))),
                                shape=(len(texts), len(owner)))
        return self.weigh([to_docs @ c for c in counts]), self.weigh(counts)


def _count_char_wb(counter: CountVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """``counter.transform(texts)`` for a ``char_wb`` counter, computed word by word.

    ``char_wb`` n-grams never cross a space, so a text's counts are the sum of its words' counts: each distinct word
    is analysed once (a text repeats words, a batch repeats them more), then (texts x words) @ (words x n-grams).
    Same matrix, a fraction of the Python work.
    """
    per_text = CountVectorizer(analyzer=str.split, lowercase=False)  # char_wb splits the lower-cased text the same way
    try:
        W = per_text.fit_transform([t.lower() for t in texts])
    except ValueError:  # no word at all in the batch
        return sp.csr_matrix((len(texts), len(counter.vocabulary_)), dtype=np.int64)
    return (W @ counter.transform(per_text.get_feature_names_out().tolist())).tocsr()
