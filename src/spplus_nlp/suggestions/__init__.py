"""Improvement suggestions: interpretable French cues and their features."""

from .cues import CUES, cue_features, cue_names, find_cues

__all__ = ["CUES", "cue_features", "cue_names", "find_cues"]
