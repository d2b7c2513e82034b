"""Batch scoring of an SP+ export: read -> analyse -> write, one output record per input row, in input order."""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing as mp
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from tqdm import tqdm

from .io.exports import ExportRow, read_export
from .io.writers import ResultWriter, check_output
from .models import ModelOptionError, check_options
from .pipeline import Analyzer, load

log = logging.getLogger(__name__)
_worker_analyzer: Analyzer | None = None
_worker_error: Exception | None = None


class ModelLoadError(RuntimeError):
    """The model could not be loaded (in a worker process, or before scoring began)."""


def result_record(row: ExportRow, analysis=None, error: str | None = None) -> dict:
    record = {"id": row.id, "sentiment": None, "engagements": [], "suggestions": [], "error": error or row.error}
    if analysis is not None:
        record.update({k: v for k, v in analysis.to_dict().items()})
        record["error"] = None
    return record


def score_rows(analyzer: Analyzer, rows: Sequence[ExportRow]) -> list[dict]:
    """Score a chunk; a row the model fails on gets its own error and never takes the chunk down."""
    ok = [r for r in rows if r.error is None]
    try:
        analyses = dict(zip((id(r) for r in ok), analyzer.model.predict([r.text for r in ok])))
    except Exception:  # isolate the failing row(s): retry one by one
        analyses = {}
        for r in ok:
            try:
                analyses[id(r)] = analyzer.model.predict([r.text])[0]
            except Exception as err:  # noqa: BLE001 - reported in the row's "error"
                log.warning("row %d: analysis failed (%s)", r.row, type(err).__name__)
                r.error = f"row {r.row}: analysis failed: {type(err).__name__}: {err}"
    return [result_record(r, analyses.get(id(r))) for r in rows]


def _init_worker(model: str | None, options: dict) -> None:
    # A pool restarts a worker whose initializer raises, forever: keep the error and report it with the first chunk.
    global _worker_analyzer, _worker_error
    try:
        _worker_analyzer = load(model, **options)
    except Exception as err:  # noqa: BLE001 - re-raised in _score_in_worker, in the parent's imap
        _worker_error = err


def _score_in_worker(rows: list[ExportRow]) -> list[dict]:
    if _worker_error is not None:
        raise ModelLoadError(f"a worker could not load the model: {type(_worker_error).__name__}: {_worker_error}")
    return score_rows(_worker_analyzer, rows)


def _chunks(rows: Iterable[ExportRow], size: int, counts: dict) -> Iterator[list[ExportRow]]:
    it = iter(rows)
    seen: set[str] = set()
    while chunk := list(itertools.islice(it, size)):
        counts["read"] += len(chunk)
        for r in chunk:
            r.fields = {}  # the raw row is not needed past reading: do not ship it to workers
            if r.id is not None:
                counts["duplicate_ids"] += r.id in seen
                seen.add(r.id)
        yield chunk


def score_export(input_path: str | Path, output_path: str | Path, model: str | None = None,
                 id_column: str | None = None, text_columns: Sequence[str] | None = None,
                 batch_size: int = 1024, workers: int = 1, progress: bool = True,
                 model_options: dict | None = None, encoding: str = "utf-8") -> dict:
    """Score ``input_path`` into ``output_path``. Returns counts: rows read, rows written (equal), rows in error,
    rows whose id an earlier row already had.

    ``model_options`` go to :func:`spplus_nlp.load` (e.g. ``{"quantize": True}`` for the accurate model). The
    output, the input and the model are checked in that order before the output is written: a failed run leaves an
    existing output as it was.
    """
    if batch_size < 1 or workers < 1:
        raise ValueError(f"batch_size and workers must be at least 1 (got {batch_size} and {workers})")
    model_options = model_options or {}
    check_output(output_path, input_path)
    _, config = check_options(model, **model_options)  # here, not in a worker that could only die
    rows = read_export(input_path, id_column=id_column, text_columns=text_columns, encoding=encoding)
    forked = workers > 1 and _forks(config)
    analyzer = _load_or_explain(model, model_options) if workers <= 1 or forked else None
    counts = {"read": 0, "rows": 0, "errors": 0, "duplicate_ids": 0}
    chunks = _chunks(rows, batch_size, counts)
    with ResultWriter(output_path) as writer:
        if workers > 1:
            with _pool(workers, model, model_options, analyzer) as pool:
                bar = tqdm(unit=" rows", disable=not progress, desc="scoring")  # after the fork: tqdm has threads
                _drain(pool.imap(_score_in_worker, chunks), writer, counts, bar)
        else:
            bar = tqdm(unit=" rows", disable=not progress, desc="scoring")
            _drain((score_rows(analyzer, c) for c in chunks), writer, counts, bar)
        if writer.count != counts["read"]:  # never lose or duplicate a row silently (the output is not kept)
            raise RuntimeError(f"wrote {writer.count} records for {counts['read']} input rows")
    bar.close()
    return counts


def _forks(config: dict) -> bool:
    """Whether workers are forked from this process, the model loaded once before, instead of spawned.

    Only the fast model: it runs no torch code, whereas torch's thread pools are not safe to fork once used. Forked
    workers skip the imports and the model load that a spawned worker repeats (seconds of a run), and share the
    model's memory pages with this process.
    """
    return config.get("type") == "fast" and "fork" in mp.get_all_start_methods()


@contextlib.contextmanager
def _pool(workers: int, model: str | None, options: dict, analyzer: Analyzer | None):
    """``workers`` processes scoring chunks: forked with ``analyzer`` ready when it is given, else spawned, each
    loading the model."""
    global _worker_analyzer, _worker_error
    if analyzer is None:
        with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(model, options)) as pool:
            yield pool
        return
    analyzer.model.predict(["Bonjour."])  # loads what the model loads lazily (spaCy) here, once for all workers
    _worker_analyzer, _worker_error = analyzer, None  # what the forked workers find
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            yield pool
    finally:
        _worker_analyzer = None


def _load_or_explain(model: str | None, options: dict) -> Analyzer:
    try:
        return load(model, **options)
    except (ModelOptionError, FileNotFoundError):
        raise  # these already say what to do
    except Exception as err:  # noqa: BLE001 - torch/transformers errors: say which model failed, keep the cause
        raise ModelLoadError(f"could not load the model {model or 'fast'!r}: {type(err).__name__}: {err}") from err


def _drain(results: Iterable[list[dict]], writer: ResultWriter, counts: dict, bar) -> None:
    for records in results:
        writer.write(records)
        counts["rows"] += len(records)
        counts["errors"] += sum(r["error"] is not None for r in records)
        bar.update(len(records))
