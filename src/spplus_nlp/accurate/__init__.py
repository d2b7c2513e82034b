"""The accurate model: multilingual-e5-small, top layers fine-tuned on CPU, linear heads (torch, transformers)."""

from .model import AccurateModel

__all__ = ["AccurateModel"]
