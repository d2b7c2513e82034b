"""5-fold cross-validated accuracy on the real SP+ data: the fast model next to baselines run in the same folds.

Usage: python benchmarks/accuracy.py [--out benchmarks/results/accuracy.json]
Baselines: TF-IDF (scikit-learn defaults) + logistic regression for sentiment and engagements; the
vaderSentiment-fr lexicon (its compound-score rule, and its scores + logistic regression) for sentiment; the phrase
cues alone (a sentence with any cue is a suggestion) for suggestion spans.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support

from spplus_nlp.corpora import kfold, load_corpus
from spplus_nlp.evaluation.metrics import sentiment_metrics, suggestion_metrics
from spplus_nlp.fast.training import cross_validate
from spplus_nlp.language import segment_sentences
from spplus_nlp.suggestions import find_cues
from spplus_nlp.taxonomy import ENGAGEMENT_IDS
from spplus_nlp.types import Analysis, Sentiment, Suggestion

SHORT_TEXT = 200  # characters: the short-text sentiment figure (benchmarks/short_texts.py uses the same bound)


def tfidf_baselines(corpus) -> dict:
    texts = np.array(corpus["text"])
    y = np.array(corpus["sentiment"])
    annotated = np.array(corpus["annotated"])
    Y = np.array([[any(e["id"] == lab for e in es) for lab in ENGAGEMENT_IDS] for es in corpus["engagements"]], int)
    pred_s = np.empty(len(y), dtype=object)
    pred_e = np.zeros_like(Y)
    for train, test in kfold(corpus):
        vec = TfidfVectorizer()
        X, Xt = vec.fit_transform(texts[train]), vec.transform(texts[test])
        pred_s[test] = LogisticRegression(max_iter=2000).fit(X, y[train]).predict(Xt)
        tr_a = train[annotated[train]]
        Xa = vec.transform(texts[tr_a])
        for j in range(len(ENGAGEMENT_IDS)):
            if Y[tr_a, j].sum() >= 2:
                pred_e[test, j] = LogisticRegression(max_iter=2000).fit(Xa, Y[tr_a, j]).predict(Xt)
    m = annotated
    _, _, f1, _ = precision_recall_fscore_support(Y[m], pred_e[m], zero_division=0)
    return {"sentiment_macro_f1": float(f1_score(y, pred_s, average="macro")),
            "engagements_micro_f1": float(f1_score(Y[m], pred_e[m], average="micro", zero_division=0)),
            "engagements_per_label_f1": dict(zip(ENGAGEMENT_IDS, map(float, f1)))}


def lexicon_baselines(corpus) -> dict:
    from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    texts = list(corpus["text"])
    y = np.array(corpus["sentiment"])
    scores = [analyser.polarity_scores(t) for t in texts]
    compound = np.array([s["compound"] for s in scores])
    rule = np.where(compound >= 0.05, "positif", np.where(compound <= -0.05, "négatif", "neutre"))
    feats = np.array([[s["neg"], s["neu"], s["pos"], s["compound"]] for s in scores])
    pred = np.empty(len(y), dtype=object)
    for train, test in kfold(corpus):
        pred[test] = LogisticRegression(max_iter=2000).fit(feats[train], y[train]).predict(feats[test])
    return {"vader_rule_macro_f1": float(f1_score(y, rule, average="macro")),
            "vader_lr_macro_f1": float(f1_score(y, pred, average="macro"))}


def short_text_sentiment(real, predictions, max_chars: int = SHORT_TEXT) -> dict:
    """Sentiment on the real rows under ``max_chars`` characters, from the same out-of-fold predictions (short texts
    are mostly positive in the export, a cue a model can over-learn: see benchmarks/short_texts.py)."""
    rows = [(r["sentiment"], a.sentiment) for r, a in zip(real, predictions) if len(r["text"]) < max_chars]
    return {"max_chars": max_chars, **sentiment_metrics([g for g, _ in rows], [p for _, p in rows])}


def cue_baseline(corpus) -> dict:
    gold = corpus.filter(lambda r: r["annotated"]).to_list()
    predicted = []
    for g, bounds in zip(gold, segment_sentences([g["text"] for g in gold])):
        sugg = [Suggestion(g["text"][s:e], s, e, "autre", 1.0) for s, e in bounds if find_cues(g["text"][s:e])]
        predicted.append(Analysis(g["text"], Sentiment("neutre", {}), [], sugg))
    return suggestion_metrics(gold, predicted)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/accuracy.json")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    corpus = load_corpus(include_supplement=True)
    real = corpus.filter(lambda r: r["source"] != "supplement")
    start = time.time()
    fast, predictions = cross_validate(corpus, k=5)
    seconds = time.time() - start
    result = {"fast": fast, "fast_cv_seconds": seconds, "fast_short_texts": short_text_sentiment(real, predictions),
              "tfidf_lr": tfidf_baselines(real),
              "lexicon": lexicon_baselines(real), "cue_only_suggestions": cue_baseline(real),
              "n_real": len(real), "n_supplement": len(corpus) - len(real)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"fast: sentiment macro-F1 {fast['sentiment']['macro_f1']:.3f}, engagements micro-F1 "
          f"{fast['engagements']['micro_f1']:.3f}, suggestions overlap F1 {fast['suggestions']['overlap']['f1']:.3f}")


if __name__ == "__main__":
    main()
