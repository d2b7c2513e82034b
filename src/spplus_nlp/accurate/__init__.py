"""The accurate model: multilingual-e5-small, top layers fine-tuned on CPU, linear heads (torch, transformers).

``AccurateModel`` is imported on first use: the encoder parts (``body``, ``heads``, ``pooling``) load without spaCy.
"""

from __future__ import annotations

__all__ = ["AccurateModel"]


def __getattr__(name: str):
    if name == "AccurateModel":
        from .model import AccurateModel

        return AccurateModel
    raise AttributeError(f"module 'spplus_nlp.accurate' has no attribute {name!r}")
