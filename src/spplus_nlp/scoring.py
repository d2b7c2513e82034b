"""Batch scoring of an SP+ export: read -> analyse -> write, one output record per input row, in input order."""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import multiprocessing as mp
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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


class WorkerError(RuntimeError):
    """A worker process stopped abruptly (killed, out of memory): the run stops, its output is not kept."""


def result_record(row: ExportRow, analysis=None, error: str | None = None) -> dict:
    record = {"id": row.id, "sentiment": None, "engagements": [], "suggestions": []}
    if analysis is not None:
        record.update(analysis.to_dict())  # and "tags", from a model that reads them
    record["error"] = None if analysis is not None else error or row.error  # last, whatever the model gives
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
    # An initializer that raises breaks the pool with a generic error: keep ours, report it with the first chunk.
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
    analyzer = load_or_explain(model, model_options) if workers <= 1 or forked else None
    counts = {"read": 0, "rows": 0, "errors": 0, "duplicate_ids": 0}
    chunks = _chunks(rows, batch_size, counts)
    workers_pool = _pool(workers, model, model_options, analyzer) if workers > 1 else contextlib.nullcontext()
    with ResultWriter(output_path) as writer, workers_pool as pool:
        bar = tqdm(unit=" rows", disable=not progress, desc="scoring")  # after any fork: tqdm starts a thread
        results = (_in_order(pool, chunks, ahead=2 * workers) if pool is not None
                   else (score_rows(analyzer, c) for c in chunks))
        _drain(results, writer, counts, bar)
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
    # not on macOS, where forking a process that loaded system frameworks can crash (Python spawns there by default)
    return config.get("type") == "fast" and sys.platform.startswith("linux")


@contextlib.contextmanager
def _pool(workers: int, model: str | None, options: dict, analyzer: Analyzer | None):
    """``workers`` processes scoring chunks: forked with ``analyzer`` ready when it is given, else spawned, each
    loading the model. A worker that dies makes the pool fail (``BrokenProcessPool``) instead of losing its chunk;
    an error here (Ctrl-C, a failed write) stops the workers at once instead of letting them finish their chunks."""
    global _worker_analyzer, _worker_error
    pool = None
    try:
        if analyzer is None:
            pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                       initargs=(model, options))
        else:
            try:  # loads what the model loads lazily (spaCy) here, once for all workers
                analyzer.model.predict(["Bonjour."])
            except Exception as err:  # noqa: BLE001 - each row will report the failure in its own "error"
                log.warning("the model failed on a warm-up text (%s): rows will say why", type(err).__name__)
            _worker_analyzer, _worker_error = analyzer, None  # what the forked workers find
            pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"))
            pool.submit(int).result()  # forks every worker now, before this run starts its own threads
        yield pool
    except BaseException:
        if pool is not None:
            _stop(pool)
        raise
    else:
        pool.shutdown()
    finally:
        _worker_analyzer = None


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: ``shutdown(cancel_futures=True)`` alone lets them finish the chunks they hold."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _in_order(pool: ProcessPoolExecutor, chunks: Iterable[list[ExportRow]], ahead: int) -> Iterator[list[dict]]:
    """Each chunk's records, in input order, with at most ``ahead`` chunks in flight (bounded memory)."""
    pending: collections.deque = collections.deque()
    try:
        for chunk in chunks:
            pending.append((chunk, pool.submit(_score_in_worker, chunk)))
            if len(pending) >= ahead:
                yield _oldest(pending)
        while pending:
            yield _oldest(pending)
    except BrokenProcessPool as err:  # raised by result(), or by submit() once the pool is broken
        rows = [r.row for chunk, _ in pending for r in chunk] or [0]
        raise WorkerError(f"a worker process stopped abruptly (killed, or out of memory?) while rows "
                          f"{min(rows)}-{max(rows)} were being scored: nothing was written") from err


def _oldest(pending: collections.deque) -> list[dict]:
    records = pending[0][1].result()
    pending.popleft()  # only once done: a broken pool's error names the rows still in flight, this chunk's too
    return records


def load_or_explain(model: str | None, options: dict) -> Analyzer:
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
