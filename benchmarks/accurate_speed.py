"""The accurate model on CPU: reviews/s in fp32 and int8 (dynamic quantisation), and the F1 int8 loses.

Usage: python benchmarks/accurate_speed.py [--model models/accurate] [--rows 500]
       [--out benchmarks/results/accurate_speed.json]
Speed: the first ``--rows`` real SP+ texts (training texts included: speed does not care), one warm-up call first.
F1: the model's dev split (real rows it was not trained on), fp32 against int8.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from spplus_nlp.accurate import AccurateModel
from spplus_nlp.accurate.training import split
from spplus_nlp.corpora import load_corpus
from spplus_nlp.evaluation import evaluate


def headline(report: dict) -> dict:
    return {"sentiment_macro_f1": report["sentiment"]["macro_f1"],
            "engagements_micro_f1": report["engagements"]["micro_f1"],
            "suggestions_exact_f1": report["suggestions"]["exact"]["f1"],
            "suggestions_overlap_f1": report["suggestions"]["overlap"]["f1"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/accurate")
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--out", default="benchmarks/results/accurate_speed.json")
    args = ap.parse_args()
    config = json.loads((Path(args.model) / "config.json").read_text(encoding="utf-8"))
    corpus = load_corpus(include_supplement=True)
    real = [r for r in corpus.to_list() if r["source"] != "supplement"]
    texts = [r["text"] for r in real[:args.rows]]
    _, dev = split(corpus.to_list(), config["params"]["dev_fraction"], config["params"]["random_state"])
    results = {"rows": len(texts), "mean_chars": sum(map(len, texts)) / len(texts), "cpus": os.cpu_count(),
               "torch_threads": torch.get_num_threads()}
    for name, quantize in (("fp32", False), ("int8", True)):
        model = AccurateModel.load(args.model, quantize=quantize)
        model.predict(texts[:8])  # warm-up
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        model.predict(texts)
        seconds = time.perf_counter() - start
        results[name] = {"seconds": seconds, "reviews_per_s": len(texts) / seconds, "load_average_before": load_before,
                         "dev": headline(evaluate(dev, model.predict([r["text"] for r in dev])))}
        print(f"{name}: {len(texts) / seconds:.1f} reviews/s; dev {results[name]['dev']}", flush=True)
    results["int8_f1_lost"] = {k: results["fp32"]["dev"][k] - results["int8"]["dev"][k] for k in results["fp32"]["dev"]}
    results["int8_speedup"] = results["int8"]["reviews_per_s"] / results["fp32"]["reviews_per_s"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
