"""Write scored results: JSON Lines (nested), CSV or Parquet (nested fields as JSON strings)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FLAT_COLUMNS = ("id", "sentiment_label", "sentiment_scores", "engagements", "suggestions", "error")


class ResultWriter:
    """Append result records (dicts of the CLI's output schema) to ``path``; the format follows the extension."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.format = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(
            self.path.suffix.lower())
        if self.format is None:
            raise ValueError(f"{self.path}: unknown output format (use .jsonl, .csv or .parquet)")
        self.count = 0
        self._file = None
        self._parquet = None

    def __enter__(self) -> "ResultWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.format in ("jsonl", "csv"):
            self._file = open(self.path, "w", encoding="utf-8", newline="")
        return self

    def write(self, records: list[dict]) -> None:
        if self.format == "jsonl":
            for r in records:
                self._file.write(json.dumps(r, ensure_ascii=False) + "\n")
        else:
            frame = pd.DataFrame([_flatten(r) for r in records], columns=list(FLAT_COLUMNS))
            if self.format == "csv":
                frame.to_csv(self._file, index=False, header=self.count == 0)
            else:
                table = pa.Table.from_pandas(frame, schema=_PARQUET_SCHEMA, preserve_index=False)
                if self._parquet is None:
                    self._parquet = pq.ParquetWriter(self.path, _PARQUET_SCHEMA)
                self._parquet.write_table(table)
        self.count += len(records)

    def __exit__(self, *exc) -> None:
        if self._file:
            self._file.close()
        if self.format == "parquet":
            if self._parquet is None:  # no rows: still write a valid, empty file
                pq.write_table(_PARQUET_SCHEMA.empty_table(), self.path)
            else:
                self._parquet.close()


_PARQUET_SCHEMA = pa.schema([(c, pa.string()) for c in FLAT_COLUMNS])


def _flatten(r: dict) -> dict:
    sentiment = r.get("sentiment") or {}
    return {
        "id": None if r.get("id") is None else str(r["id"]),
        "sentiment_label": sentiment.get("label"),
        "sentiment_scores": json.dumps(sentiment.get("scores"), ensure_ascii=False) if sentiment else None,
        "engagements": json.dumps(r.get("engagements", []), ensure_ascii=False),
        "suggestions": json.dumps(r.get("suggestions", []), ensure_ascii=False),
        "error": r.get("error"),
    }
