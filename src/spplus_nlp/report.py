"""A readable summary of a scored export (``python -m spplus_nlp.report SCORED.jsonl``; .csv and .parquet too).

Counts only: sentiment, engagements with their polarity, and the suggestions grouped by engagement. Suggestion
spans are quoted because they are the actionable output; the rest of the reviews' text is never printed.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from .io.writers import ResultsError, read_results
from .taxonomy import ENGAGEMENT_IDS, SUGGESTION_TARGETS, engagement_name


def summarise(records: list[dict], max_suggestions: int = 3) -> str:
    ok = [r for r in records if not r.get("error")]
    lines = [f"{len(records)} experiences scored, {len(records) - len(ok)} in error", ""]
    sentiments = Counter(r["sentiment"]["label"] for r in ok)
    lines.append("Sentiment: " + ", ".join(f"{k} {sentiments[k]}" for k in ("positif", "neutre", "négatif")))
    lines += ["", "Engagements (experiences concerned: négatif / mitigé / positif)"]
    polarity = defaultdict(Counter)
    for r in ok:
        for e in r["engagements"]:
            polarity[e["id"]][e["polarity"]] += 1
    for lab in ENGAGEMENT_IDS:
        c = polarity[lab]
        if c:
            lines.append(f"  {lab} {engagement_name(lab):<15} {sum(c.values()):>4}  "
                         f"({c['négatif']} / {c['mitigé']} / {c['positif']})")
    suggestions = defaultdict(list)
    for r in ok:
        for s in r["suggestions"]:
            suggestions[s["engagement"]].append(s)
    lines += ["", f"Improvement suggestions: {sum(len(v) for v in suggestions.values())}"]
    for lab in SUGGESTION_TARGETS:
        items = sorted(suggestions.get(lab, []), key=lambda s: -s["score"])
        if items:
            lines.append(f"  {lab} {engagement_name(lab)} ({len(items)})")
            lines += [f"    - {s['text'][:160]}" for s in items[:max_suggestions]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m spplus_nlp.report SCORED.jsonl", file=sys.stderr)
        return 2
    try:
        records = read_results(argv[0])
    except ResultsError as err:
        print(f"spplus_nlp.report: {err}", file=sys.stderr)
        return 2
    print(summarise(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
