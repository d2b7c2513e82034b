"""The spaCy pipeline behind the fast model.

``fr_core_news_sm`` gives the tokenizer and the morphologizer. Its parser is not loaded: a rule-based
``sentencizer`` splits sentences at a fraction of the cost. SP+ exports often lose the space after a full stop
("au guichet.Elle a pris"), so the tokenizer also splits a sentence mark glued between a lower-case letter and a
capital; otherwise the two sentences would stay one. A line break also ends a sentence (lists, signatures).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.util import compile_infix_regex

SPACY_MODEL = "fr_core_news_sm"
_GLUED_SENTENCE_MARK = r"(?<=[a-zà-ÿ0-9\)])[.!?…](?=[A-ZÀ-Ý])"


@Language.component("newline_sentences")
def newline_sentences(doc):
    """A token that follows a line break starts a sentence (runs after the sentencizer)."""
    for token in doc[1:]:
        if "\n" in doc[token.i - 1].text or "\n" in doc[token.i - 1].whitespace_:
            token.is_sent_start = True
    return doc


@lru_cache(maxsize=2)
def load_language(with_morphology: bool = True) -> Language:
    """Load ``fr_core_news_sm`` with only what the fast model needs (tokenizer, sentencizer, morphologizer)."""
    try:
        nlp = spacy.load(SPACY_MODEL, exclude=["parser", "ner", "lemmatizer", "attribute_ruler"])
    except OSError as err:  # the wheel is a declared dependency; say how to get it
        raise RuntimeError(f"spaCy model {SPACY_MODEL!r} is missing: pip install {SPACY_MODEL.replace('_', '-')}") from err
    infixes = list(nlp.Defaults.infixes) + [_GLUED_SENTENCE_MARK]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("newline_sentences", after="sentencizer")
    if not with_morphology:
        for name in ("tok2vec", "morphologizer"):
            if name in nlp.pipe_names:
                nlp.remove_pipe(name)
    return nlp


def segment_sentences(texts: Iterable[str], batch_size: int = 256) -> Iterator[list[tuple[int, int]]]:
    """Yield, for each text, its sentences as ``(start, end)`` character offsets, stripped of outer spaces."""
    nlp = load_language(with_morphology=False)
    for doc in nlp.pipe(texts, batch_size=batch_size):
        yield [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
