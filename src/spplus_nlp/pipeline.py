"""The user-facing analyzer: one model behind ``analyze`` and a lazy, order-preserving ``analyze_many``."""

from __future__ import annotations

import itertools
from typing import Iterable, Iterator, Mapping

from .io.text import compose_text, is_blank
from .models import load_model
from .types import Analysis


class Analyzer:
    def __init__(self, model, config: dict | None = None):
        self.model = model
        self.config = config or {}

    def analyze(self, text: str) -> Analysis:
        return self.model.predict([_as_text(text, 0)])[0]

    def analyze_many(self, items: Iterable[str | Mapping], batch_size: int = 256) -> Iterator[Analysis]:
        """Analyse strings or SP+ records (``titre``/``description`` or ``Titre``/``Description``, or ``text``).

        Lazy: consumes ``items`` ``batch_size`` at a time and yields results in input order. An item that is not a
        text, or an empty one, raises an error naming its index once every item before it has been yielded.
        """
        if batch_size < 1:  # here, not at the first ``next()``
            raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
        return self._analyze_batches(enumerate(items), batch_size)

    def _analyze_batches(self, numbered: Iterator[tuple[int, object]], batch_size: int) -> Iterator[Analysis]:
        while batch := list(itertools.islice(numbered, batch_size)):
            texts = []
            for i, item in batch:
                try:
                    texts.append(_as_text(item, i))
                except (TypeError, ValueError):
                    if texts:  # the items before the bad one are still analysed, in order
                        yield from self.model.predict(texts)
                    raise
            yield from self.model.predict(texts)


def _as_text(item, index: int) -> str:
    if isinstance(item, str):
        text = item
    elif isinstance(item, Mapping):
        if "text" in item:
            text = item["text"]
        else:
            title = item.get("Titre", item.get("titre"))
            description = item.get("Description", item.get("description"))
            text = compose_text(title, description)
    else:
        raise TypeError(f"item {index}: expected a string or a record, got {type(item).__name__}")
    if not isinstance(text, str):
        raise TypeError(f"item {index}: expected text, got {type(text).__name__}")
    if is_blank(text):
        raise ValueError(f"item {index}: empty text")
    return text


def load(name_or_path: str | None = None, **options) -> Analyzer:
    """Load a shipped model by name ("fast", the default) or a trained model from its directory.

    ``options`` go to the model's loader (``spplus_nlp.models.LOAD_OPTIONS`` lists them): the accurate model takes
    ``quantize``, ``dtype``, ``device``, ``batch_tokens`` and ``base_model``; the fast model takes none.
    """
    model, config = load_model(name_or_path, **options)
    return Analyzer(model, config)
