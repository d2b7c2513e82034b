"""The accurate model on CPU: reviews/s in fp32, int8 (dynamic quantisation) and bf16, and the F1 each loses.

bf16 runs on the CPU's bf16 matrix units (AMX on Sapphire Rapids and later, AVX-512 BF16); without them it is slow.

Usage: python benchmarks/accurate_speed.py [--model models/accurate] [--rows 500]
       [--out benchmarks/results/accurate_speed.json]
Speed: the first ``--rows`` real SP+ texts (training texts included: speed does not care), one warm-up call first.
F1: the model's dev split, fp32 against int8 and bf16. The encoder never trained on those rows, but a stacked model's
fast part did (its engagements, evidence and suggestions are in-sample there): read the differences, and the
cross-validated figures for absolute accuracy. The fast part's engagements read the encoder's frozen lower layers, so
they move a little with the precision (int8 quantises those layers too); its suggestions do not.
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
            "polarity_accuracy": report["engagements"]["polarity_accuracy"],
            "suggestions_exact_f1": report["suggestions"]["exact"]["f1"],
            "suggestions_overlap_f1": report["suggestions"]["overlap"]["f1"]}


def speed_texts_and_split(model: str, rows: int) -> tuple[dict, list[str], list[dict], list[dict]]:
    """The model's config, the first ``rows`` real texts (timed) and the model's own train / dev split."""
    config = json.loads((Path(model) / "config.json").read_text(encoding="utf-8"))
    records = load_corpus(include_supplement=True).to_list()
    texts = [r["text"] for r in records if r["source"] != "supplement"][:rows]
    train, dev = split(records, config["params"]["dev_fraction"], config["params"]["random_state"])
    return config, texts, train, dev


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/accurate")
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--out", default="benchmarks/results/accurate_speed.json")
    args = ap.parse_args()
    config, texts, _, dev = speed_texts_and_split(args.model, args.rows)
    results = {"rows": len(texts), "stacked": bool(config["params"].get("stack_fast")),
               "mean_chars": sum(map(len, texts)) / len(texts), "cpus": os.cpu_count(),
               "torch_threads": torch.get_num_threads()}
    results["cpu_flags"] = sorted(_cpu_flags() & {"avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"})
    # each at its best batch size on this machine (fp32 and int8: 1024 tokens, as trained; bf16 on AMX: 4096)
    variants = {"fp32": {}, "int8": {"quantize": True}, "bf16": {"dtype": "bfloat16", "batch_tokens": 4096}}
    results["options"] = variants
    for name, options in variants.items():
        model = AccurateModel.load(args.model, **options)
        model.predict(texts[:8])  # warm-up
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        model.predict(texts)
        seconds = time.perf_counter() - start
        results[name] = {"seconds": seconds, "reviews_per_s": len(texts) / seconds, "load_average_before": load_before,
                         "dev": headline(evaluate(dev, model.predict([r["text"] for r in dev])))}
        print(f"{name}: {len(texts) / seconds:.1f} reviews/s; dev {results[name]['dev']}", flush=True)
    for name in ("int8", "bf16"):
        results[f"{name}_f1_lost"] = {k: results["fp32"]["dev"][k] - results[name]["dev"][k]
                                      for k in results["fp32"]["dev"]}
        results[f"{name}_speedup"] = results[name]["reviews_per_s"] / results["fp32"]["reviews_per_s"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


def _cpu_flags() -> set[str]:
    """bf16 is fast only where the CPU has bf16 matrix units (AMX, AVX-512 BF16): say which this one has."""
    try:
        return set(next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split(":")[1].split())
    except (OSError, StopIteration):
        return set()


if __name__ == "__main__":
    main()
