"""Counting words the way the guideline's lengths mean them ("a clause, 3 to 25 words"): runs of letters and
digits, with inner apostrophes and hyphens ("aujourd'hui", "rendez-vous" are one word); punctuation and emoji are not
words."""

from __future__ import annotations

import re

WORD = re.compile(r"\w[\w'’-]*")


def count_words(text: str, start: int = 0, end: int | None = None) -> int:
    """The number of words in ``text[start:end]``."""
    return len(WORD.findall(text, start, len(text) if end is None else end))
