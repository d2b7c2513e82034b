"""Inter-annotator agreement between two stand-off annotations of the same experiences."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score

from ..taxonomy import ENGAGEMENT_IDS


def agreement(first: dict[str, dict], second: dict[str, dict]) -> dict:
    """Cohen's kappa per engagement (presence), polarity agreement on shared labels, suggestion span F1."""
    ids = sorted(set(first) & set(second))
    if not ids:
        raise ValueError("the two annotations share no experience")
    out = {"n": len(ids), "engagements": {}}
    A = np.array([[_has(first[i], lab) for lab in ENGAGEMENT_IDS] for i in ids], dtype=int)
    B = np.array([[_has(second[i], lab) for lab in ENGAGEMENT_IDS] for i in ids], dtype=int)
    for j, lab in enumerate(ENGAGEMENT_IDS):
        a, b = A[:, j], B[:, j]
        both_constant = len(set(a) | set(b)) < 2
        out["engagements"][lab] = {
            "kappa": None if both_constant else float(cohen_kappa_score(a, b)),
            "first": int(a.sum()), "second": int(b.sum()), "both": int((a & b).sum()),
        }
    tp = int((A & B).sum())
    out["engagement_f1"] = 2 * tp / (A.sum() + B.sum()) if A.sum() + B.sum() else None
    shared = [(p["polarity"], q["polarity"]) for i in ids for p in first[i]["engagements"]
              for q in second[i]["engagements"] if p["id"] == q["id"]]
    out["polarity_agreement"] = float(np.mean([p == q for p, q in shared])) if shared else None
    out["polarity_kappa"] = float(cohen_kappa_score(*zip(*shared))) if len(shared) > 1 else None
    out["evidence_overlap"] = _rate([(p, q) for i in ids for p in first[i]["engagements"]
                                     for q in second[i]["engagements"] if p["id"] == q["id"]])
    for name, same in (("exact", lambda x, y: (x["start"], x["end"]) == (y["start"], y["end"])), ("overlap", _overlap)):
        sa = [(i, s) for i in ids for s in first[i]["suggestions"]]
        sb = [(i, s) for i in ids for s in second[i]["suggestions"]]
        hit_a = sum(any(same(s, t) for t in second[i]["suggestions"]) for i, s in sa)
        hit_b = sum(any(same(t, s) for s in first[i]["suggestions"]) for i, t in sb)
        p = hit_a / len(sa) if sa else 0.0
        r = hit_b / len(sb) if sb else 0.0
        out[f"suggestion_{name}_f1"] = 2 * p * r / (p + r) if p + r else 0.0
    out["suggestions"] = {"first": sum(len(first[i]["suggestions"]) for i in ids),
                          "second": sum(len(second[i]["suggestions"]) for i in ids)}
    out["suggestion_experience_kappa"] = float(cohen_kappa_score(
        [bool(first[i]["suggestions"]) for i in ids], [bool(second[i]["suggestions"]) for i in ids]))
    return out


def _has(record: dict, label: str) -> bool:
    return any(e["id"] == label for e in record["engagements"])


def _overlap(a: dict, b: dict) -> bool:
    return min(a["end"], b["end"]) > max(a["start"], b["start"])


def _rate(pairs) -> float | None:
    return float(np.mean([_overlap(p, q) for p, q in pairs])) if pairs else None
