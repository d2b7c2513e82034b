"""Which head should tie the accurate model's suggestions to an engagement: its fast part's or its encoder's?

The stacked accurate model takes its suggestion spans from its fast part. Each span names the engagement it would
improve (the per-service improvement lists rest on it); this runs the accurate model's own 5-fold cross-validation
(shipped parameters, same folds and dev splits as ``accurate.training.cross_validate``) and, on every fold's test
rows, scores the same spans tied to an engagement by the fast part's n-gram target head and by the encoder's target
head (what ``AccurateModel.predict`` uses). The full report of the model as it predicts is kept too: every other
figure must equal the shipped ``cv_report.json``'s (the change is at prediction only).

Usage: HF_HUB_OFFLINE=1 python benchmarks/suggestion_targets.py     (about an hour on 2 cores)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

MODEL = Path("models/accurate")
OUT = Path("benchmarks/results/suggestion_targets.json")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(MODEL), help="whose parameters to cross-validate")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()

    from spplus_nlp.accurate import AccurateModel
    from spplus_nlp.accurate.training import LowerCache, split
    from spplus_nlp.corpora import is_supplement, kfold, load_corpus
    from spplus_nlp.evaluation import evaluate
    from spplus_nlp.evaluation.metrics import suggestion_engagement_metrics
    from spplus_nlp.fast import FastModel

    params = json.loads((Path(args.model) / "config.json").read_text(encoding="utf-8"))["params"]
    corpus = load_corpus(include_supplement=True)
    records = corpus.to_list()
    real = [i for i, r in enumerate(records) if not is_supplement(r)]
    extra = [r for r in records if is_supplement(r)]
    cache = LowerCache()
    predicted, fast_tied = [None] * len(real), [None] * len(real)
    fast_predict = FastModel.predict
    start = time.time()
    for fold, (train_idx, test_idx) in enumerate(kfold(corpus.select(real), k=args.folds, seed=0)):
        fit_on, dev = split([records[real[i]] for i in train_idx], params["dev_fraction"], params["random_state"])
        model = AccurateModel(**params).fit(fit_on + extra, dev, cache=cache)
        captured = []

        def capture(self, *a, **kw):  # the fast part's own analyses of the test rows, before the encoder reties them
            out = fast_predict(self, *a, **kw)
            captured.extend(out)
            return out

        FastModel.predict = capture
        try:
            analyses = model.predict([records[real[i]]["text"] for i in test_idx])
        finally:
            FastModel.predict = fast_predict
        for i, a, f in zip(test_idx, analyses, captured):
            assert [(s.start, s.end) for s in a.suggestions] == [(s.start, s.end) for s in f.suggestions]
            predicted[i] = a
            fast_tied[i] = dataclasses.replace(a, suggestions=f.suggestions)
        print(f"fold {fold + 1}/{args.folds} done ({time.time() - start:.0f} s)", flush=True)
    gold = [records[i] for i in real]
    report = {
        "command": "HF_HUB_OFFLINE=1 python benchmarks/suggestion_targets.py",
        "seconds": time.time() - start,
        "suggestion_engagements": {"encoder_target_head": suggestion_engagement_metrics(gold, predicted),
                                   "fast_part_target_head": suggestion_engagement_metrics(gold, fast_tied)},
        "cv_report": evaluate(gold, predicted),
    }
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report["suggestion_engagements"]))


if __name__ == "__main__":
    main()
