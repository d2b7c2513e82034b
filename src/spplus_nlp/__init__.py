"""spplus_nlp: what French citizens write about their public services, turned into something a service can act on.

>>> import spplus_nlp
>>> nlp = spplus_nlp.load()          # the shipped fast model
>>> a = nlp.analyze("J'attends ma carte grise depuis 4 mois, il faudrait un suivi en ligne.")

Names are imported on first use, so ``import spplus_nlp.accurate.body`` (or the CLI's ``--help``) does not load
spaCy, scikit-learn and the models' code.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Analyzer": ".pipeline", "load": ".pipeline",
    "Analysis": ".types", "Sentiment": ".types", "Span": ".types", "Suggestion": ".types", "ThemeScore": ".types",
}
__all__ = ["Analysis", "Analyzer", "Sentiment", "Span", "Suggestion", "ThemeScore", "__version__", "load"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spplus_nlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
