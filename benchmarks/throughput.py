"""Throughput (reviews/s) and peak memory of ``spplus-nlp score`` on 10,000 rows, next to fr_core_news_sm alone.

Usage: python benchmarks/throughput.py [--rows 10000] [--out benchmarks/results/throughput.json]
The rows are real SP+ texts from ../shared, cycled to the wanted count, written to a temporary export outside the
repository. Each measurement runs in a fresh process; peak memory is the largest process's maximum RSS.

Cycling repeats each text about ten times, and caches (spaCy's tokenizer, the fast model's words) make a text seen
before cheaper than a new one: the script also scores 10,000 distinct rows (``distinct.py``: the real texts with one
word in twelve made up, as names and typos would be), and times the fast model on the real texts seen for the first
time and then again, in one process, so that the gap is on record.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from spplus_nlp.corpora import load_corpus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from distinct import distinct_texts  # noqa: E402

_MEASURE = """
import resource, subprocess, sys, time, json
t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True); dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
_SPACY_ALONE = """
import sys, pandas as pd, spacy
texts = (pd.read_csv(sys.argv[1], sep=";", dtype=str, keep_default_na=False)
         .pipe(lambda f: (f["Titre"] + ". " + f["Description"]).tolist()))
nlp = spacy.load("fr_core_news_sm")
n = sum(1 for _ in nlp.pipe(texts, batch_size=256))
assert n == len(texts)
"""

_FIRST_SEEN = """
import json, sys, time, spplus_nlp
from spplus_nlp.corpora import load_corpus
texts = list(load_corpus(annotations=None)["text"])
model = spplus_nlp.load("fast").model
model.predict(texts[-20:])  # start-up and spaCy's load: not timed; these 20 texts are not timed either
texts = texts[:-20]
def timed():
    t = time.perf_counter()
    for i in range(0, len(texts), 1024):
        model.predict(texts[i:i + 1024])
    return time.perf_counter() - t
first, again = timed(), timed()
print(json.dumps({"texts": len(texts), "first_seen_ms_per_text": 1000 * first / len(texts),
                  "seen_before_ms_per_text": 1000 * again / len(texts)}))
"""


def _rows(texts: list[str]) -> list[dict]:
    return [{"ID expérience": str(i), "Titre": t.split(". ", 1)[0], "Description": t.split(". ", 1)[-1]}
            for i, t in enumerate(texts)]


def measure(cmd: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--out", default="benchmarks/results/throughput.json")
    args = ap.parse_args()
    corpus = load_corpus(annotations=None)
    texts = corpus["text"]
    with tempfile.TemporaryDirectory() as tmp:
        export, distinct_export = Path(tmp) / "export.csv", Path(tmp) / "distinct.csv"
        rows = _rows([texts[i % len(texts)] for i in range(args.rows)])
        pd.DataFrame(rows).to_csv(export, sep=";", index=False)
        pd.DataFrame(_rows(distinct_texts(texts, args.rows))).to_csv(distinct_export, sep=";", index=False)
        chars = sum(len(r["Titre"]) + len(r["Description"]) + 2 for r in rows)
        cli = str(Path(sys.executable).with_name("spplus-nlp"))
        results = {"rows": args.rows, "mean_chars": chars / args.rows, "cpus": os.cpu_count()}
        for workers in (1, 2):
            scored = Path(tmp) / f"scored{workers}.jsonl"
            m = measure([cli, "score", str(export), "-o", str(scored), "--quiet", "--workers", str(workers)])
            ids = [json.loads(line)["id"] for line in scored.read_text(encoding="utf-8").splitlines()]
            assert ids == [str(i) for i in range(args.rows)], "score lost, duplicated or reordered rows"
            results[f"score_workers_{workers}"] = {**m, "reviews_per_s": args.rows / m["seconds"]}
            print(f"spplus-nlp score --workers {workers}: {args.rows / m['seconds']:.0f} reviews/s, "
                  f"peak {m['peak_rss_mib']:.0f} MiB", flush=True)
        scored = Path(tmp) / "distinct.jsonl"
        m = measure([cli, "score", str(distinct_export), "-o", str(scored), "--quiet", "--workers", "2"])
        assert sum(1 for _ in scored.open(encoding="utf-8")) == args.rows
        results["score_workers_2_distinct"] = {**m, "reviews_per_s": args.rows / m["seconds"]}
        print(f"spplus-nlp score --workers 2, distinct rows: {args.rows / m['seconds']:.0f} reviews/s, "
              f"peak {m['peak_rss_mib']:.0f} MiB", flush=True)
        out = subprocess.run([sys.executable, "-c", _FIRST_SEEN], check=True, capture_output=True, text=True)
        results["fast_model_first_seen"] = json.loads(out.stdout.strip().splitlines()[-1])
        f = results["fast_model_first_seen"]
        print(f"fast model, one process: {f['first_seen_ms_per_text']:.2f} ms per text seen for the first time, "
              f"{f['seen_before_ms_per_text']:.2f} seen before ({f['texts']} distinct texts)", flush=True)
        m = measure([sys.executable, "-c", _SPACY_ALONE, str(export)])
        results["fr_core_news_sm_alone"] = {**m, "reviews_per_s": args.rows / m["seconds"]}
        print(f"fr_core_news_sm alone: {args.rows / m['seconds']:.0f} reviews/s, peak {m['peak_rss_mib']:.0f} MiB")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
