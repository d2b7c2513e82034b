"""Sentiment on short reviews: the shipped models on a team-written probe set, and the real rows under 200 characters.

In the real export short texts are mostly positive (56 % of those under 300 characters) and long ones mostly
negative, so a model can learn length as a cue and read a short complaint ("Très mauvais accueil.") as positive.
Two measures of that:

- ``benchmarks/data/short_texts.csv``: 150 short experiences (under 200 characters; 50 per rating) written by the
  team for this benchmark only: never trained on, written by someone who had not seen the training supplement or
  any model output. Synthetic: a behaviour check, not a figure on real data.
- The real rows under 200 characters: ``benchmarks/accuracy.py`` scores them from its 5-fold cross-validation
  (``fast_short_texts`` in ``results/accuracy.json``); this script measures the shipped models on the probe set.

Usage: HF_HUB_OFFLINE=1 python benchmarks/short_texts.py [--models fast,accurate] [--out ...]
About 10 s per model on 2 cores after it loads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import spplus_nlp
from spplus_nlp.corpora.spplus import read_experiences
from spplus_nlp.evaluation.metrics import sentiment_metrics
from spplus_nlp.taxonomy import SENTIMENTS

HERE = Path(__file__).resolve().parent
PROBE = HERE / "data" / "short_texts.csv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="fast,accurate")
    ap.add_argument("--out", default=str(HERE / "results" / "short_texts.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows = list(read_experiences(PROBE))
    gold = [r["sentiment"] for r in rows]
    result = {"probe": str(PROBE.relative_to(HERE.parent)), "models": {}}
    for name in args.models.split(","):
        predicted = [a.sentiment for a in spplus_nlp.load(name).analyze_many([r["text"] for r in rows])]
        m = result["models"][name] = sentiment_metrics(gold, predicted)
        print(f"{name}: macro-F1 {m['macro_f1']:.3f}, confusion (rows gold, columns predicted "
              f"{'/'.join(SENTIMENTS)}) {m['confusion_matrix']}")
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
