"""spaCy pipelines the models share: tokens, sentences and verb mood."""

from .pipeline import MORPHOLOGY, SENTENCES, load_language, segment_sentences, transient_vocabulary

__all__ = ["MORPHOLOGY", "SENTENCES", "load_language", "segment_sentences", "transient_vocabulary"]
