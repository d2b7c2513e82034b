"""Interpretable French cues of an improvement suggestion (guideline §3).

Two kinds of cue feed the suggestion classifier: fixed phrases ("il faudrait", "pourquoi ne pas", …) matched on the
lower-cased sentence, and verb mood read by the spaCy morphologizer: a conditional ("ce serait bien", "on
pourrait") or an imperative addressed to the service ("mettez en place", "prévoyez"). The morphologizer is costly, so
it only reads words that *could* be a conditional or a second-person-plural imperative, each in a window of
context just wide enough for the model to see what it sees in the whole sentence.
"""

from __future__ import annotations

import bisect
import re
from typing import Sequence

import numpy as np

from ..language import SENTENCES, SPACY_LOCK, load_language

#: name -> pattern on the lower-cased sentence. Names are what the model card shows.
CUES: dict[str, re.Pattern] = {
    name: re.compile(pattern)
    for name, pattern in {
        "il_faudrait": r"\b(il )?faudrait\b",
        "il_faut": r"\bil (nous |leur |vous )?faut\b",
        "il_serait_souhaitable": r"\b(il|ce|ça) serait (plus |vraiment |tellement |très )?(bien|souhaitable|judicieux|utile|bon|préférable|temps|pratique|appréciable|intéressant|mieux|nécessaire)\b",
        "pourquoi_ne_pas": r"\bpourquoi (ne pas|n'y a-t-il pas|n’y a-t-il pas|ne p(eu|ourr)(t|ait)-on pas)\b",
        "ne_pourrait_on_pas": r"\bne (pourrait|serait|devrait)[- ](on|il|vous)[- ]pas\b",
        "je_suggere": r"\b(je (suggère|propose|préconise|recommande)|suggestion|proposition)\b",
        "il_devrait": r"\b(devrai(t|ent)|devriez)\b",
        "mettre_en_place": r"\b(mett(re|ez|ent) en place|merci de prévoir|prévoir|prévoyez|instaurer|créer un|créez)\b",
        "j_aimerais": r"\b(j'|j’)(aimerais|aurais aimé|apprécierais)|\bje souhait(e|erais) (que|qu'|qu’|pouvoir|un|une)\b|\bnous (souhaitons|aimerions)\b",
        "il_est_urgent": r"\b(il est urgent|il est temps|il est nécessaire|il est indispensable)\b",
        "dommage_que": r"\b(dommage|regrettable|je regrette) (que|qu'|qu’|de ne pas)\b",
        "pas_possible_de": r"\b(pas possible de|impossible de|on ne peut pas|on ne puisse pas|pas de possibilité)\b",
        "svp": r"\b(svp|s'il vous pla[iî]t|s’il vous pla[iî]t|merci de)\b",
        "plus_de": r"\b(plus de|davantage de|un peu plus de)\b",
    }.items()
}
# Matches wherever one of the cues does: most sentences have none and skip the cue-by-cue search.
_ANY_CUE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in CUES.values()))
# Words that could be a conditional or a second-person-plural imperative; only they go to the morphologizer.
_CANDIDATE_VERB = re.compile(r"\b\w+(?:rais|rait|rions|riez|raient|ez)\b", re.IGNORECASE)
_NEVER_VERBS = {"chez", "assez", "nez", "rez"}
_RENDEZ_VOUS = re.compile(r"rendez[- ]vous", re.IGNORECASE)  # the noun, by far the most frequent "-ez" word
# The morphologizer's tok2vec reads 4 tokens either side of a word (fr_core_news_sm: 4 window layers of width 1, the
# rest per token): 4 whitespace-separated chunks either side hold at least that, and spaCy tokenises each chunk on its
# own, so the candidate's mood is read exactly as in the whole sentence, at a fraction of the cost (the corpus's
# 8,392 sentences: the same cues with 3, 4 or 6 chunks).
_CONTEXT_CHUNKS = 4
_CHUNK = re.compile(r"\S+")


def cue_names() -> list[str]:
    return list(CUES) + ["conditionnel", "imperatif"]


def find_cues(sentence: str) -> list[str]:
    """The names of the phrase cues present in ``sentence`` (no morphology)."""
    low = sentence.lower()
    return [name for name, pattern in CUES.items() if pattern.search(low)]


def cue_features(sentences: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """A (n_sentences, n_cues) 0/1 matrix: phrase cues, then conditional and imperative verbs."""
    out = np.zeros((len(sentences), len(CUES) + 2), dtype=np.float32)
    lows = [s.lower() for s in sentences]
    for i, low in enumerate(lows):
        if not _ANY_CUE.search(low):
            continue
        for j, pattern in enumerate(CUES.values()):
            if pattern.search(low):
                out[i, j] = 1.0
    windows = [w for i, sentence in enumerate(sentences) for w in _candidate_windows(i, sentence)]
    if windows:
        with SPACY_LOCK:  # see spplus_nlp.language.transient_vocabulary
            docs = load_language().pipe((text for _, text, _ in windows), batch_size=batch_size, disable=SENTENCES)
            for (i, _, at), doc in zip(windows, docs):
                span = doc.char_span(at, at + 1, alignment_mode="expand")
                tok = span[0] if span is not None and len(span) else None
                if tok is None or tok.pos_ not in ("VERB", "AUX"):
                    continue
                mood = tok.morph.get("Mood")
                if "Cnd" in mood:
                    out[i, len(CUES)] = 1.0
                elif "Imp" in mood:
                    out[i, len(CUES) + 1] = 1.0
    return out


def _candidate_windows(i: int, sentence: str) -> list[tuple[int, str, int]]:
    """``(sentence index, window text, offset of the candidate verb in the window)`` for each candidate verb."""
    found = [m for m in _CANDIDATE_VERB.finditer(sentence) if m.group().lower() not in _NEVER_VERBS
             and not _RENDEZ_VOUS.match(sentence, m.start())]
    if not found:
        return []
    chunks = [(c.start(), c.end()) for c in _CHUNK.finditer(sentence)]
    starts = [s for s, _ in chunks]
    windows = []
    for m in found:
        c = bisect.bisect_right(starts, m.start()) - 1
        begin = chunks[max(0, c - _CONTEXT_CHUNKS)][0]
        end = chunks[min(len(chunks) - 1, c + _CONTEXT_CHUNKS)][1]
        windows.append((i, sentence[begin:end], m.start() - begin))
    return windows
