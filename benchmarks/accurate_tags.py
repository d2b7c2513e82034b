"""The platform's five tags as the shipped accurate model reads them, on its dev split (rows it never trained on).

Two readings from one pass over the same rows: the tag head (``Analysis.tags``) and the engagements mapped to tags
(``taxonomy.PLATFORM_TAGS``' closest engagements, as `evaluation` scores them in every CV report). Gold: the tags the
platform's users set on their own experiences. Nothing of the tag head was tuned on these rows (its decision is its
own arg-max); the engagements come from the stacked fast part, which trained on them too, so the mapped figures are
optimistic.

Usage: HF_HUB_OFFLINE=1 python benchmarks/accurate_tags.py [--out benchmarks/results/accurate_tags.json]
About 20 s on 2 cores, after the model loads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score, precision_recall_fscore_support

import spplus_nlp
from spplus_nlp.accurate.training import split
from spplus_nlp.corpora import load_corpus
from spplus_nlp.evaluation import evaluate
from spplus_nlp.taxonomy import PLATFORM_TAG_IDS

HERE = Path(__file__).resolve().parent


def tag_head_figures(gold: list[dict], analyses) -> dict:
    per_tag = {}
    for tag in PLATFORM_TAG_IDS:
        g = np.array([bool(r["tags"][tag]) for r in gold])
        found = [{t.id: t.polarity for t in a.tags}.get(tag) for a in analyses]
        p = np.array([f is not None for f in found])
        precision, recall, f1, _ = precision_recall_fscore_support(g, p, average="binary", zero_division=0)
        both = [(r["tags"][tag], f) for r, f in zip(gold, found) if r["tags"][tag] and f]
        per_tag[tag] = {"support": int(g.sum()), "precision": float(precision), "recall": float(recall),
                        "f1": float(f1), "polarity_agreement": float(np.mean([a == b for a, b in both])) if both
                        else None, "n_polarity": len(both)}
    G = np.array([[bool(r["tags"][t]) for t in PLATFORM_TAG_IDS] for r in gold])
    P = np.array([[t in {x.id for x in a.tags} for t in PLATFORM_TAG_IDS] for a in analyses])
    return {"per_tag": per_tag, "micro_f1": float(f1_score(G, P, average="micro"))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE / "results" / "accurate_tags.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    config = json.loads((HERE.parent / "models" / "accurate" / "config.json").read_text(encoding="utf-8"))
    params = config["params"]
    _, dev = split(load_corpus(include_supplement=True).to_list(), params["dev_fraction"], params["random_state"])
    analyses = list(spplus_nlp.load("accurate").analyze_many([r["text"] for r in dev]))
    mapped = evaluate(dev, analyses)["platform_tags"]
    result = {"n_dev": len(dev), "tag_head": tag_head_figures(dev, analyses),
              "engagements_mapped": {t: {k: mapped[t][k] for k in ("engagements", "precision", "recall", "f1",
                                                                   "polarity_agreement")} for t in PLATFORM_TAG_IDS}}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
