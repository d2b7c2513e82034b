"""Training targets of one corpus record, at the granularity the heads predict (document and sentence)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..corpora import is_supplement
from ..taxonomy import ENGAGEMENT_IDS, PLATFORM_TAG_IDS, POLARITIES, SENTIMENTS, SUGGESTION_TARGETS
from .heads import TAG_VALUES

IGNORE = -1  # a target that does not count (unknown, or ambiguous)


@dataclass(frozen=True)
class Targets:
    sentiment: int  # index in SENTIMENTS, or IGNORE
    annotated: bool
    engagements: np.ndarray  # (8,) 0/1
    evidence: np.ndarray  # (S, 8) 1: the sentence holds the gold evidence, 0: the label is absent, IGNORE: unknown
    polarity: list[tuple[int, int, int]]  # (engagement, polarity, evidence sentence or IGNORE)
    tags: np.ndarray  # (5,) index in TAG_VALUES, or IGNORE
    suggestion: np.ndarray  # (S,) 1/0, IGNORE when not annotated
    target: np.ndarray  # (S,) index in SUGGESTION_TARGETS for suggestion sentences, else IGNORE


def make_targets(record: dict, sentences: list[tuple[int, int]]) -> Targets:
    n_s, n_e = len(sentences), len(ENGAGEMENT_IDS)
    annotated = bool(record.get("annotated", True))
    sentiment = SENTIMENTS.index(record["sentiment"]) if record.get("sentiment") in SENTIMENTS else IGNORE
    engagements = np.zeros(n_e, dtype=np.float32)
    evidence = np.full((n_s, n_e), IGNORE if not annotated else 0, dtype=np.float32)
    polarity = []
    for e in record.get("engagements", []) if annotated else []:
        j = ENGAGEMENT_IDS.index(e["id"])
        engagements[j] = 1
        evidence[:, j] = IGNORE  # the label may show in other sentences too: only the gold one is sure
        overlaps = [_overlap((s, t), (e["start"], e["end"])) for s, t in sentences]
        for k, o in enumerate(overlaps):
            if o > 0:
                evidence[k, j] = 1
        best = int(np.argmax(overlaps)) if overlaps and max(overlaps) > 0 else IGNORE
        if e.get("polarity") in POLARITIES:
            polarity.append((j, POLARITIES.index(e["polarity"]), best))
    tags = record.get("tags") or {}
    # the supplement has no platform tags: "absent" there would be a wrong label, not a missing one
    tag_known = bool(tags) and not is_supplement(record)
    tag_y = np.array([TAG_VALUES.index(tags.get(t) or "absent") if tag_known else IGNORE for t in PLATFORM_TAG_IDS],
                     dtype=np.int64)
    suggestion = np.full(n_s, IGNORE if not annotated else 0, dtype=np.float32)
    target = np.full(n_s, IGNORE, dtype=np.int64)
    for g in record.get("suggestions", []) if annotated else []:
        for k, (s, t) in enumerate(sentences):
            if _mostly_overlaps((s, t), (g["start"], g["end"])):
                suggestion[k] = 1
                target[k] = SUGGESTION_TARGETS.index(g["engagement"])
    return Targets(sentiment, annotated, engagements, evidence, polarity, tag_y, suggestion, target)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _mostly_overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """The two spans share at least half of the shorter one (the fast model's rule for a suggestion sentence)."""
    inter = _overlap(a, b)
    return inter > 0 and inter >= 0.5 * min(a[1] - a[0], b[1] - b[0])
