"""Text features of the fast model: word and character n-gram TF-IDF."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


def make_vectorizer(max_char_features: int = 60_000, max_word_features: int = 40_000) -> FeatureUnion:
    """Words (1–2-grams) for meaning, character 2–5-grams inside words for misspellings and inflection."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=max_word_features,
                                      token_pattern=r"(?u)\b\w[\w'’-]*\b")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                      max_features=max_char_features)),
        ]
    )
