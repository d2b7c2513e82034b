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
class TagScore:
    """One of the platform's five tags (``taxonomy.PLATFORM_TAGS``) as a model reads it on the experience."""

    id: str
    name: str  # the export's column name, e.g. "Accessibilité"
    score: float  # probability that the tag applies, whatever its polarity
    polarity: str  # positif | neutre | négatif, as on the platform


@dataclass(frozen=True)
class Analysis:
    text: str
    sentiment: Sentiment
    engagements: list[ThemeScore] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    tags: list[TagScore] | None = None  # None: the model does not read the platform's tags (the fast model)

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["text"]  # callers own the text; results stay free of personal data beyond spans
        if self.tags is None:
            del out["tags"]
        return out
