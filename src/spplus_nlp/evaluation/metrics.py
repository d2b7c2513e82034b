"""Metrics for every output of the library, computed from gold corpus records and predicted analyses.

Gold records follow :mod:`spplus_nlp.corpora` (``engagements`` / ``suggestions`` with offsets, ``sentiment``,
``tags``). Only annotated records count for engagements and suggestions; every record with a sentiment counts for
sentiment.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from ..language.words import count_words
from ..taxonomy import ENGAGEMENT_IDS, PLATFORM_TAGS, SENTIMENTS
from ..types import Analysis


def evaluate(gold: Sequence[dict], predicted: Sequence[Analysis]) -> dict:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold records but {len(predicted)} predictions")
    report = {"n": len(gold)}
    with_sentiment = [(g, p) for g, p in zip(gold, predicted) if g.get("sentiment")]
    if with_sentiment:
        report["sentiment"] = sentiment_metrics([g["sentiment"] for g, _ in with_sentiment],
                                                [p.sentiment for _, p in with_sentiment])
    annotated = [(g, p) for g, p in zip(gold, predicted) if g.get("annotated", True)]
    if annotated:
        report["engagements"] = engagement_metrics([g for g, _ in annotated], [p for _, p in annotated])
        report["suggestions"] = suggestion_metrics([g for g, _ in annotated], [p for _, p in annotated])
        report["suggestion_engagements"] = suggestion_engagement_metrics([g for g, _ in annotated],
                                                                         [p for _, p in annotated])
    tagged = [(g, p) for g, p in zip(gold, predicted) if g.get("tags")]
    if tagged:
        report["platform_tags"] = platform_tag_metrics([g for g, _ in tagged], [p for _, p in tagged])
    return report


def sentiment_metrics(gold: Sequence[str], predicted) -> dict:
    labels = list(SENTIMENTS)
    pred = [p.label for p in predicted]
    onehot = np.array([[g == lab for lab in labels] for g in gold], dtype=int)
    probs = np.array([[p.scores[lab] for lab in labels] for p in predicted])
    return {
        "n": len(gold),
        "macro_f1": float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(np.mean([g == p for g, p in zip(gold, pred)])),
        "labels": labels,
        "confusion_matrix": confusion_matrix(gold, pred, labels=labels).tolist(),  # rows: gold, columns: predicted
        "ece": expected_calibration_error(onehot.ravel(), probs.ravel()),
    }


def engagement_metrics(gold: Sequence[dict], predicted: Sequence[Analysis]) -> dict:
    Y = np.array([[any(e["id"] == lab for e in g["engagements"]) for lab in ENGAGEMENT_IDS] for g in gold], dtype=int)
    P = np.array([[any(t.id == lab for t in p.engagements) for lab in ENGAGEMENT_IDS] for p in predicted], dtype=int)
    S = np.array([[next((t.score for t in p.engagements if t.id == lab), 0.0) for lab in ENGAGEMENT_IDS]
                  for p in predicted])
    prec, rec, f1, support = precision_recall_fscore_support(Y, P, zero_division=0)
    per_label = {lab: {"precision": float(prec[j]), "recall": float(rec[j]), "f1": float(f1[j]),
                       "support": int(support[j]), "predicted": int(P[:, j].sum())}
                 for j, lab in enumerate(ENGAGEMENT_IDS)}
    # polarity and evidence, on the labels both gold and prediction carry
    pol_hits = pol_n = ev_hits = 0
    ev_f1, ev_words = [], []
    for g, p in zip(gold, predicted):
        gold_by_id = {e["id"]: e for e in g["engagements"]}
        for t in p.engagements:
            ev_words.append(count_words(t.evidence.text))
            if t.id in gold_by_id:
                pol_n += 1
                pol_hits += t.polarity == gold_by_id[t.id]["polarity"]
                ge = gold_by_id[t.id]
                ev_hits += _overlap((t.evidence.start, t.evidence.end), (ge["start"], ge["end"]))
                ev_f1.append(_char_f1((t.evidence.start, t.evidence.end), (ge["start"], ge["end"])))
    present = support > 0
    return {
        "n": len(gold),
        "micro_f1": float(f1_score(Y, P, average="micro", zero_division=0)),
        "macro_f1": float(np.mean(f1[present])) if present.any() else 0.0,
        "macro_f1_labels": [lab for j, lab in enumerate(ENGAGEMENT_IDS) if present[j]],
        "per_label": per_label,
        "polarity_accuracy": pol_hits / pol_n if pol_n else None,
        "evidence_overlap_rate": ev_hits / pol_n if pol_n else None,
        # how much of the gold evidence the predicted one covers, and how little else (character F1, mean)
        "evidence_char_f1": float(np.mean(ev_f1)) if ev_f1 else None,
        # the guideline's evidence is a clause of 3 to 25 words: the share of predicted evidence that is
        "evidence_within_3_25_words": float(np.mean([3 <= n <= 25 for n in ev_words])) if ev_words else None,
        "ece": expected_calibration_error(Y.ravel(), S.ravel()),
    }


def suggestion_metrics(gold: Sequence[dict], predicted: Sequence[Analysis]) -> dict:
    out = {}
    for name, match in (("exact", lambda a, b: a == b), ("overlap", _overlap)):
        tp_pred = tp_gold = n_pred = n_gold = 0
        for g, p in zip(gold, predicted):
            gs = [(s["start"], s["end"]) for s in g["suggestions"]]
            ps = [(s.start, s.end) for s in p.suggestions]
            n_gold += len(gs)
            n_pred += len(ps)
            tp_pred += sum(any(match(x, y) for y in gs) for x in ps)
            tp_gold += sum(any(match(y, x) for x in ps) for y in gs)
        precision = tp_pred / n_pred if n_pred else 0.0
        recall = tp_gold / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {"precision": precision, "recall": recall, "f1": f1, "gold": n_gold, "predicted": n_pred}
    return out


def suggestion_engagement_metrics(gold: Sequence[dict], predicted: Sequence[Analysis]) -> dict:
    """Is a found suggestion tied to the right engagement? Over the predicted spans that share text with a gold
    one (``n``: the true positives of the overlap precision), the share whose engagement is that gold span's (the
    one it shares most text with; any of them on a tie). What the per-service improvement lists rest on."""
    n = right = 0
    for g, p in zip(gold, predicted):
        for x in p.suggestions:
            shared = [(_shared((x.start, x.end), (y["start"], y["end"])), y["engagement"]) for y in g["suggestions"]
                      if _overlap((x.start, x.end), (y["start"], y["end"]))]
            if shared:
                most = max(length for length, _ in shared)
                n += 1
                right += x.engagement in {engagement for length, engagement in shared if length == most}
    return {"accuracy": right / n if n else None, "n": n}


def platform_tag_metrics(gold: Sequence[dict], predicted: Sequence[Analysis]) -> dict:
    """How the predicted engagements line up with the platform's own tags (see taxonomy.PLATFORM_TAGS)."""
    out = {}
    for tag in PLATFORM_TAGS:
        y = np.array([bool(g["tags"].get(tag.id)) for g in gold], dtype=int)
        hits = [[t for t in p.engagements if t.id in tag.closest_engagements] for p in predicted]
        yhat = np.array([bool(h) for h in hits], dtype=int)
        prec, rec, f1, _ = precision_recall_fscore_support(y, yhat, average="binary", zero_division=0)
        agree = [_polarity_matches(g["tags"][tag.id], h[0].polarity)
                 for g, h in zip(gold, hits) if g["tags"].get(tag.id) and h]
        out[tag.id] = {"engagements": list(tag.closest_engagements), "support": int(y.sum()),
                       "precision": float(prec), "recall": float(rec), "f1": float(f1),
                       "polarity_agreement": float(np.mean(agree)) if agree else None}
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float | None:
    """Expected calibration error of binary probabilities (uniform bins, weighted by bin size)."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    if len(y) == 0 or len(set(y.tolist())) < 2:
        return None
    frac_pos, mean_pred = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.clip(np.digitize(p, bins[1:-1]), 0, n_bins - 1), minlength=n_bins)
    weights = counts[counts > 0] / len(p)
    return float(np.sum(weights * np.abs(frac_pos - mean_pred)))


def _shared(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Characters the two spans share (negative when apart)."""
    return min(a[1], b[1]) - max(a[0], b[0])


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return _shared(a, b) > 0


def _char_f1(predicted: tuple[int, int], gold: tuple[int, int]) -> float:
    shared = _shared(predicted, gold)
    if shared <= 0:
        return 0.0
    precision, recall = shared / (predicted[1] - predicted[0]), shared / (gold[1] - gold[0])
    return 2 * precision * recall / (precision + recall)


def _polarity_matches(tag_value: str, polarity: str) -> bool:
    return {"positif": "positif", "négatif": "négatif", "neutre": "mitigé"}.get(tag_value) == polarity


def to_markdown(report: dict, title: str = "Evaluation") -> str:
    lines = [f"# {title}", "", f"Experiences: {report['n']}", ""]
    if "sentiment" in report:
        s = report["sentiment"]
        lines += ["## Sentiment", "", f"macro-F1 **{s['macro_f1']:.3f}**, accuracy {s['accuracy']:.3f}, "
                  f"ECE {_fmt(s['ece'])} (n={s['n']})", "",
                  "| gold \\ predicted | " + " | ".join(s["labels"]) + " |", "|---" * (len(s["labels"]) + 1) + "|"]
        lines += [f"| {lab} | " + " | ".join(str(v) for v in row) + " |"
                  for lab, row in zip(s["labels"], s["confusion_matrix"])]
        lines.append("")
    if "engagements" in report:
        e = report["engagements"]
        lines += ["## Engagements", "", f"micro-F1 **{e['micro_f1']:.3f}**, macro-F1 {e['macro_f1']:.3f} "
                  f"(over {', '.join(e['macro_f1_labels'])}), polarity accuracy {_fmt(e['polarity_accuracy'])}, "
                  f"evidence overlapping the gold evidence {_fmt(e['evidence_overlap_rate'])} (character F1 "
                  f"{_fmt(e.get('evidence_char_f1'))}; within 3-25 words {_fmt(e.get('evidence_within_3_25_words'))}), "
                  f"ECE {_fmt(e['ece'])} "
                  f"(n={e['n']})", "", "| label | P | R | F1 | support | predicted |", "|---|---|---|---|---|---|"]
        lines += [f"| {lab} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} | "
                  f"{m['predicted']} |" for lab, m in e["per_label"].items()]
        lines.append("")
    if "suggestions" in report:
        lines += ["## Suggestion spans", "", "| match | P | R | F1 | gold | predicted |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['gold']} | "
                  f"{m['predicted']} |" for k, m in report["suggestions"].items()]
        lines.append("")
        if "suggestion_engagements" in report:
            t = report["suggestion_engagements"]
            lines += [f"Engagement of the found suggestions (predicted spans overlapping a gold one): accuracy "
                      f"{_fmt(t['accuracy'])} (n={t['n']}).", ""]
    if "platform_tags" in report:
        lines += ["## Platform tags vs predicted engagements", "",
                  "| tag | engagements | support | P | R | F1 | polarity agreement |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {k} | {'+'.join(m['engagements'])} | {m['support']} | {m['precision']:.3f} | "
                  f"{m['recall']:.3f} | {m['f1']:.3f} | {_fmt(m['polarity_agreement'])} |"
                  for k, m in report["platform_tags"].items()]
        lines.append("")
    return "\n".join(lines)


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"
