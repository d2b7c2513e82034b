"""Write scored results: JSON Lines (nested), CSV or Parquet (nested fields as JSON strings); read them back.

Results go to a temporary file beside the output, renamed over it once every record is written: a run that fails
leaves an existing output as it was, and never leaves a half-written one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FLAT_COLUMNS = ("id", "sentiment_label", "sentiment_scores", "engagements", "suggestions", "tags", "error")
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


class OutputError(ValueError):
    """The output cannot be written where asked (unknown format, the input file itself)."""


def check_output(path: str | Path, input_path: str | Path | None = None) -> str:
    """The output format of ``path``; an :class:`OutputError` when it has none or would overwrite ``input_path``."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"{path}: unknown output format (use .jsonl, .csv or .parquet)")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give the output file's name")
    # the output's folder, or the nearest of its parents that exists (the rest is created)
    folder = next((a for a in path.absolute().parents if a.exists()), None)
    if folder is not None and not folder.is_dir():
        raise OutputError(f"{path}: {folder} is a file, not a folder; choose another output path")
    if input_path is not None and path.resolve() == Path(input_path).resolve():
        raise OutputError(f"{path}: the output would overwrite the input; choose another output file")
    return fmt


class ResultWriter:
    """Append result records (dicts of the CLI's output schema) to ``path``; the format follows the extension."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.format = check_output(self.path)
        self.count = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        self._file = None
        self._parquet = None

    def __enter__(self) -> "ResultWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.format in ("jsonl", "csv"):
            self._file = open(self._tmp, "w", encoding="utf-8", newline="")
        return self

    def write(self, records: list[dict]) -> None:
        if self.format == "jsonl":
            for r in records:
                self._file.write(_json_line(r))
        else:
            frame = self._frame(records)
            if self.format == "csv":
                frame.to_csv(self._file, index=False, header=self.count == 0)
            else:
                table = pa.Table.from_pandas(frame, schema=_PARQUET_SCHEMA, preserve_index=False)
                if self._parquet is None:
                    self._parquet = pq.ParquetWriter(self._tmp, _PARQUET_SCHEMA)
                self._parquet.write_table(table)
        self.count += len(records)

    @staticmethod
    def _frame(records: list[dict]) -> pd.DataFrame:
        return pd.DataFrame([_flatten(r) for r in records], columns=list(FLAT_COLUMNS))

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None and self.count == 0:  # no rows: still a valid file, with its columns
                if self.format == "csv":
                    self._frame([]).to_csv(self._file, index=False)
                elif self.format == "parquet":
                    pq.write_table(_PARQUET_SCHEMA.empty_table(), self._tmp)
        finally:
            if self._file:
                self._file.close()
            if self._parquet is not None:
                self._parquet.close()
        try:
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)  # after a failed run or rename; gone after a good one


# Valid in JSON, but line breaks to many readers (Python's ``str.splitlines``, JavaScript): escaped, so that each
# record stays on one line whatever reads it
_LINE_BREAKING = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"})


def _json_line(record: dict) -> str:
    line = json.dumps(record, ensure_ascii=False)
    if "\u2028" in line or "\u2029" in line or "\x85" in line:  # rare; translating every line cost 50 µs a record
        line = line.translate(_LINE_BREAKING)
    return line + "\n"


class ResultsError(ValueError):
    """A scored file cannot be read back (not one written by ``spplus-nlp score``)."""


def read_results(path: str | Path) -> list[dict]:
    """The records of a file written by :class:`ResultWriter` (``.jsonl``, ``.csv`` or ``.parquet``), in order, in
    the nested layout of the JSON Lines output."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ResultsError(f"{path}: unknown scored-file format (expected .jsonl, .csv or .parquet)")
    if not path.is_file():
        raise ResultsError(f"{path}: no such file")
    try:
        return _read_results(path, fmt)
    except ResultsError:
        raise
    except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as err:  # JSON, CSV, Parquet, decoding
        raise ResultsError(f"{path}: not a readable scored file ({type(err).__name__}: {err})") from None


def _read_results(path: Path, fmt: str) -> list[dict]:
    if fmt == "jsonl":
        records = []
        with open(path, encoding="utf-8", newline="") as f:
            for number, line in enumerate(f, 1):  # split at "\n" only, as written
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as err:
                        raise ResultsError(f"{path}: line {number} is not JSON ({err.msg})") from None
        return records
    frame = (pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]) if fmt == "csv"
             else pq.read_table(path).to_pandas())
    missing = [c for c in FLAT_COLUMNS if c not in frame.columns and c != "tags"]  # no tags before session 11
    if missing:
        raise ResultsError(f"{path}: not a scored file (no column {missing[0]!r})")
    return [_unflatten(r) for r in frame.to_dict("records")]


def _unflatten(row: dict) -> dict:
    def value(name):
        v = row.get(name)
        return None if v is None or (isinstance(v, float) and v != v) else v

    label = value("sentiment_label")
    record = {
        "id": value("id"),
        "sentiment": None if label is None else {"label": label, "scores": json.loads(value("sentiment_scores"))},
        "engagements": json.loads(value("engagements") or "[]"),
        "suggestions": json.loads(value("suggestions") or "[]"),
    }
    if value("tags") is not None:  # only a model that reads the platform's tags gives them
        record["tags"] = json.loads(value("tags"))
    record["error"] = value("error")
    return record


_PARQUET_SCHEMA = pa.schema([(c, pa.string()) for c in FLAT_COLUMNS])


def _flatten(r: dict) -> dict:
    sentiment = r.get("sentiment") or {}
    return {
        "id": None if r.get("id") is None else str(r["id"]),
        "sentiment_label": sentiment.get("label"),
        "sentiment_scores": json.dumps(sentiment.get("scores"), ensure_ascii=False) if sentiment else None,
        "engagements": json.dumps(r.get("engagements", []), ensure_ascii=False),
        "suggestions": json.dumps(r.get("suggestions", []), ensure_ascii=False),
        "tags": json.dumps(r["tags"], ensure_ascii=False) if "tags" in r else None,  # the accurate model's
        "error": r.get("error"),
    }
