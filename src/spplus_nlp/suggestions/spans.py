"""From a sentence that holds a suggestion to the guideline's span: the smallest clause stating the proposal.

The guideline asks for the proposal "without the surrounding complaint". Within a sentence we start at the clause
holding the first cue ("…, il faudrait …") and stop before a justification ("… car …", "… parce que …"). Like the
corpus, the span leaves out a closing full stop (:func:`suggestion_end`, the convention every corpus span follows).
"""

from __future__ import annotations

import re

from ..io.text import suggestion_end
from .cues import CUES

_CLAUSE_START = re.compile(r"(?:[,;:]\s+|\s+(?:mais|et|donc|alors)\s+)")
_JUSTIFICATION = re.compile(r",?\s+(?:car|parce qu[e']|puisque)\s")
_LEADING = re.compile(r"^[\s\-–•*]*(?:\d+[\)./]\s*)?")


def narrow(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the suggestion's clause inside the sentence ``text[start:end]``."""
    sentence = text[start:end]
    lead = _LEADING.match(sentence).end()
    stripped = sentence.rstrip()
    cut_start, cut_end = lead, len(stripped)
    low = sentence.lower()
    hits = [m.start() for pattern in CUES.values() if (m := pattern.search(low))]
    if hits:
        cue = min(hits)
        boundaries = [m.end() for m in _CLAUSE_START.finditer(low, lead, cue)]
        if boundaries:
            cut_start = boundaries[-1]
        after = _JUSTIFICATION.search(low, cue)
        if after:
            cut_end = after.start()
    if cut_end - cut_start < 8:  # nothing sensible left: keep the sentence
        cut_start, cut_end = lead, len(stripped)
    return start + cut_start, suggestion_end(text, start + cut_start, start + cut_end)
