"""How an experience becomes the one string every offset refers to."""

from __future__ import annotations

import hashlib

TITLE_SEPARATOR = ". "


def compose_text(title: object, description: object) -> str:
    """Return ``title + ". " + description``: the text all offsets point into.

    A missing title or description is dropped together with the separator, so an
    experience with only a description is analysed as that description alone.
    """
    parts = [_clean(title), _clean(description)]
    return TITLE_SEPARATOR.join(p for p in parts if p)


def stable_id(description: object) -> str:
    """A stable id for exports without one: a hash of the description (never of the title)."""
    digest = hashlib.sha1(_clean(description).encode("utf-8")).hexdigest()
    return f"h{digest[:16]}"


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return str(value).strip()
