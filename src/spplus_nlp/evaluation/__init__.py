"""Scoring predictions against gold annotations (metrics from scikit-learn)."""

from .metrics import evaluate, to_markdown

__all__ = ["evaluate", "to_markdown"]
