"""Turn annotators' guideline-format files into the repository's stand-off corpus files.

Usage: python scripts/build_corpus.py OUT_JSONL ANNOTATED_JSONL [ANNOTATED_JSONL ...] [--supplement]
Texts are read from the shared export (or corpora/supplement with --supplement); only offsets are written.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from spplus_nlp.corpora import read_experiences, shared_data_dir, to_standoff  # noqa: E402
from spplus_nlp.corpora.spplus import SHARED_FILES, SUPPLEMENT_DIR  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--supplement", action="store_true")
    args = ap.parse_args()
    if args.supplement:
        experiences = list(read_experiences(SUPPLEMENT_DIR / "experiences.csv", source="supplement"))
    else:
        experiences = [e for f in SHARED_FILES for e in read_experiences(shared_data_dir() / f)]
    by_id = {e["id"]: e for e in experiences}
    records = {}
    for path in args.inputs:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                rec = json.loads(line)
                exp = by_id[str(rec["id"])]
                records[exp["id"]] = to_standoff(rec, exp["text"], exp["source"])
    order = {e["id"]: i for i, e in enumerate(experiences)}
    with open(args.out, "w", encoding="utf-8") as f:
        for eid in sorted(records, key=order.get):
            f.write(json.dumps(records[eid], ensure_ascii=False) + "\n")
    print(f"{len(records)} experiences written to {args.out}")


if __name__ == "__main__":
    main()
