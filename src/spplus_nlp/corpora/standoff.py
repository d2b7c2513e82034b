"""Stand-off annotations: the guideline's JSON (exact substrings) <-> offsets into the text.

The repository stores offsets only; the texts stay in the shared export and are joined at load time. A short hash of
the text guards the offsets: if the export's text changes, loading fails loudly instead of misplacing spans.
"""

from __future__ import annotations

import hashlib

from ..io.text import suggestion_end


class AnnotationError(ValueError):
    pass


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def locate(text: str, substring: str, where: str) -> tuple[int, int]:
    """Offsets of the first exact occurrence of ``substring`` (guideline: spans are exact substrings)."""
    start = text.find(substring) if substring else -1
    if start < 0:
        raise AnnotationError(f"{where}: span is not an exact substring of the text")
    return start, start + len(substring)


def to_standoff(record: dict, text: str, source: str) -> dict:
    """Turn one guideline-format record into the repository's stand-off form."""
    eid = str(record["id"])
    engagements = []
    for e in record.get("engagements", []):
        start, end = locate(text, e["evidence"], f"{eid} {e['id']} evidence")
        engagements.append({"id": e["id"], "polarity": e["polarity"], "start": start, "end": end})
    suggestions = []
    for s in record.get("suggestions", []):
        start, end = locate(text, s["text"], f"{eid} suggestion")
        end = suggestion_end(text, start, end)
        suggestions.append({"start": start, "end": end, "engagement": s["engagement"]})
    return {"id": eid, "source": source, "text_sha1": text_hash(text),
            "engagements": sorted(engagements, key=lambda e: e["id"]),
            "suggestions": sorted(suggestions, key=lambda s: s["start"])}


def check_against(record: dict, text: str) -> None:
    """Raise when the text no longer matches the one the offsets were resolved against."""
    if record.get("text_sha1") and record["text_sha1"] != text_hash(text):
        raise AnnotationError(
            f"experience {record['id']}: the export's text changed since it was annotated (hash mismatch); "
            "its offsets cannot be trusted")
    for span in record["engagements"] + record["suggestions"]:
        if not 0 <= span["start"] < span["end"] <= len(text):
            raise AnnotationError(f"experience {record['id']}: span {span['start']}-{span['end']} is outside the text")
