"""Aggregate a scored export per service: which engagements are criticised, and what citizens suggest.

Input: the records ``spplus-nlp score`` wrote (one per row, with ``id``) and the export they came from (for the
service of each row). Output per service: experiences scored, engagements ranked by negative mentions, and the
suggestions grouped by engagement, the most confident first. Only suggestion spans are quoted, never whole reviews.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import zip_longest
from typing import Iterable

from ..io.exports import ExportRow
from ..taxonomy import ENGAGEMENT_IDS, SUGGESTION_TARGETS, engagement_name

UNKNOWN_SERVICE = "(service inconnu)"


def aggregate(records: Iterable[dict], rows: Iterable[ExportRow], max_suggestions: int = 5,
              min_experiences: int = 1) -> list[dict]:
    """One entry per service, services with the most criticised engagements first.

    ``records`` and ``rows`` are matched by position (``score`` writes one record per row, in order), so rows that
    share an id keep their own service; a ``ValueError`` names the first row where the two disagree."""
    by_service: dict[str, dict] = defaultdict(lambda: {"experiences": 0, "negative": Counter(), "mentions": Counter(),
                                                       "suggestions": defaultdict(list)})
    for n, (rec, row) in enumerate(zip_longest(records, rows), 1):
        if rec is None or row is None:
            raise ValueError(f"the scored file and the export differ in length (from row {n}): was the scored file "
                             f"written from this export?")
        if rec.get("id") != row.id:
            raise ValueError(f"row {n}: id {rec.get('id')!r} in the scored file but {row.id!r} in the export: was "
                             f"the scored file written from this export?")
        if rec.get("error"):
            continue
        entry = by_service[row.service or UNKNOWN_SERVICE]
        entry["experiences"] += 1
        for e in rec["engagements"]:
            entry["mentions"][e["id"]] += 1
            entry["negative"][e["id"]] += e["polarity"] == "négatif"
        for s in rec["suggestions"]:
            entry["suggestions"][s["engagement"]].append({"text": s["text"], "score": s["score"], "id": rec["id"]})
    out = []
    for service, entry in by_service.items():
        if entry["experiences"] < min_experiences:
            continue
        engagements = [{"id": lab, "name": engagement_name(lab), "mentions": entry["mentions"][lab],
                        "negative": entry["negative"][lab]}
                       for lab in ENGAGEMENT_IDS if entry["mentions"][lab]]
        engagements.sort(key=lambda e: (-e["negative"], -e["mentions"]))
        suggestions = {lab: _distinct(sorted(entry["suggestions"][lab], key=lambda s: -s["score"]))[:max_suggestions]
                       for lab in SUGGESTION_TARGETS if entry["suggestions"][lab]}
        out.append({"service": service, "experiences": entry["experiences"], "engagements": engagements,
                    "suggestions": suggestions,
                    "n_suggestions": sum(len(v) for v in entry["suggestions"].values())})
    out.sort(key=lambda s: (-sum(e["negative"] for e in s["engagements"]), -s["experiences"], s["service"]))
    return out


def _distinct(items: list[dict]) -> list[dict]:
    """Drop suggestions whose lower-cased text repeats one already kept (copy-pasted reviews)."""
    seen, out = set(), []
    for item in items:
        key = " ".join(item["text"].lower().split())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def to_markdown(services: list[dict], max_services: int = 20) -> str:
    lines = ["# Améliorations à considérer, par service", ""]
    for s in services[:max_services]:
        lines += [f"## {s['service']}", "", f"{s['experiences']} expériences analysées, "
                  f"{s['n_suggestions']} suggestions.", ""]
        if s["engagements"]:
            lines.append("Engagements en cause (mentions négatives / mentions): " + ", ".join(
                f"{e['id']} {e['name']} {e['negative']}/{e['mentions']}" for e in s["engagements"]))
            lines.append("")
        for lab, items in s["suggestions"].items():
            lines.append(f"- **{lab} {engagement_name(lab)}**")
            lines += [f"  - « {i['text']} » (expérience {i['id']})" for i in items]
        lines.append("")
    return "\n".join(lines)
