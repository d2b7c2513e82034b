import json

import pandas as pd
import pytest

from spplus_nlp.io.writers import ResultWriter

RECORDS = [
    {"id": "1", "sentiment": {"label": "positif", "scores": {"positif": 1.0}}, "engagements": [{"id": "E1"}],
     "suggestions": [], "error": None},
    {"id": "2", "sentiment": None, "engagements": [], "suggestions": [], "error": "row 2: empty text"},
]


@pytest.mark.parametrize("ext", ["jsonl", "csv", "parquet"])
def test_one_record_per_row_in_order(tmp_path, ext):
    out = tmp_path / f"o.{ext}"
    with ResultWriter(out) as w:
        w.write(RECORDS[:1])
        w.write(RECORDS[1:])
    if ext == "jsonl":
        back = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert back == RECORDS
    else:
        frame = pd.read_csv(out, dtype=str) if ext == "csv" else pd.read_parquet(out)
        assert list(frame["id"]) == ["1", "2"]
        assert json.loads(frame["engagements"][0]) == [{"id": "E1"}]
        assert frame["error"][1] == "row 2: empty text"


def test_unknown_extension():
    with pytest.raises(ValueError, match="unknown output format"):
        ResultWriter("x.xlsx")
