"""How the accurate model should mix its two sentiments, cross-validated.

The stacked accurate model's sentiment is the normalised geometric mean of the fine-tuned encoder's and the fast
part's probabilities, equal weights, one temperature fitted on the dev split (``spplus_nlp.accurate.stacking``).
This runs the accurate model's own 5-fold cross-validation (the shipped parameters and folds) and keeps, in every
fold, both models' probabilities on the dev split and on the test rows; then it scores other rules on the same
predictions: each model alone, fixed encoder weights 0 to 1, a weight fitted on the dev split (best
log-likelihood, temperature jointly; or best macro-F1) and per-class biases fitted on the dev split for macro-F1.

Usage: HF_HUB_OFFLINE=1 python benchmarks/sentiment_mix.py [--parts build/sentiment_mix_parts.npz]
       [--out benchmarks/results/sentiment_mix.json]
About an hour on 2 cores (the cross-validation); with ``--parts`` pointing at a file it wrote before, seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, log_loss

from spplus_nlp.accurate.calibration import fit_temperature, softmax_t
from spplus_nlp.corpora import is_supplement, kfold, load_corpus
from spplus_nlp.taxonomy import SENTIMENTS

HERE = Path(__file__).resolve().parent
WEIGHTS = np.round(np.linspace(0, 1, 21), 2)  # the encoder's weight


def capture(corpus) -> dict[str, list[np.ndarray]]:
    """Run the accurate cross-validation; per fold: dev encoder / fast probabilities and labels, test ones."""
    from spplus_nlp.accurate import model as accurate_model
    from spplus_nlp.accurate import training

    parts: dict[str, list] = {"dev_encoder": [], "dev_fast": [], "dev_y": [], "test_encoder": [], "test_fast": []}
    fit_mix_temperature, mixed_sentiment = training.fit_mix_temperature, accurate_model.mixed_sentiment
    predicting = {"test": False}

    def keep_dev(encoder, fast, y):
        labelled = [i for i, label in enumerate(y) if label in SENTIMENTS]
        parts["dev_encoder"].append(np.asarray(encoder)[labelled])
        parts["dev_fast"].append(np.asarray(fast)[labelled])
        parts["dev_y"].append(np.array([SENTIMENTS.index(y[i]) for i in labelled]))
        return fit_mix_temperature(encoder, fast, y)

    def keep_test(encoder, fast, temperature=1.0):
        if predicting["test"]:  # not training's own predictions (int8 smoothing's calibration texts)
            parts["test_encoder"].append(np.asarray(encoder))
            parts["test_fast"].append(np.asarray(fast))
        return mixed_sentiment(encoder, fast, temperature)

    fit = training.AccurateModel.fit

    def fit_then_test(self, *args, **kwargs):
        predicting["test"] = False
        out = fit(self, *args, **kwargs)
        predicting["test"] = True
        return out

    training.fit_mix_temperature, accurate_model.mixed_sentiment = keep_dev, keep_test
    training.AccurateModel.fit = fit_then_test
    try:
        training.cross_validate(corpus, k=5, seed=0)
    finally:
        training.fit_mix_temperature, accurate_model.mixed_sentiment = fit_mix_temperature, mixed_sentiment
        training.AccurateModel.fit = fit
    return parts


def _mix(encoder: np.ndarray, fast: np.ndarray, weight: float) -> np.ndarray:
    return weight * np.log(encoder + 1e-6) + (1 - weight) * np.log(fast + 1e-6)


def _macro_f1(y, z) -> float:
    return float(f1_score(y, np.asarray(z).argmax(axis=1), average="macro", labels=[0, 1, 2]))


def weight_by_likelihood(encoder, fast, y) -> float:
    """The weight whose mix, at its own fitted temperature (as training fits it), has the best log-likelihood."""
    def nll(w: float) -> float:
        z = _mix(encoder, fast, w)
        return log_loss(y, softmax_t(z, fit_temperature(z, y)), labels=[0, 1, 2])

    return float(min(WEIGHTS, key=nll))


def weight_by_f1(encoder, fast, y) -> float:
    return float(max(WEIGHTS, key=lambda w: (_macro_f1(y, _mix(encoder, fast, w)), -abs(w - 0.5))))


def class_biases(z, y) -> np.ndarray:
    """Additive biases for positif and neutre (négatif fixed at 0) with the best macro-F1; the smallest on ties."""
    grid = np.round(np.linspace(-1, 1, 21), 2)
    best = max(((a, b) for a in grid for b in grid),
               key=lambda ab: (round(_macro_f1(y, z + np.array([ab[0], ab[1], 0.0])), 9), -abs(ab[0]) - abs(ab[1])))
    return np.array([best[0], best[1], 0.0])


def score(parts: dict, y_test: list[np.ndarray]) -> dict:
    rules: dict[str, list] = {"shipped (weight 0.5)": [], "encoder alone": [], "fast part alone": [],
                              "weight fitted on dev (log-likelihood)": [], "weight fitted on dev (macro-F1)": [],
                              "class biases fitted on dev": []}
    rules.update({f"weight {w:.2f}": [] for w in WEIGHTS})
    fitted = []
    for k in range(len(y_test)):
        de, df, dy = parts["dev_encoder"][k], parts["dev_fast"][k], parts["dev_y"][k]
        te, tf = parts["test_encoder"][k], parts["test_fast"][k]
        w_ll, w_f1 = weight_by_likelihood(de, df, dy), weight_by_f1(de, df, dy)
        fitted.append({"log_likelihood": w_ll, "macro_f1": w_f1})
        rules["shipped (weight 0.5)"].append(_mix(te, tf, 0.5))
        rules["encoder alone"].append(te)
        rules["fast part alone"].append(tf)
        rules["weight fitted on dev (log-likelihood)"].append(_mix(te, tf, w_ll))
        rules["weight fitted on dev (macro-F1)"].append(_mix(te, tf, w_f1))
        rules["class biases fitted on dev"].append(_mix(te, tf, 0.5) + class_biases(_mix(de, df, 0.5), dy))
        for w in WEIGHTS:
            rules[f"weight {w:.2f}"].append(_mix(te, tf, w))
    y = np.concatenate(y_test)
    out = {name: {"macro_f1": _macro_f1(y, np.concatenate(z)),
                  "accuracy": float((np.concatenate(z).argmax(axis=1) == y).mean())} for name, z in rules.items()}
    return {"rules": out, "weights_fitted_per_fold": fitted, "n_test": int(len(y))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="build/sentiment_mix_parts.npz",
                    help="the captured probabilities: read if the file exists, else written by a new run")
    ap.add_argument("--out", default=str(HERE / "results" / "sentiment_mix.json"))
    args = ap.parse_args()
    corpus = load_corpus(include_supplement=True)
    records = corpus.to_list()
    real = [i for i, r in enumerate(records) if not is_supplement(r)]
    folds = list(kfold(corpus.select(real), k=5, seed=0))
    y_test = [np.array([SENTIMENTS.index(records[real[i]]["sentiment"]) for i in test]) for _, test in folds]
    path = Path(args.parts)
    if path.exists():
        with np.load(path) as saved:
            parts = {key: [saved[f"{key}_{k}"] for k in range(len(folds))] for key in
                     ("dev_encoder", "dev_fast", "dev_y", "test_encoder", "test_fast")}
    else:
        parts = capture(corpus)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{f"{key}_{k}": v for key, values in parts.items() for k, v in enumerate(values)})
    if [len(t) for t in parts["test_encoder"]] != [len(y) for y in y_test]:
        raise ValueError(f"{path} does not hold one prediction per test row of the 5 folds: remove it and rerun")
    result = score(parts, y_test)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, r in result["rules"].items():
        print(f"{name}: macro-F1 {r['macro_f1']:.3f}, accuracy {r['accuracy']:.3f}")
    print("weights fitted on each fold's dev split:", result["weights_fitted_per_fold"])


if __name__ == "__main__":
    main()
