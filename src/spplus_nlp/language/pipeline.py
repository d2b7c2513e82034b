"""The spaCy pipeline behind the fast model.

``fr_core_news_sm`` gives the tokenizer and the morphologizer. Its parser is not loaded: a rule-based
``sentencizer`` splits sentences at a fraction of the cost. SP+ exports often lose the space after a full stop
("au guichet.Elle a pris"), so the tokenizer also splits a sentence mark glued between a lower-case letter and a
capital; otherwise the two sentences would stay one. A line break also ends a sentence (lists, signatures). Some
exports lost their line breaks altogether ("BonjourJe vous écris", "tout est normalNous sommes"): a word that opens
French sentences (a pronoun, a determiner, a greeting) glued to a lower-case letter starts one too; brand names
("LaPoste", "BlaBlaCar", "iPhone") do not end with such a word and stay whole.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Iterable, Iterator

import spacy
from spacy.lang.fr.punctuation import ELISION, HYPHENS
from spacy.lang.fr.tokenizer_exceptions import TOKEN_MATCH as FRENCH_TOKEN_MATCH
from spacy.language import Language
from spacy.util import compile_infix_regex

SPACY_MODEL = "fr_core_news_sm"
_LINE_BREAK = re.compile(r"\n")
_GLUED_SENTENCE_MARK = r"(?<=[a-zà-ÿ0-9\)])[.!?…](?=[A-ZÀ-Ý])"
# Words that open a French sentence, capitalised: pronouns, determiners, connectives, greetings and sign-offs, and
# elided openers ("J'ai", "C'est", "Qu'il"). Hand-picked, not all stop words: "Car", "Plus", "Vous", "Pour" and
# "Tout" end brand names ("BlaBlaCar", "DisneyPlus", "RendezVous") more often than they start a glued sentence.
_OPENERS = sorted("""
    Je Il Elle On Nous Ils Elles Cela Ceci Ça
    Le La Les Un Une Des Du Au Aux Mon Ma Mes Son Sa Ses Notre Nos Votre Vos Leur Leurs Ce Cet Cette Ces
    Mais Donc Puis Ensuite Enfin Depuis Après Avant Alors Quand Lorsque Lors Si Pourtant Cependant Par Dans En
    Malgré Heureusement Malheureusement Aucun Aucune Personne Rien
    Bonjour Bonsoir Merci Cordialement Bonne Bref Madame Monsieur
""".split(), key=len, reverse=True)
_OPENER = r"(?:(?:" + "|".join(_OPENERS) + r")\b|(?:[JLCDNMST]|Qu)['’])"
# zero-width: splits "normalNous" into "normal" + "Nous" without a token in between
_GLUED_OPENER = r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Ý])(?=" + _OPENER + ")"  # the capital first: most positions fail fast
_GLUED_OPENER_AT = re.compile(_GLUED_OPENER)


# spaCy's French ``token_match`` is one alternation of 266 patterns ("faux-…", "entr'…", "saint-…"), each of which
# needs a hyphen or an apostrophe; the tokenizer asks it about every new whitespace chunk and every piece left after
# stripping an affix (about 65 calls a review, ~5 µs each, nearly all failing: a third of the tokenizer's time on new
# text). A string with neither character cannot match, so it is answered at once; the rest go to spaCy's pattern.
_TOKEN_MATCH_NEEDS = re.compile(f"[{HYPHENS}{ELISION}]")


def prefiltered_token_match(token_match):
    """``token_match`` (spaCy's French one), skipped for strings with no hyphen and no apostrophe: same answers.

    A ``functools.partial`` of a module-level function, so that the tokenizer still pickles (``nlp.pipe(n_process=)``
    under spawn); ``__self__`` is the compiled pattern, which spaCy's tokenizer serialises.
    """
    match = partial(_match_if_possible, token_match)
    match.__self__ = token_match.__self__
    return match


def _match_if_possible(token_match, string):
    return token_match(string) if _TOKEN_MATCH_NEEDS.search(string) else None


def _pattern(match) -> str | None:
    return getattr(getattr(match, "__self__", None), "pattern", None)


@Language.component("line_break_and_glued_sentences")
def line_break_and_glued_sentences(doc):
    """A token after a line break, and a sentence opener glued to the previous word ("normal|Nous", split by the
    tokenizer), start a sentence (runs after the sentencizer).

    Both are found by pattern on the text, then looked up among the token starts, instead of visiting every token in
    Python; one component, so the doc's text is rebuilt once.
    """
    text = doc.text
    breaks = [m.start() for m in _LINE_BREAK.finditer(text)]
    glued = [m.start() for m in _GLUED_OPENER_AT.finditer(text)]
    if not breaks and not glued:
        return doc
    starts = doc.to_array("IDX").tolist()
    for at in breaks:
        # the token holding the line break, in its text or in the whitespace after it
        i = bisect.bisect_right(starts, at) - 1
        if 0 <= i < len(doc) - 1:
            doc[i + 1].is_sent_start = True
    for at in glued:
        i = bisect.bisect_left(starts, at)
        if 0 < i < len(doc) and starts[i] == at:  # the tokenizer split there (not, say, inside a URL)
            doc[i].is_sent_start = True
    return doc


#: the components only the morphology cues need; sentence splitting runs without them
MORPHOLOGY = ("tok2vec", "morphologizer")
#: the components only sentence splitting needs
SENTENCES = ("sentencizer", "line_break_and_glued_sentences")


@lru_cache(maxsize=1)
def load_language() -> Language:
    """``fr_core_news_sm`` with only what the library needs: tokenizer, sentencizer, morphologizer.

    Loaded once per process; each caller disables what it does not need (``nlp.pipe(..., disable=MORPHOLOGY)``).
    """
    try:
        nlp = spacy.load(SPACY_MODEL, exclude=["parser", "ner", "lemmatizer", "attribute_ruler"])
    except OSError as err:  # the wheel is a declared dependency; say how to get it
        raise RuntimeError(f"spaCy model {SPACY_MODEL!r} is missing: pip install {SPACY_MODEL.replace('_', '-')}") from err
    infixes = list(nlp.Defaults.infixes) + [_GLUED_SENTENCE_MARK, _GLUED_OPENER]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    if _pattern(nlp.tokenizer.token_match) == _pattern(FRENCH_TOKEN_MATCH):  # the model's own, recompiled on load
        nlp.tokenizer.token_match = prefiltered_token_match(nlp.tokenizer.token_match)
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("line_break_and_glued_sentences", after="sentencizer")
    return nlp


# Each new word of a review (a name, a typo, a file number) adds strings and lexemes to spaCy's vocabulary for good:
# about 13 a review, 5 MiB or so per 1,000 distinct reviews and process, without end on an export of hundreds of
# thousands of rows. spaCy's memory zone frees them once the texts are analysed. spaCy fills its tokenizer cache
# (10,000 chunks, the common words come first) only outside a zone, so each process's first texts run outside one.
# The vocabulary is the process's, so a zone opened by one thread would free what another thread's texts add: the
# spaCy work of the models runs under one lock (the GIL serialises it anyway).
WARM_UP_TEXTS = 2048
SPACY_LOCK = threading.RLock()
_zones = {"warm": 0, "depth": 0, "inside": False}


@contextmanager
def transient_vocabulary(n_texts: int) -> Iterator[None]:
    """Analyse ``n_texts`` texts with spaCy inside ``nlp.memory_zone()``, once this process has analysed
    ``WARM_UP_TEXTS`` outside one: take plain values (offsets, strings, labels) out of the block, never a Doc,
    Token or Span. Holds ``SPACY_LOCK``; only the outermost block counts and opens a zone (spaCy's zones must not
    nest, and the accurate model runs its fast part inside its own block)."""
    with SPACY_LOCK:
        outer = _zones["depth"] == 0
        zone = outer and _zones["warm"] >= WARM_UP_TEXTS
        if outer and not zone:
            _zones["warm"] += n_texts
        _zones["depth"] += 1
        try:
            if zone:
                _zones["inside"] = True
                with load_language().memory_zone():
                    yield
            else:
                yield
        finally:
            _zones["depth"] -= 1
            if zone:
                _zones["inside"] = False


def segment_sentences(texts: Iterable[str], batch_size: int = 256) -> Iterator[list[tuple[int, int]]]:
    """Yield, for each text, its sentences as ``(start, end)`` character offsets, stripped of outer spaces."""
    texts = iter(texts)
    while batch := list(itertools.islice(texts, batch_size)):
        with SPACY_LOCK:  # a batch at a time, never held across a yield
            bounds = [_sentence_bounds(doc, text) for doc, text in
                      load_language().pipe(((t, t) for t in batch), as_tuples=True, batch_size=batch_size,
                                           disable=MORPHOLOGY)]
        yield from bounds


def _sentence_bounds(doc, text: str) -> list[tuple[int, int]]:
    # each sentence is sliced from the text itself: ``Span.text`` would rebuild it token by token
    bounds = []
    for sentence in doc.sents:
        a, b = sentence.start_char, sentence.end_char
        piece = text[a:b]
        kept = piece.strip()
        if kept:
            left = len(piece) - len(piece.lstrip())
            bounds.append((a + left, a + left + len(kept)))
    return bounds
