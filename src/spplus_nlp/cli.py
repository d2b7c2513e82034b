"""The ``spplus-nlp`` command: analyze, score, evaluate, train."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spplus-nlp", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("analyze", help="analyse one text, print JSON")
    p.add_argument("text")
    p.add_argument("--model", default=None)

    p = sub.add_parser("score", help="score an SP+ export: one output record per input row, in order")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help=".jsonl, .csv or .parquet")
    p.add_argument("--model", default=None, help="shipped model name (fast) or trained model directory")
    p.add_argument("--id-column")
    p.add_argument("--text-columns", help="comma-separated, joined with '. ' (default Titre,Description)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--workers", type=int, default=1, help="processes (each loads the model once)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("evaluate", help="score a model against gold annotations")
    p.add_argument("--model", default=None)
    p.add_argument("--data", help="directory of the real export (default ../shared/data/spplus)")
    p.add_argument("--gold", help="stand-off annotations JSONL (default corpora/spplus/annotations.jsonl)")
    p.add_argument("--out", default="evaluation", help="writes OUT.json and OUT.md")

    p = sub.add_parser("train", help="train the fast model on the corpus (with k-fold figures in its card)")
    p.add_argument("--out", default="models/fast")
    p.add_argument("--data")
    p.add_argument("--gold")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds for the card (0: none)")
    p.add_argument("--no-supplement", action="store_true")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return {"analyze": _analyze, "score": _score, "evaluate": _evaluate, "train": _train}[args.command](args)


def _analyze(args) -> int:
    from .pipeline import load

    print(json.dumps(load(args.model).analyze(args.text).to_dict(), ensure_ascii=False, indent=2))
    return 0


def _score(args) -> int:
    from .io.exports import ExportError
    from .scoring import score_export

    columns = args.text_columns.split(",") if args.text_columns else None
    try:
        counts = score_export(args.input, args.output, model=args.model, id_column=args.id_column,
                              text_columns=columns, batch_size=args.batch_size, workers=args.workers,
                              progress=not args.quiet)
    except ExportError as err:
        print(f"spplus-nlp: {err}", file=sys.stderr)
        return 2
    print(f"{counts['read']} rows scored into {args.output} ({counts['errors']} with an error)", file=sys.stderr)
    return 0


def _gold_path(arg):
    from .corpora import ANNOTATIONS

    return Path(arg) if arg else ANNOTATIONS


def _evaluate(args) -> int:
    from .corpora import load_corpus
    from .evaluation import evaluate, to_markdown
    from .pipeline import load

    corpus = load_corpus(args.data, annotations=_gold_path(args.gold))
    analyzer = load(args.model)
    gold = corpus.to_list()
    report = evaluate(gold, list(analyzer.analyze_many(corpus["text"])))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    markdown = to_markdown(report, title=f"Evaluation of {args.model or 'fast'}")
    out.with_suffix(".md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)
    return 0


def _train(args) -> int:
    from .corpora import load_corpus
    from .fast.training import train_and_save

    corpus = load_corpus(args.data, annotations=_gold_path(args.gold), include_supplement=not args.no_supplement)
    report = train_and_save(corpus, Path(args.out), cv_folds=args.folds)
    if "sentiment" in report:
        print(f"cross-validated sentiment macro-F1 {report['sentiment']['macro_f1']:.3f}, engagements micro-F1 "
              f"{report.get('engagements', {}).get('micro_f1', float('nan')):.3f}")
    print(f"model written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
