"""Apply the corpus's suggestion-end convention (``spplus_nlp.corpora.suggestion_end``) to stand-off files in place.

Usage: python scripts/normalize_suggestion_ends.py [FILE.jsonl ...]
Without arguments: the real corpus (`corpora/spplus/annotations.jsonl`) and the supplement's annotations. The two
files of the double annotation are left as the annotators wrote them (`corpus_stats.py` reports agreement both ways).
Prints how many spans changed; running it twice changes nothing the second time.
"""
import json
import sys
from pathlib import Path

from spplus_nlp.corpora import load_corpus, suggestion_end
from spplus_nlp.corpora.spplus import ANNOTATIONS, SUPPLEMENT_DIR


def normalize(path: Path, texts: dict[str, str]) -> int:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    changed = 0
    for rec in records:
        text = texts[rec["id"]]
        for s in rec["suggestions"]:
            end = suggestion_end(text, s["start"], s["end"])
            changed += end != s["end"]
            s["end"] = end
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return changed


def main(paths: list[str]) -> None:
    corpus = load_corpus(annotations=None, include_supplement=True)
    texts = dict(zip(corpus["id"], corpus["text"]))
    for path in paths or [ANNOTATIONS, SUPPLEMENT_DIR / "annotations.jsonl"]:
        print(f"{path}: {normalize(Path(path), texts)} suggestion ends changed")


if __name__ == "__main__":
    main(sys.argv[1:])
