"""How well the span boundaries cut a suggestion out of its sentence, given the right sentence, cross-validated.

Every gold suggestion of the real corpus that lies inside one spaCy sentence; 5 folds grouped by experience
(supplement spans only ever train). Reports the share of spans cut exactly, with the right start, with the right
end, for the learnt boundaries with and without their length prior, and for the fixed rule (`narrow`).

Usage: HF_HUB_OFFLINE=1 python benchmarks/span_boundaries.py [--out benchmarks/results/span_boundaries.json]
About a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from spplus_nlp.corpora import load_corpus
from spplus_nlp.language import segment_sentences
from spplus_nlp.suggestions.boundaries import SpanBoundaries
from spplus_nlp.suggestions.spans import narrow


def gold_spans():
    corpus = load_corpus(include_supplement=True).filter(lambda r: r["annotated"]).to_list()
    rows = []  # (text, sentence, gold span, experience, real)
    for d, (r, bounds) in enumerate(zip(corpus, segment_sentences([r["text"] for r in corpus]))):
        for g in r["suggestions"]:
            holder = next(((s, e) for s, e in bounds if s <= g["start"] and g["end"] <= e), None)
            if holder is not None:
                rows.append((r["text"], holder, (g["start"], g["end"]), d, r["source"] != "supplement"))
    return rows


def scores(rows, predicted) -> dict:
    real = [(p, g) for (_, _, g, _, is_real), p in zip(rows, predicted) if is_real]
    return {"exact": float(np.mean([p == g for p, g in real])),
            "start": float(np.mean([p[0] == g[0] for p, g in real])),
            "end": float(np.mean([p[1] == g[1] for p, g in real])), "n": len(real)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/span_boundaries.json")
    args = ap.parse_args()
    rows = gold_spans()
    with_prior, without_prior = [None] * len(rows), [None] * len(rows)
    groups = [d for *_, d, _ in rows]
    for train, test in GroupKFold(5).split(rows, groups=groups):
        model = SpanBoundaries().fit(*zip(*[rows[i][:3] for i in train]))
        sentences = [(rows[i][0], *rows[i][1]) for i in test]
        for i, p in zip(test, model.predict_many(sentences)):
            with_prior[i] = p
        del model.length_log_prior_
        for i, p in zip(test, model.predict_many(sentences)):
            without_prior[i] = p
    result = {"learnt": scores(rows, with_prior), "learnt_without_length_prior": scores(rows, without_prior),
              "rule": scores(rows, [narrow(t, *s) for t, s, *_ in rows])}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, r in result.items():
        print(f"{name}: exact {r['exact']:.3f}, start {r['start']:.3f}, end {r['end']:.3f} (n={r['n']})")


if __name__ == "__main__":
    main()
