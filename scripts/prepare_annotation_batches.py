"""Write the shared SP+ experiences into plain-text batches for annotators (outside the repo).

Usage: python scripts/prepare_annotation_batches.py OUTDIR
The batches hold raw review text: never write them inside the repository.
"""
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from spplus_nlp.io.text import compose_text, stable_id  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "spplus"


def rows():
    with open(SHARED / "experiences_balanced.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f, delimiter=";"):
            yield "balanced", r["ID expérience"], compose_text(r["Titre"], r["Description"]), r["Ressenti usager"]
    with open(SHARED / "experiences_long_with_replies.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f, delimiter=";"):
            yield "long", stable_id(r["description"]), compose_text(r["titre"], r["description"]), r["ressenti_usager"]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    allrows = list(rows())
    bal = [r for r in allrows if r[0] == "balanced"]
    lng = [r for r in allrows if r[0] == "long"]
    batches = [bal[i::4] for i in range(4)] + [lng[i::3] for i in range(3)]
    index = {}
    for b, items in enumerate(batches, 1):
        with open(out / f"batch_{b:02d}.txt", "w", encoding="utf-8") as f:
            for source, eid, text, ressenti in items:
                f.write(f"=== ID: {eid} | ressenti: {ressenti}\n{text}\n\n")
                index[eid] = b
        print(f"batch_{b:02d}: {len(items)} experiences, {sum(len(t) for _, _, t, _ in items)} chars")
    (out / "texts.json").write_text(json.dumps({eid: text for _, eid, text, _ in allrows}, ensure_ascii=False))
    (out / "batch_index.json").write_text(json.dumps(index))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
