"""Training the fast model from the corpus, and cross-validating it the same way."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from datasets import Dataset

from .. import __version__
from ..corpora import is_supplement, kfold
from ..evaluation import evaluate, to_markdown
from ..models import save_model
from .model import FastModel


def train(corpus: Dataset, **params) -> FastModel:
    return FastModel(**params).fit(corpus.to_list())


def cross_validate(corpus: Dataset, k: int = 5, seed: int = 0, real_only: bool = True,
                   sentence_vectors: list | None = None, **params) -> tuple[dict, list]:
    """k-fold figures on the real data. Supplement rows (``is_supplement``) only ever train.
    ``sentence_vectors``: one (sentences, dim) array per corpus row, for ``FastModel.fit``/``predict``."""
    records = corpus.to_list()
    scored = [not (real_only and is_supplement(r)) for r in records]
    real = [i for i, keep in enumerate(scored) if keep]
    extra = [i for i, keep in enumerate(scored) if not keep]
    real_ds = corpus.select(real)
    vectors = (lambda rows: None) if sentence_vectors is None else (lambda rows: [sentence_vectors[i] for i in rows])
    predictions = [None] * len(real)
    for train_idx, test_idx in kfold(real_ds, k=k, seed=seed):
        train, test = [real[i] for i in train_idx] + extra, [real[i] for i in test_idx]
        model = FastModel(**params).fit([records[i] for i in train], sentence_vectors=vectors(train))
        analyses = model.predict([records[i]["text"] for i in test], sentence_vectors=vectors(test))
        for i, analysis in zip(test_idx, analyses):
            predictions[i] = analysis
    gold = [records[i] for i in real]
    return evaluate(gold, predictions), predictions


def write_model_card(path: Path, corpus: Dataset, report: dict, seconds: float, params: dict,
                     cv_seconds: float | None = None) -> None:
    n_annotated = sum(corpus["annotated"])
    n_supp = sum(map(is_supplement, corpus))
    card = [
        f"# spplus_nlp fast model — v{__version__}",
        "",
        f"Trained {dt.date.today().isoformat()} in {seconds:.0f} s on CPU"
        + (f" (and {cv_seconds:.0f} s of cross-validation for the figures below)" if cv_seconds else "")
        + f". Parameters: `{json.dumps(params)}`.",
        "",
        "## What it is",
        "TF-IDF (word 1–2-grams + character 2–5-grams) with logistic-regression heads: sentiment (3 classes, "
        "class-balanced; its scores turned into probabilities by a multinomial logistic regression fitted on "
        "out-of-fold scores); per engagement E1–E8, a calibrated document head stacked with the best sentence "
        "under a sentence head trained on the gold evidence sentences (thresholds tuned together for micro-F1 on "
        "out-of-fold predictions); engagement polarity (the evidence sentence's polarity blended with the "
        "document's sentiment, the weight tuned on out-of-fold predictions); a sentence classifier for improvement "
        "suggestions fed with interpretable French cues (fixed phrases; conditional and imperative verbs read by "
        "the spaCy morphologizer around candidate words) and where the sentence stands in its text, and two "
        "boundary scorers that cut the exact span out of "
        "a suggestion's sentence. Evidence = the sentence the engagement's sentence head scores highest (the "
        "document head's, for a label with under 10 evidence sentences), cut down to its best-scoring clause run "
        "of 3 to 25 words when it is longer than 25 words (the guideline's evidence is a clause of 3 to 25 words).",
        "",
        "## Training data",
        f"- {len(corpus) - n_supp} real SP+ experiences from `shared/data/spplus` (sentiment = the author's "
        f"\"Ressenti usager\") and {n_supp} team-written supplement rows (`corpora/supplement`); {n_annotated} of "
        "all these carry the project's engagement/suggestion annotation (`corpora/spplus/annotations.jsonl`).",
        "",
        "## Cross-validated figures (5-fold, real data only, supplement rows only in training folds)",
        "",
        to_markdown(report, title="Cross-validation").split("\n", 2)[2],
        "## Limits",
        "- Sentiment is the author's own rating, which is noisy for `neutre`.",
        "- Length is a cue the models learnt: in the real export, texts under 300 characters are 56 % `positif` and 16 % `négatif` (over 600 characters: 15 % and 57 %), so a short complaint can come out `neutre` or `positif`.",
        "- Evidence is a whole sentence or, for a sentence over 25 words, one run of its clauses: that one clause "
        "misses the gold evidence more often than the whole sentence did (see the evidence figures above).",
        "- Labels with few annotated positives (see supports) have uncertain thresholds.",
        "",
        "Rebuild: `make model` (runs `spplus-nlp train --out models/fast`).",
    ]
    (path / "MODEL_CARD.md").write_text("\n".join(card) + "\n", encoding="utf-8")


def train_and_save(corpus: Dataset, out: Path, cv_folds: int = 5, **params) -> dict:
    start = time.time()
    report, _ = cross_validate(corpus, k=cv_folds, **params) if cv_folds > 1 else ({"n": 0}, None)
    cv_seconds, start = time.time() - start, time.time()
    model = train(corpus, **params)
    seconds = time.time() - start
    save_model(model, out, kind="fast", metadata={
        "trained": dt.date.today().isoformat(), "n_train": len(corpus), "params": params,
        "thresholds": model.thresholds_, "suggestion_threshold": model.suggestion_threshold_,
        "engagement_support": model.engagement_support_})
    (out / "cv_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_model_card(out, corpus, report, seconds, params, cv_seconds)
    return report
