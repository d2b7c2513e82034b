"""What an analysis returns: plain dataclasses with a JSON-ready ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Span:
    """Character offsets into the analysed text (``title + ". " + description`` for SP+ rows)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentiment:
    label: str
    scores: dict[str, float]


@dataclass(frozen=True)
class ThemeScore:
    id: str
    name: str
    score: float  # calibrated probability that the experience talks about this engagement
    polarity: str
    evidence: Span


@dataclass(frozen=True)
class Suggestion:
    text: str
    start: int
    end: int
    engagement: str  # E1–E8 or "autre"
    score: float


@dataclass(frozen=True)
class Analysis:
    text: str
    sentiment: Sentiment
    engagements: list[ThemeScore] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["text"]  # callers own the text; results stay free of personal data beyond spans
        return out
