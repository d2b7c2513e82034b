"""Turning dev-set logits into calibrated probabilities and per-label decision thresholds.

Temperature scaling for the 3-class sentiment (one parameter: keeps the argmax), Platt scaling (scikit-learn's
logistic regression on the logit) for each binary head. Too few dev positives -> identity and a 0.5 threshold,
because a calibration fitted on a handful of examples is noise.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

MIN_POSITIVES = 5
IDENTITY = (1.0, 0.0)
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the dev negative log-likelihood of softmax(logits / T)."""
    if len(y) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        return -float(np.mean(log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(y)), y]))

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def softmax_t(logits: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) with p = sigmoid(a * logit + b), or the identity when the dev set has too few of either class."""
    y = np.asarray(y).astype(int)
    if min(y.sum(), len(y) - y.sum()) < MIN_POSITIVES:
        return IDENTITY
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(np.asarray(logits).reshape(-1, 1), y)
    a = float(lr.coef_[0, 0])
    return (a, float(lr.intercept_[0])) if a > 0 else IDENTITY  # a flipped sign would invert the head


def platt(logits: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    a, b = ab
    return expit(a * np.asarray(logits, dtype=np.float64) + b)


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The grid threshold with the best dev F1 (0.5 with too few positives)."""
    y = np.asarray(y).astype(int)
    if y.sum() < MIN_POSITIVES:
        return 0.5
    f1s = [f1_score(y, p >= t, zero_division=0) for t in THRESHOLD_GRID]
    return float(THRESHOLD_GRID[int(np.argmax(f1s))])
