"""Read SP+ exports (CSV with ``;`` or ``,``, the platform's JSON API, JSON Lines, Parquet) row by row.

Every input row yields exactly one :class:`ExportRow`, in input order. A row that cannot be analysed (no text, a
broken JSON line) carries an ``error`` naming the row and the problem instead of stopping the run.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd
import pyarrow.parquet as pq

from .text import compose_text, stable_id

ID_COLUMNS: tuple[str, ...] = ("ID expérience", "id_experience", "id")
TEXT_COLUMNS: tuple[tuple[str, ...], ...] = (("Titre", "Description"), ("titre", "description"))
SERVICE_COLUMNS: tuple[str, ...] = ("Intitulé structure 1", "intitule_structures", "intitule_structure")
CHUNK_ROWS = 10_000


class ExportError(ValueError):
    """The export as a whole cannot be read (unknown format, missing columns)."""


@dataclass
class ExportRow:
    row: int  # 1-based position of the row among the data rows of the export
    id: str | None
    text: str
    service: str | None = None
    error: str | None = None
    fields: dict = field(default_factory=dict, repr=False)  # the raw row, for readers that need more columns


def read_export(
    path: str | Path,
    id_column: str | None = None,
    text_columns: Sequence[str] | None = None,
) -> Iterator[ExportRow]:
    """Yield one :class:`ExportRow` per row of the export at ``path``, in order."""
    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path}: no such file")
    records = _records(path)
    first = next(records, None)
    if first is None:
        return
    n, row = first
    columns = list(row) if isinstance(row, dict) else []
    id_col, text_cols = _resolve_columns(path, columns, id_column, text_columns)
    service_col = next((c for c in SERVICE_COLUMNS if c in columns), None)
    yield _to_row(n, row, id_col, text_cols, service_col)
    for n, row in records:
        yield _to_row(n, row, id_col, text_cols, service_col)


def _resolve_columns(path, columns, id_column, text_columns):
    if id_column is not None and id_column not in columns:
        raise ExportError(f"{path}: id column {id_column!r} not found; columns are {columns}")
    id_col = id_column or next((c for c in ID_COLUMNS if c in columns), None)
    if text_columns:
        missing = [c for c in text_columns if c not in columns]
        if missing:
            raise ExportError(f"{path}: text column(s) {missing} not found; columns are {columns}")
        return id_col, tuple(text_columns)
    for candidate in TEXT_COLUMNS:
        if all(c in columns for c in candidate):
            return id_col, candidate
    raise ExportError(
        f"{path}: no text columns found (expected one of {[list(c) for c in TEXT_COLUMNS]}; "
        f"pass text_columns / --text-columns); columns are {columns}"
    )


def _to_row(n: int, row, id_col, text_cols, service_col) -> ExportRow:
    if not isinstance(row, dict):  # a line that failed to parse: ``row`` is the reason
        return ExportRow(row=n, id=None, text="", error=f"row {n}: {row}")
    values = [row.get(c) for c in text_cols]
    text = compose_text(*values) if len(values) == 2 else compose_text(None, ". ".join(_str(v) for v in values if _str(v)))
    rid = _str(row.get(id_col)) if id_col else ""
    if not rid:  # exports without ids (the JSON API's long file) get a stable hash of the description
        rid = stable_id(values[-1]) if _str(values[-1]) else None
    service = _str(row.get(service_col)) or None if service_col else None
    error = None if text else f"row {n}: empty text (no {' / '.join(text_cols)})"
    return ExportRow(row=n, id=rid, text=text, service=service, error=error, fields=row)


def _str(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():  # ids read as numbers by pyarrow/pandas
        return str(int(value))
    return str(value).strip()


def _records(path: Path) -> Iterator[tuple[int, dict | str]]:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        return _csv_records(path)
    if suffix in {".jsonl", ".ndjson"}:
        return _jsonl_records(path)
    if suffix == ".json":
        return _json_records(path)
    if suffix in {".parquet", ".pq"}:
        return _parquet_records(path)
    raise ExportError(f"{path}: unknown export format {suffix!r} (expected .csv, .json, .jsonl or .parquet)")


def _csv_records(path: Path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        sample = f.read(65536)
    try:
        sep = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=";,\t").delimiter
    except csv.Error:
        sep = ";" if sample.count(";") >= sample.count(",") else ","
    n = 0
    reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=CHUNK_ROWS)
    for chunk in reader:
        for rec in chunk.to_dict("records"):
            n += 1
            yield n, rec


def _jsonl_records(path: Path):
    n = 0
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            if not line.strip():
                continue
            n += 1
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                yield n, f"invalid JSON ({err.msg} at column {err.colno})"
                continue
            yield n, rec if isinstance(rec, dict) else f"expected a JSON object, got {type(rec).__name__}"


def _json_records(path: Path):
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict):  # the platform's API wraps rows: {"results": [...]} or {"data": [...]}
        data = next((data[k] for k in ("results", "data", "records") if isinstance(data.get(k), list)), None)
    if not isinstance(data, list):
        raise ExportError(f"{path}: expected a JSON array of experiences (or an object with 'results')")
    for n, rec in enumerate(data, 1):
        yield n, rec if isinstance(rec, dict) else f"expected a JSON object, got {type(rec).__name__}"


def _parquet_records(path: Path):
    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
        for rec in batch.to_pylist():
            n += 1
            yield n, rec
