"""Read SP+ exports (CSV with ``;`` or ``,``, the platform's JSON API, JSON Lines, Parquet) row by row.

Every input row yields exactly one :class:`ExportRow`, in input order. A row that cannot be analysed (no text, a
broken JSON line, a CSV line with more or fewer fields than the header) carries an ``error`` naming the row and the
problem instead of stopping the run. What makes the whole export unreadable (a missing or empty file, an unknown
format, a wrong encoding, missing columns) raises :class:`ExportError` when :func:`read_export` is called, before
any row is read, so that a caller can check its input before it opens its output.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .text import clean_field, compose_text, stable_id

ID_COLUMNS: tuple[str, ...] = ("ID expérience", "id_experience", "id")
JSON_ID_COLUMN = "id_experience"  # the platform API's, assumed in JSON when no record read ahead has an id
TEXT_COLUMNS: tuple[tuple[str, ...], ...] = (("Titre", "Description"), ("titre", "description"))
SERVICE_COLUMNS: tuple[str, ...] = ("Intitulé structure 1", "intitule_structures", "intitule_structure")
CHUNK_ROWS = 10_000
#: JSON Lines records read ahead to learn the columns (the API leaves out the keys of null fields)
PEEK_RECORDS = 1_000
_DELIMITERS = ";,\t"
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_LARGEST_FIELD = 64 * 1024 * 1024  # characters; the csv module's default (131,072) is less than some reviews


class ExportError(ValueError):
    """The export as a whole cannot be read (unknown format, wrong encoding, missing columns)."""


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
    encoding: str = "utf-8",
) -> Iterator[ExportRow]:
    """An iterator of one :class:`ExportRow` per row of the export at ``path``, in order.

    The file is opened and its columns checked here (an :class:`ExportError` says what is wrong); the rows are read
    lazily. ``encoding`` applies to CSV and JSON files (e.g. ``cp1252`` for exports saved by a French Excel)."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ExportError(f"{path}: unknown encoding {encoding!r}") from None
    columns, records = _open(path, encoding, codec)
    if columns is None:  # a JSON file without a single record: no columns to check
        records.close()
        raise ExportError(f"{path}: no experiences in the file")
    # JSON leaves out the keys of null fields: a known column may first appear after the records read ahead
    json_like = path.suffix.lower() in _JSON_SUFFIXES
    try:
        id_col, text_cols = _resolve_columns(path, columns, id_column, text_columns, json_like)
    except ExportError:
        records.close()
        raise
    service_col = _find(columns, SERVICE_COLUMNS)
    return records.map(lambda n, row: _to_row(n, row, id_col, text_cols, service_col))


class _Records:
    """``(row number, record)`` pairs from ``rows`` (or what ``map`` makes of them), read lazily from a file this
    iterator owns: closed once they end, on ``close()``, or when the iterator is dropped unread."""

    def __init__(self, rows: Iterator[tuple[int, dict | str]], file=None):
        self._rows = rows
        self._file = file

    def __iter__(self) -> "_Records":
        return self

    def __next__(self) -> tuple[int, dict | str]:
        try:
            return next(self._rows)
        except BaseException:  # the end, or a read error: the file is no longer needed
            self.close()
            raise

    def map(self, convert) -> "_Records":
        """``convert(row number, record)`` of each pair, from an iterator that takes over the file."""
        mapped = _Records((convert(n, record) for n, record in self._rows), self._file)
        self._file = None
        return mapped

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()


def _resolve_columns(path, columns, id_column, text_columns, json_like: bool = False):
    """The id column (None: ids are hashed from the text) and the text columns, as the export spells them.

    Names match whatever their case, accents' Unicode form and surrounding spaces ("ID Expérience" is "ID
    expérience"). In JSON, where the keys of null fields are left out, one key of a text pair is enough and
    the API's own id key is assumed when none was seen."""
    if id_column is not None:
        id_col = _find(columns, [id_column])
        if id_col is None:
            raise ExportError(f"{path}: id column {id_column!r} not found; columns are {_show(path, columns)}")
    else:
        id_col = _find(columns, ID_COLUMNS) or (JSON_ID_COLUMN if json_like else None)
    if text_columns:
        found = [_find(columns, [c]) for c in text_columns]
        missing = [c for c, f in zip(text_columns, found) if f is None]
        if missing:
            raise ExportError(f"{path}: text column(s) {missing} not found; columns are {_show(path, columns)}")
        return id_col, tuple(found)
    for candidate in TEXT_COLUMNS:
        found = [_find(columns, [c]) for c in candidate]
        if all(found):
            return id_col, tuple(found)
        if json_like and any(found):
            return id_col, tuple(f or c for f, c in zip(found, candidate))
    raise ExportError(
        f"{path}: no text columns found (expected one of {[list(c) for c in TEXT_COLUMNS]}; "
        f"pass text_columns / --text-columns); columns are {_show(path, columns)}"
    )


def _find(columns: Sequence[str], wanted: Sequence[str]) -> str | None:
    """The column of ``columns`` that is the first of ``wanted`` found: spelt the same, else of the same normalised
    name."""
    exact = next((w for w in wanted if w in columns), None)
    if exact is not None:
        return exact
    by_key = {}
    for c in columns:
        by_key.setdefault(_name_key(c), c)
    return next((by_key[_name_key(w)] for w in wanted if _name_key(w) in by_key), None)


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def _show(path: Path, columns: Sequence[str]) -> list[str] | str:
    """Column names for an error message. A CSV file's names are its first line, which in a file without a header
    row is a review: they are shown only when one of them is a known SP+ column (then the line is a header), since
    review text is personal data and does not go to the logs. JSON and Parquet keys are never review text."""
    known = [*ID_COLUMNS, *(c for pair in TEXT_COLUMNS for c in pair), *SERVICE_COLUMNS]
    if path.suffix.lower() not in _CSV_SUFFIXES or _find(columns, known) is not None:
        return list(columns)
    return (f"not shown: {len(columns)} fields in the first line, none of them a known SP+ column, so it may be a "
            f"row of data rather than a header row (review text is not logged); pass the names of your file's "
            f"header row")


class _ShortRow(dict):
    """A CSV row with fewer fields than the header (the missing ones empty), and the names of those it has."""

    def __init__(self, items, read: Sequence[str]):
        super().__init__(items)
        self.read = frozenset(read)


class _Unreadable(str):
    """Why a row cannot be analysed, with what could still be read of its fields (its id, for the output)."""

    def __new__(cls, reason: str, fields: dict | None = None):
        self = super().__new__(cls, reason)
        self.fields = fields or {}
        return self


def _to_row(n: int, row, id_col, text_cols, service_col) -> ExportRow:
    if not isinstance(row, dict):  # a line that failed to parse: ``row`` is the reason
        fields = getattr(row, "fields", {})
        rid = _printable(_str(fields.get(id_col))) if id_col else ""
        return ExportRow(row=n, id=rid or None, text="", error=f"row {n}: {row}")
    if isinstance(row, _ShortRow) and not all(c in row.read for c in text_cols):
        # a line break outside quotes cuts a row in two: the second part's first field is review text, not an id
        return ExportRow(row=n, id=None, text="", error=f"row {n}: {len(row.read)} field(s) where the header has "
                         f"{len(row)}, the text columns among those missing (a line break outside quotes? the row "
                         f"before may be cut short too)")
    values = [row.get(c) for c in text_cols]
    text = compose_text(*values) if len(values) == 2 else compose_text(None, ". ".join(_str(v) for v in values if _str(v)))
    rid = _printable(_str(row.get(id_col))) if id_col else ""
    if not rid and text:  # exports without ids (the JSON API's long file) get a stable hash of the description
        rid = stable_id(values[-1] if _str(values[-1]) else text)
    service = _printable(_str(row.get(service_col))) or None if service_col else None
    error = None if text else f"row {n}: empty text (no {' / '.join(text_cols)})"
    return ExportRow(row=n, id=rid or None, text=text, service=service, error=error, fields=row)


def _str(value) -> str:
    if isinstance(value, float) and value.is_integer():  # ids read as numbers by pyarrow/pandas
        return str(int(value))
    return clean_field(value)


def _printable(value: str) -> str:
    """``value`` that every output format can encode: a lone surrogate (broken JSON escapes) is written as ``\\udc00``."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _open(path: Path, encoding: str, codec: str) -> tuple[list[str] | None, _Records]:
    """(the export's columns, its records as ``(row number, dict or the reason it is not one)``); the columns are
    None for a JSON file without records. ``codec``: the encoding's canonical name."""
    suffix = path.suffix.lower()
    readers = {**{s: _csv for s in _CSV_SUFFIXES}, ".jsonl": _jsonl, ".ndjson": _jsonl, ".json": _json,
               **{s: _parquet for s in _PARQUET_SUFFIXES}}
    if suffix not in readers:
        raise ExportError(f"{path}: unknown export format {suffix!r} (expected .csv, .json, .jsonl or .parquet)")
    if path.stat().st_size == 0:
        raise ExportError(f"{path}: empty file")
    if suffix not in _PARQUET_SUFFIXES and codec not in ("utf-8", "utf-8-sig"):
        with open(path, "rb") as f:
            if f.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
                raise ExportError(f"{path}: the file starts with a UTF-8 byte-order mark, so it is UTF-8, not "
                                  f"{encoding}: leave out the encoding")
    return readers[suffix](path, encoding)


def _decoding_error(path: Path, encoding: str, err: UnicodeDecodeError, where: str) -> ExportError:
    return ExportError(f"{path}: {where} is not valid {encoding} (byte 0x{err.object[err.start]:02x}); pass the "
                       f"file's encoding (--encoding cp1252 for exports saved by a French Excel, or latin-1)")


def _codec(encoding: str) -> str:
    """Python's codec for ``encoding``: UTF-8 files may open with a byte-order mark (Excel writes one)."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _csv(path: Path, encoding: str):
    csv.field_size_limit(max(csv.field_size_limit(), _LARGEST_FIELD))
    with open(path, encoding=_codec(encoding), newline="") as f:
        try:
            first_line = f.readline()
        except UnicodeDecodeError as err:
            raise _decoding_error(path, encoding, err, "line 1 or one soon after") from None
    if not first_line.strip("\ufeff \t\r\n"):
        raise ExportError(f"{path}: empty file (no header row)")
    # the header decides: review text in the rows holds commas and semicolons of its own
    counts = {d: _count_outside_quotes(first_line, d) for d in _DELIMITERS}
    sep = max(_DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else "\x1f"  # one column: no split
    _check_csv(path, encoding, sep)
    f = open(path, encoding=_codec(encoding), newline="")
    # the csv module, not pandas: a line with more fields than the header must become that row's error, where pandas
    # stops the whole read or drops the line
    # strict: a quote never closed is an error, not a field that swallows the rows after it
    reader = csv.reader(f, delimiter=sep, strict=True)
    # names cleaned of stray byte-order marks and quotes (SP+'s structures export quotes its first name twice); the
    # header line was read once already, by _check_csv
    header = _unique([h.replace("\ufeff", "").strip().strip('"').strip() for h in next(reader)])
    return header, _Records(_csv_rows(path, reader, header), f)


def _check_csv(path: Path, encoding: str, sep: str) -> None:
    """Read the whole file once before any row is scored: a wrong encoding or a quote never closed (which swallows
    every row after it, so that no row count can be trusted) stops the run here, not hours into it."""
    with open(path, encoding=_codec(encoding), newline="") as f:
        reader = csv.reader(f, delimiter=sep, strict=True)
        try:
            header = next(reader, [])
            for _ in _data_rows(path, reader, len(header)):
                pass
        except UnicodeDecodeError as err:  # decoded in blocks: the bad byte is in this line or a few after it
            raise _decoding_error(path, encoding, err, f"line {reader.line_num + 1} or one soon after") from None
        except csv.Error as err:
            raise ExportError(f"{path}: the header line cannot be read ({err})") from None


def _data_rows(path: Path, reader, n_columns: int):
    """``(row number, fields)`` of each data row. An empty line is no row; in a file of several columns neither is
    a line of spaces, but in a one-column file a line of spaces, or ``""``, is a row with an empty text."""
    n = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ExportError(f"{path}: row {n + 1} (line {reader.line_num}) cannot be read: {err} (a quote never "
                              f"closed?); nothing was scored") from None
        if not fields or (n_columns > 1 and len(fields) == 1 and not fields[0].strip()):
            continue
        n += 1
        yield n, fields


def _csv_rows(path: Path, reader, header: list[str]):
    for n, fields in _data_rows(path, reader, len(header)):
        if len(fields) > len(header):
            yield n, _Unreadable(f"{len(fields)} fields where the header has {len(header)} (an unquoted "
                                 f"delimiter?)", dict(zip(header, fields)))
            continue
        if len(fields) < len(header):  # trailing fields left out: fine unless the text is among them (_to_row)
            yield n, _ShortRow(itertools.zip_longest(header, fields, fillvalue=""), read=header[:len(fields)])
            continue
        yield n, dict(zip(header, fields))


def _unique(names: list[str]) -> list[str]:
    """Column names with repeats renamed ``name.1``, ``name.2`` (as pandas does): the first column keeps its name."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def _count_outside_quotes(line: str, delimiter: str) -> int:
    return sum(part.count(delimiter) for part in line.split('"')[::2])


def _jsonl(path: Path, encoding: str):
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):  # lines are split as bytes
        raise ExportError(f"{path}: JSON Lines must be UTF-8 (or another ASCII-compatible encoding), not {encoding}")
    f = open(path, "rb")
    head = list(itertools.islice(_jsonl_records(f, encoding), PEEK_RECORDS))
    columns = _columns_of(rec for _, rec in head) if head else None
    if head and not columns:
        f.close()
        raise ExportError(f"{path}: none of the first {len(head)} lines is a JSON object with fields (row 1: "
                          f"{head[0][1] if isinstance(head[0][1], str) else 'an empty object'})")
    return columns, _Records(itertools.chain(head, _jsonl_records(f, encoding, start=len(head))), f)


def _jsonl_records(f, encoding: str, start: int = 0):
    n = start
    for raw in f:
        if not raw.strip():
            continue
        n += 1
        try:
            rec = json.loads(raw.decode(_codec(encoding)))
        except UnicodeDecodeError as err:
            yield n, f"not valid {encoding} (byte 0x{err.object[err.start]:02x})"
            continue
        except json.JSONDecodeError as err:
            yield n, f"invalid JSON ({err.msg.removesuffix(' at')} at column {err.colno})"
            continue
        yield n, rec if isinstance(rec, dict) else f"expected a JSON object, got {type(rec).__name__}"


def _json(path: Path, encoding: str):
    try:
        data = json.loads(path.read_bytes().decode(_codec(encoding)))
    except UnicodeDecodeError as err:
        raise _decoding_error(path, encoding, err, f"character {err.start}") from None
    except json.JSONDecodeError as err:
        raise ExportError(f"{path}: invalid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    if isinstance(data, dict):  # the platform's API wraps rows: {"results": [...]} or {"data": [...]}
        data = next((data[k] for k in ("results", "data", "records") if isinstance(data.get(k), list)), None)
    if not isinstance(data, list):
        raise ExportError(f"{path}: expected a JSON array of experiences (or an object with 'results')")
    records = [(n, rec if isinstance(rec, dict) else f"expected a JSON object, got {type(rec).__name__}")
               for n, rec in enumerate(data, 1)]
    return (_columns_of(rec for _, rec in records) if records else None), _Records(iter(records))


def _columns_of(records) -> list[str]:
    """Every key of the dict records, in order of first appearance."""
    return list(dict.fromkeys(k for rec in records if isinstance(rec, dict) for k in rec))


def _parquet(path: Path, encoding: str):
    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise ExportError(f"{path}: not a readable Parquet file ({err})") from None
    return list(file.schema_arrow.names), _Records(_parquet_records(file), file)


def _parquet_records(file: pq.ParquetFile):
    n = 0
    for batch in file.iter_batches(batch_size=CHUNK_ROWS):
        for rec in batch.to_pylist():
            n += 1
            yield n, rec
