"""Memory over a long run of distinct reviews: the fast model in one process, with and without spaCy memory zones.

Usage: python benchmarks/memory.py [--rows 30720] [--out benchmarks/results/memory.json]

Every new word of a review (a name, a typo, a file number) used to stay in spaCy's vocabulary for good, so a process
grew without end on a large export. The models now analyse each call inside ``nlp.memory_zone()`` once the process
is warm (``spplus_nlp.language.transient_vocabulary``). The rows are distinct (``distinct.py``: the real texts with
one word in twelve made up). Each setting runs in a fresh process; resident memory is read after the first call
(part of the warm-up) and after the last.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_RUN = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
import spplus_nlp
import spplus_nlp.language.pipeline as pipeline
from distinct import distinct_texts
from spplus_nlp.corpora import load_corpus
from spplus_nlp.language import load_language

rows, zones = int(sys.argv[1]), sys.argv[2] == "on"
if not zones:
    pipeline.WARM_UP_TEXTS = float("inf")  # never enter a zone: the behaviour before zones
texts = distinct_texts(list(load_corpus(annotations=None)["text"]), rows)
model = spplus_nlp.load("fast").model
vocab = load_language().vocab

def resident_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20

seconds, first = 0.0, None
for start in range(0, rows, 1024):
    batch = texts[start:start + 1024]
    t = time.process_time()
    model.predict(batch)
    seconds += time.process_time() - t
    if first is None:
        first = {"resident_mib": resident_mib(), "strings": len(vocab.strings)}
print(json.dumps({"rows": rows, "zones": zones, "after_first_call": first,
                  "at_end": {"resident_mib": resident_mib(), "strings": len(vocab.strings)},
                  "cpu_ms_per_row": 1000 * seconds / rows}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=30_720)
    ap.add_argument("--out", default="benchmarks/results/memory.json")
    args = ap.parse_args()
    results = {}
    for zones in ("on", "off"):
        out = subprocess.run([sys.executable, "-c", _RUN, str(args.rows), zones, str(HERE)], check=True,
                             capture_output=True, text=True)
        r = results[f"zones_{zones}"] = json.loads(out.stdout.strip().splitlines()[-1])
        growth = r["at_end"]["resident_mib"] - r["after_first_call"]["resident_mib"]
        print(f"memory zones {zones}: {r['rows']} distinct rows, resident memory "
              f"{r['after_first_call']['resident_mib']:.0f} -> {r['at_end']['resident_mib']:.0f} MiB "
              f"({growth:+.0f}), spaCy strings {r['after_first_call']['strings']} -> {r['at_end']['strings']}, "
              f"{r['cpu_ms_per_row']:.2f} ms CPU per row", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
