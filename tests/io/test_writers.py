import json

import pandas as pd
import pytest

from spplus_nlp.io.writers import FLAT_COLUMNS, OutputError, ResultsError, ResultWriter, check_output, read_results

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


@pytest.mark.parametrize("ext", ["jsonl", "csv", "parquet"])
def test_results_read_back_in_the_nested_layout(tmp_path, ext):
    odd = dict(RECORDS[0], suggestions=[{"text": "un guichet\u2028le samedi\x85\u2029", "start": 0, "end": 10}])
    tagged = {**RECORDS[0], "tags": [{"id": "relation", "name": "Relation", "score": 0.9, "polarity": "négatif"}]}
    tagged["error"] = tagged.pop("error")  # last, as scoring writes it
    records = [odd, RECORDS[1], dict(RECORDS[1], id=None), tagged]
    out = tmp_path / f"o.{ext}"
    with ResultWriter(out) as w:
        w.write(records)
    assert read_results(out) == records
    if ext == "jsonl":  # characters that other readers take for line breaks are escaped: one record a line
        assert len(out.read_text(encoding="utf-8").splitlines()) == 4


def test_reading_back_a_file_that_is_not_a_scored_one_says_why(tmp_path):
    bad = tmp_path / "o.jsonl"
    bad.write_text('{"id": "1"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ResultsError, match="line 2 is not JSON"):
        read_results(bad)
    other = tmp_path / "o.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(ResultsError, match="not a scored file"):
        read_results(other)
    with pytest.raises(ResultsError, match="no such file"):
        read_results(tmp_path / "missing.parquet")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(ResultsError, match="not a readable scored file"):
        read_results(broken)


def test_a_csv_scored_before_tags_existed_still_reads(tmp_path):
    out = tmp_path / "o.csv"
    with ResultWriter(out) as w:
        w.write(RECORDS)
    pd.read_csv(out, dtype=str).drop(columns=["tags"]).to_csv(out, index=False)
    assert read_results(out) == RECORDS


def test_unknown_extension():
    with pytest.raises(ValueError, match="unknown output format"):
        ResultWriter("x.xlsx")


@pytest.mark.parametrize("ext", ["jsonl", "csv", "parquet"])
def test_a_failed_run_leaves_an_existing_output_as_it_was(tmp_path, ext):
    out = tmp_path / f"o.{ext}"
    out.write_bytes(b"previous results")
    with pytest.raises(RuntimeError):
        with ResultWriter(out) as w:
            w.write(RECORDS)
            raise RuntimeError("the model failed")
    assert out.read_bytes() == b"previous results"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_no_rows_still_give_a_readable_file_with_its_columns(tmp_path, ext):
    out = tmp_path / f"o.{ext}"
    with ResultWriter(out):
        pass
    frame = pd.read_csv(out) if ext == "csv" else pd.read_parquet(out)
    assert list(frame.columns) == list(FLAT_COLUMNS) and len(frame) == 0


def test_the_output_may_not_be_the_input(tmp_path):
    export = tmp_path / "e.jsonl"
    export.write_text("{}\n", encoding="utf-8")
    with pytest.raises(OutputError, match="overwrite the input"):
        check_output(tmp_path / "." / "e.jsonl", export)
    assert check_output(tmp_path / "o.jsonl", export) == "jsonl"
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        check_output(tmp_path / "dir.jsonl", export)
    (tmp_path / "afile").write_text("", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output(tmp_path / "afile" / "sub" / "o.jsonl", export)
    assert check_output(tmp_path / "new" / "sub" / "o.jsonl", export) == "jsonl"  # folders yet to be made are fine
