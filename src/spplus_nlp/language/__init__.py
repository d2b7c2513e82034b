"""spaCy pipelines the models share: tokens, sentences and verb mood."""

from .pipeline import load_language, segment_sentences

__all__ = ["load_language", "segment_sentences"]
