"""Text features of the fast model: word and character n-gram TF-IDF, counted once per sentence.

The model needs features for every sentence (evidence, suggestions) and for every document (labels). Counting
n-grams is the costly part, so sentences are counted once and a document's counts are the sum of its sentences'
counts; TF-IDF weighting is applied afterwards, block by block (words, characters), each block L2-normalised.
"""

from __future__ import annotations

import threading
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
        if getattr(self, "_char_rows", None) is None or self._char_rows.counter is not chars:
            self._char_rows = WordCharNgrams(chars)  # per process and per fit; never pickled (see __getstate__)
        return [words.transform(texts), self._char_rows.count(texts)]

    def __getstate__(self):
        # a copy: scikit-learn returns the live __dict__, and the cache is what ``count`` saw, not part of the model
        return {k: v for k, v in super().__getstate__().items() if k != "_char_rows"}

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


class WordCharNgrams:
    """``counter.transform(texts)`` for a ``char_wb`` counter, computed word by word, each word's row cached.

    ``char_wb`` n-grams never cross a space, so a text's counts are the sum of its words' counts: each distinct word
    is analysed once, then (texts x words) @ (words x n-grams). Words repeat across texts and, in a long batch run,
    across calls: their rows are kept (up to ``max_words`` words, then the cache starts again), so a call analyses
    only the words it is the first to see. Same matrix as ``counter.transform``, a fraction of the Python work.
    """

    def __init__(self, counter: CountVectorizer, max_words: int = 100_000):
        self.counter = counter
        self.max_words = max_words
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._row_of: dict[str, int] = {}
        self._indptr = [0]  # row starts; the rows' n-gram indices and counts are arrays grown by doubling
        self._indices = np.zeros(1 << 16, dtype=np.int32)
        self._data = np.zeros(1 << 16, dtype=np.int64)

    def count(self, texts: Sequence[str]) -> sp.csr_matrix:
        per_text = CountVectorizer(analyzer=str.split, lowercase=False)  # char_wb splits the lower-cased text so
        try:
            W = per_text.fit_transform([t.lower() for t in texts])
        except ValueError:  # no word at all in the batch
            return sp.csr_matrix((len(texts), len(self.counter.vocabulary_)), dtype=np.int64)
        return (W @ self._rows(per_text.get_feature_names_out().tolist())).tocsr()

    def _rows(self, words: list[str]) -> sp.csr_matrix:
        """The n-gram rows of ``words`` (distinct), analysing only those not seen before."""
        with self._lock:  # the cache grows in place: one caller at a time
            new = [w for w in words if w not in self._row_of]
            if len(self._row_of) + len(new) > self.max_words:
                self._clear()
                new = words
            if new:
                block = self.counter.transform(new)
                self._row_of.update(zip(new, range(len(self._row_of), len(self._row_of) + len(new))))
                nnz, added = self._indptr[-1], block.nnz
                if nnz + added > len(self._data):
                    size = max(2 * len(self._data), nnz + added)
                    self._indices, self._data = np.resize(self._indices, size), np.resize(self._data, size)
                self._indices[nnz:nnz + added] = block.indices
                self._data[nnz:nnz + added] = block.data
                self._indptr.extend((nnz + block.indptr[1:]).tolist())
            nnz = self._indptr[-1]
            seen = sp.csr_matrix((self._data[:nnz], self._indices[:nnz], np.asarray(self._indptr, dtype=np.int64)),
                                 shape=(len(self._row_of), len(self.counter.vocabulary_)))
            return seen[[self._row_of[w] for w in words]]
