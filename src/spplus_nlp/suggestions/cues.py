"""Interpretable French cues of an improvement suggestion (guideline §3).

Two kinds of cue feed the suggestion classifier: fixed phrases ("il faudrait", "pourquoi ne pas", …) matched on the
lower-cased sentence, and verb mood read by the spaCy morphologizer: a conditional ("ce serait bien", "on
pourrait") or an imperative addressed to the service ("mettez en place", "prévoyez"). The morphologizer is costly, so
it only runs on sentences that hold a word that *could* be a conditional or a second-person-plural imperative.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ..language import load_language

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
_MAYBE_CONDITIONAL = re.compile(r"\b\w+(rais|rait|rions|riez|raient)\b")
_MAYBE_IMPERATIVE = re.compile(r"\b\w+ez\b")


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
        for j, pattern in enumerate(CUES.values()):
            if pattern.search(low):
                out[i, j] = 1.0
    # Only sentences that could hold a conditional or an imperative go through the morphologizer.
    todo = [i for i, low in enumerate(lows) if _MAYBE_CONDITIONAL.search(low) or _MAYBE_IMPERATIVE.search(low)]
    if todo:
        nlp = load_language(with_morphology=True)
        for i, doc in zip(todo, nlp.pipe((sentences[i] for i in todo), batch_size=batch_size)):
            for tok in doc:
                if tok.pos_ not in ("VERB", "AUX"):
                    continue
                mood = tok.morph.get("Mood")
                if "Cnd" in mood:
                    out[i, len(CUES)] = 1.0
                elif "Imp" in mood:
                    out[i, len(CUES) + 1] = 1.0
    return out
