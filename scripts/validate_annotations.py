"""Check an annotation JSON Lines file against the guideline's format and the shared texts.

Usage: python scripts/validate_annotations.py ANNOTATIONS.jsonl TEXTS.json [BATCH.txt]
TEXTS.json maps experience id -> text (written by prepare_annotation_batches.py).
With BATCH.txt, also reports the batch's experiences that have no annotation line yet.
Exit status 1 when any error is found.
"""
import json
import re
import sys

ENGAGEMENTS = {f"E{i}" for i in range(1, 9)}
POLARITIES = {"positif", "négatif", "mitigé"}


def main(path, texts_path, batch_path=None):
    texts = json.load(open(texts_path, encoding="utf-8"))
    errors, warnings, seen = [], [], set()
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: invalid JSON ({e})")
            continue
        eid = str(rec.get("id"))
        where = f"line {n} (id {eid})"
        if eid not in texts:
            errors.append(f"{where}: unknown id")
            continue
        if eid in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(eid)
        text = texts[eid]
        ids = []
        for e in rec.get("engagements", []):
            ids.append(e.get("id"))
            if e.get("id") not in ENGAGEMENTS:
                errors.append(f"{where}: bad engagement id {e.get('id')!r}")
            if e.get("polarity") not in POLARITIES:
                errors.append(f"{where}: bad polarity {e.get('polarity')!r} for {e.get('id')}")
            ev = e.get("evidence") or ""
            if not ev or ev not in text:
                errors.append(f"{where}: evidence of {e.get('id')} is not an exact substring: {ev[:60]!r}")
            elif not 3 <= len(ev.split()) <= 25:
                warnings.append(f"{where}: evidence of {e.get('id')} has {len(ev.split())} words (guideline: 3-25)")
        if len(ids) != len(set(ids)):
            errors.append(f"{where}: an engagement is listed twice")
        for s in rec.get("suggestions", []):
            st = s.get("text") or ""
            if not st or st not in text:
                errors.append(f"{where}: suggestion is not an exact substring: {st[:60]!r}")
            elif st.rstrip().endswith("."):
                warnings.append(f"{where}: suggestion ends with a full stop, which build_corpus.py drops "
                                "(corpus convention, DATASHEET)")
            if s.get("engagement") not in ENGAGEMENTS | {"autre"}:
                errors.append(f"{where}: bad suggestion engagement {s.get('engagement')!r}")
    if batch_path:
        wanted = re.findall(r"^=== ID: (\S+) \|", open(batch_path, encoding="utf-8").read(), re.M)
        missing = [w for w in wanted if w not in seen]
        extra = seen - set(wanted)
        print(f"{len(seen)} annotated, {len(wanted)} in batch, {len(missing)} missing" + (f": first {missing[:5]}" if missing else ""))
        if extra:
            errors.append(f"ids not in this batch: {sorted(extra)[:5]}")
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
