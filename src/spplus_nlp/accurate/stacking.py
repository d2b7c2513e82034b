"""The fast model stacked with the encoder.

Measured out-of-fold on the real data (5 folds, same folds for both models), the two models are good at different
things: the encoder's sentiment and polarity are better, the fast model's sparse n-grams find engagements, their
evidence and suggestion spans better (engagements micro-F1 0.706 against 0.643, with thresholds re-tuned for both).
So a stacked accurate model takes engagements, evidence and suggestions from a fast model trained on the same rows,
reads each engagement's polarity with the encoder's polarity head, and mixes both sentiments.

The fast model's engagements also read the encoder's frozen lower layers: each sentence's mean state after them (in
its document's context) feeds one more sentence head per engagement, stacked with the n-gram heads
(``FastModel.fit(sentence_vectors=...)``), and the evidence is the sentence both sentence heads point to. Those
layers are never trained, so the vectors of the training rows are no more fitted to them than anyone's, and they
cost no extra encoder pass. Cross-validated (``spplus-nlp train --kind accurate --folds 5``, with and without
``--no-frozen-sentences``): engagements micro-F1 0.738 -> 0.751, evidence overlapping the gold evidence
0.573 -> 0.612. The suggestion sentences are found the same way: a head on the vectors, mixed with the n-gram and
cue head by a logistic regression on both heads' out-of-fold logits (the fast model alone, 5 folds: suggestion
span F1 0.222 -> 0.264 exact, 0.559 -> 0.611 overlapping).

The sentiment mix is the normalised geometric mean of both models' probabilities (a product of experts), with one
temperature fitted on the dev split. In that experiment any fast-model weight from 0.1 to 0.6 gave 0.720-0.725
macro-F1 (encoder alone 0.711, fast alone 0.683); a multinomial logistic regression fitted on a 168-row dev split was
no better on average and swung by several points between folds (0.729 against 0.764 for the plain mean in one fold).

The temperature is fitted on the dev split: the encoder's dev probabilities are held out from its training, and the
fast model's are its own out-of-fold probabilities (``StackedSentiment.oof_proba_``), so the fast model can train on
every row, dev included.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fast import FastModel
from ..taxonomy import SENTIMENTS
from .calibration import fit_temperature, softmax_t

_EPS = 1e-6


def fit_fast(examples: Sequence[dict], dev: Sequence[dict], random_state: int = 0,
             sentence_vectors: Sequence[np.ndarray] | None = None,
             sentences: Sequence[list[tuple[int, int]]] | None = None) -> tuple[FastModel, np.ndarray]:
    """A fast model trained on ``examples`` + ``dev``, and its out-of-fold sentiment probabilities for ``dev``
    (columns in ``SENTIMENTS`` order). ``sentence_vectors`` (examples' then dev's): the frozen sentence vectors
    its engagements also read, of ``sentences`` (the same order; default: spaCy's)."""
    fast = FastModel(random_state=random_state).fit(list(examples) + list(dev), sentence_vectors=sentence_vectors,
                                                    sentences=sentences)
    oof = fast.sentiment_.oof_proba_[len(examples):]
    classes = list(fast.sentiment_.classes_)
    return fast, np.column_stack([oof[:, classes.index(s)] for s in SENTIMENTS])


def fit_mix_temperature(encoder_proba: np.ndarray, fast_proba: np.ndarray, y: Sequence[str | None]) -> float:
    """The temperature of the mixed sentiment with the best dev log-likelihood; rows without a sentiment are left
    out."""
    keep = [i for i, label in enumerate(y) if label in SENTIMENTS]
    labels = np.array([SENTIMENTS.index(y[i]) for i in keep], dtype=int)
    return fit_temperature(_mix(encoder_proba, fast_proba)[keep], labels)


def mixed_sentiment(encoder_proba: np.ndarray, fast_proba: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(n, 3) probabilities in ``SENTIMENTS`` order."""
    return softmax_t(_mix(encoder_proba, fast_proba), temperature)


def _mix(encoder_proba: np.ndarray, fast_proba: np.ndarray) -> np.ndarray:
    return 0.5 * (np.log(np.asarray(encoder_proba) + _EPS) + np.log(np.asarray(fast_proba) + _EPS))
