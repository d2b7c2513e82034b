"""What the encoder's frozen sentence vectors add to the fast model's engagements and suggestions, cross-validated.

The accurate model's stacked fast part reads, for each spaCy sentence, the mean token state of the base encoder
after ``frozen_layers`` of its layers (see ``spplus_nlp.accurate.stacking`` and ``.body``). This runs the fast
model alone with and without those vectors, in the benchmark folds (5-fold, real rows, supplement rows only in training), so the effect is measured
without the encoder's own heads and calibration in the way.

Usage: HF_HUB_OFFLINE=1 python benchmarks/frozen_sentences.py [--out benchmarks/results/frozen_sentences.json]
       [--frozen-layers N]   the depth the vectors are read at (default: the accurate model's, -2)
       [--without]   also cross-validate the fast model without vectors (else its figures are read from
                     models/fast/cv_report.json, the same folds and code)
About 15 minutes on 2 cores (3 for the vectors, 2-3 per fold).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from spplus_nlp.accurate import AccurateModel
from spplus_nlp.accurate.pooling import make_plans
from spplus_nlp.corpora import load_corpus
from spplus_nlp.encoder.convert import base_model_dir
from spplus_nlp.fast.training import cross_validate
from spplus_nlp.language import segment_sentences

HERE = Path(__file__).resolve().parent


def frozen_vectors(texts: list[str], sentences: list[list[tuple[int, int]]],
                   frozen_layers: int | None = None) -> list[np.ndarray]:
    """Each text's (sentences, hidden) mean frozen states of an untrained accurate model (the same as any trained
    one's: they are never trained)."""
    model = AccurateModel(batch_tokens=4096, **({} if frozen_layers is None else {"frozen_layers": frozen_layers}))
    model._build(base_model_dir())
    with torch.inference_mode():
        frozen = model.vectors(make_plans(model.windower_, texts, sentences))[2].float().numpy()
    first = np.cumsum([0] + [len(s) for s in sentences])
    return [frozen[first[d]:first[d + 1]] for d in range(len(texts))]


def headline(report: dict) -> dict:
    e, s = report["engagements"], report["suggestions"]
    return {"engagements_micro_f1": e["micro_f1"], "engagements_macro_f1": e["macro_f1"],
            "evidence_overlap": e["evidence_overlap_rate"], "polarity_accuracy": e["polarity_accuracy"],
            "per_label_f1": {lab: v["f1"] for lab, v in e["per_label"].items()},
            "suggestions_exact_f1": s["exact"]["f1"], "suggestions_overlap_f1": s["overlap"]["f1"],
            # absent from reports written before the metric existed
            "suggestion_engagement_accuracy": report.get("suggestion_engagements", {}).get("accuracy")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE / "results" / "frozen_sentences.json"))
    ap.add_argument("--frozen-layers", type=int)
    ap.add_argument("--without", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    corpus = load_corpus(include_supplement=True)
    texts = list(corpus["text"])
    start = time.time()
    vectors = frozen_vectors(texts, list(segment_sentences(texts)), args.frozen_layers)  # FastModel's sentences
    results = {"frozen_layers": args.frozen_layers, "vectors_seconds": round(time.time() - start, 1)}
    start = time.time()
    results["with_frozen_vectors"] = headline(cross_validate(corpus, sentence_vectors=vectors)[0])
    results["cv_seconds"] = round(time.time() - start, 1)
    if args.without:
        results["without"] = headline(cross_validate(corpus)[0])
    else:
        shipped = json.loads((HERE.parent / "models" / "fast" / "cv_report.json").read_text(encoding="utf-8"))
        results["without"] = headline(shipped)
        results["without_source"] = "models/fast/cv_report.json"
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name in ("without", "with_frozen_vectors"):
        r = results[name]
        print(f"{name}: engagements micro-F1 {r['engagements_micro_f1']:.3f} (macro {r['engagements_macro_f1']:.3f}), "
              f"evidence overlap {r['evidence_overlap']:.3f}, polarity {r['polarity_accuracy']:.3f}, "
              f"suggestions exact {r['suggestions_exact_f1']:.3f} / overlap {r['suggestions_overlap_f1']:.3f}")


if __name__ == "__main__":
    main()
