"""spaCy pipelines the models share: tokens, sentences and verb mood."""

from .pipeline import (MORPHOLOGY, SENTENCES, SPACY_LOCK, load_language, segment_sentences,
                       transient_vocabulary)

__all__ = ["MORPHOLOGY", "SENTENCES", "SPACY_LOCK", "load_language", "segment_sentences", "transient_vocabulary"]
