"""How an experience becomes the one string every offset refers to."""

from __future__ import annotations

import hashlib
import unicodedata

TITLE_SEPARATOR = ". "


def compose_text(title: object, description: object) -> str:
    """Return ``title + ". " + description``: the text all offsets point into.

    A missing title or description is dropped together with the separator, so an
    experience with only a description is analysed as that description alone.
    """
    parts = [clean_field(title), clean_field(description)]
    return TITLE_SEPARATOR.join(p for p in parts if p)


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only spaces and invisible format characters (zero-width spaces, a byte-order
    mark, soft hyphens), which ``str.strip`` keeps. Such a text has nothing to analyse."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def stable_id(description: object) -> str:
    """A stable id for exports without one: a hash of the description (never of the title)."""
    digest = hashlib.sha1(clean_field(description).encode("utf-8")).hexdigest()
    return f"h{digest[:16]}"


def clean_field(value: object) -> str:
    """An export field as text: stripped, and "" when it shows nothing (None, NaN, spaces, zero-width characters)."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    text = str(value).strip()
    return "" if is_blank(text) else text  # a title of zero-width characters is no title


def suggestion_end(text: str, start: int, end: int) -> int:
    """Where the suggestion ``text[start:end]`` ends once its closing full stop is dropped: the corpus convention.

    The guideline asks for "the smallest clause or sentence that states the proposal"; its examples end without a
    full stop and keep a question's "?". So a span loses the full stops that close it ("." or an ASCII "...") and the
    spaces before them, and keeps "?", "!" and "…"; at least one character always stays. (The annotators had split
    85 / 126 on the closing full stop, which made an exact span a coin toss at its last character.)
    """
    while end - 1 > start and (text[end - 1] == "." or text[end - 1].isspace()):
        end -= 1
    return end
