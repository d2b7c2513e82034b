"""spplus_nlp: what French citizens write about their public services, turned into something a service can act on.

>>> import spplus_nlp
>>> nlp = spplus_nlp.load()          # the shipped fast model
>>> a = nlp.analyze("J'attends ma carte grise depuis 4 mois, il faudrait un suivi en ligne.")
"""

__version__ = "0.1.0"

from .pipeline import Analyzer, load  # noqa: E402
from .types import Analysis, Sentiment, Span, Suggestion, ThemeScore  # noqa: E402

__all__ = ["Analysis", "Analyzer", "Sentiment", "Span", "Suggestion", "ThemeScore", "__version__", "load"]
