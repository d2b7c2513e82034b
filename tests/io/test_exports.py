import json

import pandas as pd
import pytest

from spplus_nlp.io.exports import ExportError, read_export


def _write_csv(path, rows, sep):
    pd.DataFrame(rows).to_csv(path, sep=sep, index=False)


@pytest.mark.parametrize("sep", [";", ","])
def test_csv_delimiter_is_sniffed(tmp_path, sep):
    p = tmp_path / "e.csv"
    _write_csv(p, [{"ID expérience": "1", "Titre": "T, virgule", "Description": "D; point-virgule"}], sep)
    [row] = list(read_export(p))
    assert row.id == "1" and row.text == "T, virgule. D; point-virgule" and row.error is None


def test_api_columns_and_hash_id_for_exports_without_ids(tmp_path):
    p = tmp_path / "e.csv"
    _write_csv(p, [{"titre": "t", "description": "d"}], ";")
    [row] = list(read_export(p))
    assert row.text == "t. d" and row.id.startswith("h")


def test_empty_text_row_gets_an_error_naming_the_row(tmp_path):
    p = tmp_path / "e.csv"
    _write_csv(p, [{"ID expérience": "1", "Titre": "a", "Description": "b"},
                   {"ID expérience": "2", "Titre": "", "Description": ""}], ";")
    rows = list(read_export(p))
    assert [r.row for r in rows] == [1, 2]
    assert rows[0].error is None
    assert rows[1].error.startswith("row 2:") and "empty text" in rows[1].error


def test_jsonl_bad_line_is_a_row_error_not_a_crash(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text('{"id": "a", "titre": "t", "description": "d"}\n{broken\n[1]\n', encoding="utf-8")
    rows = list(read_export(p))
    assert len(rows) == 3
    assert rows[0].error is None and rows[0].id == "a"
    assert "row 2" in rows[1].error and "invalid JSON" in rows[1].error
    assert "row 3" in rows[2].error


def test_json_api_file_and_parquet(tmp_path):
    recs = [{"id_experience": 7, "titre": "t", "description": "d"}]
    (tmp_path / "e.json").write_text(json.dumps({"results": recs}), encoding="utf-8")
    assert [(r.id, r.text) for r in read_export(tmp_path / "e.json")] == [("7", "t. d")]
    pd.DataFrame(recs).to_parquet(tmp_path / "e.parquet")
    assert [(r.id, r.text) for r in read_export(tmp_path / "e.parquet")] == [("7", "t. d")]


def test_custom_columns_and_clear_errors(tmp_path):
    p = tmp_path / "e.csv"
    _write_csv(p, [{"key": "k", "a": "x", "b": "y", "c": "z"}], ",")
    [row] = list(read_export(p, id_column="key", text_columns=["a", "b", "c"]))
    assert row.id == "k" and row.text == "x. y. z"
    with pytest.raises(ExportError, match="no text columns"):
        list(read_export(p))
    with pytest.raises(ExportError, match="id column"):
        list(read_export(p, id_column="nope", text_columns=["a"]))
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(ExportError, match="unknown export format"):
        list(read_export(tmp_path / "x.xlsx"))
    with pytest.raises(ExportError, match="no such file"):
        list(read_export(tmp_path / "missing.csv"))
