"""Distinct review texts for the benchmarks: the real texts, cycled, with one word in twelve made up.

The shared export has 1,049 texts, so a 10,000-row benchmark repeats each about ten times, and caches (spaCy's
tokenizer and vocabulary, the fast model's words) favour repeats. Replacing one word in twelve by a made-up one
(seeded) makes every row distinct and brings about a dozen new words a row, as names, typos and file numbers do in a
real export.
"""

from __future__ import annotations

import random
from typing import Sequence

_LETTERS = "abcdefghijklmnopqrstuvwxyzéè"


def distinct_texts(texts: Sequence[str], n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = texts[i % len(texts)].split(" ")
        for j in range(0, len(words), 12):
            words[j] = "".join(rng.choice(_LETTERS) for _ in range(rng.randint(4, 10)))
        out.append(" ".join(words))
    return out
