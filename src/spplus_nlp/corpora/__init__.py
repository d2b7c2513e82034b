"""Corpora: the shared real SP+ export joined with the project's annotations, as ``datasets.Dataset``."""

from .spplus import (ANNOTATIONS, SUPPLEMENT_SOURCE, CorpusError, is_supplement, kfold, load_corpus,
                     read_annotations, read_experiences, shared_data_dir, train_dev_split)
from .standoff import AnnotationError, suggestion_end, text_hash, to_standoff

__all__ = ["ANNOTATIONS", "SUPPLEMENT_SOURCE", "AnnotationError", "CorpusError", "is_supplement", "kfold",
           "load_corpus", "read_annotations", "read_experiences", "shared_data_dir", "suggestion_end", "text_hash",
           "to_standoff", "train_dev_split"]
