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


def test_problems_with_the_whole_file_are_raised_when_read_export_is_called(tmp_path):
    (tmp_path / "header.csv").write_text("ID expérience;Titre;Description\n", encoding="utf-8")
    assert list(read_export(tmp_path / "header.csv")) == []  # no rows, but the columns were checked:
    with pytest.raises(ExportError, match="text column"):
        read_export(tmp_path / "header.csv", text_columns=["Nope"])  # no iteration needed
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ExportError, match="empty file"):
        read_export(tmp_path / "empty.csv")
    (tmp_path / "broken.json").write_text('[{"titre": "a",', encoding="utf-8")
    with pytest.raises(ExportError, match="invalid JSON"):
        read_export(tmp_path / "broken.json")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(ExportError, match="Parquet"):
        read_export(tmp_path / "broken.parquet")
    for name in ("zero.parquet", "empty.jsonl", "empty.json"):  # an empty file of any format, before any row
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(ExportError, match="empty file"):
            read_export(tmp_path / name)
    (tmp_path / "none.json").write_text("[]", encoding="utf-8")  # no record: no columns to check either
    with pytest.raises(ExportError, match="no experiences"):
        read_export(tmp_path / "none.json")


def test_a_file_not_in_the_encoding_says_which_line_and_what_to_pass(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_bytes("ID expérience;Titre;Description\n1;Accueil;Très bon accueil\n".encode("cp1252"))
    with pytest.raises(ExportError, match=r"line 1 or one soon after is not valid utf-8 .*--encoding cp1252"):
        read_export(p)
    [row] = read_export(p, encoding="cp1252")
    assert row.text == "Accueil. Très bon accueil"
    jl = tmp_path / "e.jsonl"
    jl.write_bytes('{"id": "1", "titre": "a", "description": "b"}\n'.encode()
                   + '{"id": "2", "titre": "é", "description": "b"}\n'.encode("latin-1"))
    ok, bad = read_export(jl)
    assert ok.error is None and bad.error.startswith("row 2: not valid utf-8")


def test_csv_rows_with_too_many_fields_are_row_errors_and_the_header_picks_the_delimiter(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("ID expérience;Titre;Description;Note (1, 5)\n1;A;bon, vraiment;5\n2;B;x;y;z;w\n3;C;super\n",
                 encoding="utf-8")
    rows = list(read_export(p))
    assert [r.row for r in rows] == [1, 2, 3]
    assert rows[0].text == "A. bon, vraiment" and rows[2].text == "C. super" and rows[2].error is None
    assert rows[1].error.startswith("row 2: 6 fields where the header has 4")
    assert rows[1].id == "2" and rows[1].text == ""  # the id is still read, for the output record
    single = tmp_path / "single.csv"
    single.write_text("Description\nBon accueil, merci, vraiment\nTrès bien; rapide\n", encoding="utf-8")
    assert [r.text for r in read_export(single, text_columns=["Description"])] == [
        "Bon accueil, merci, vraiment", "Très bien; rapide"]


def test_columns_come_from_every_json_record_and_odd_ids_are_written_safely(tmp_path):
    jl = tmp_path / "api.jsonl"  # the API leaves out null keys: the first record has no id and no title
    jl.write_text('{"description": "x"}\n{"id_experience": 42, "titre": "B", "description": "y"}\n', encoding="utf-8")
    first, second = read_export(jl)
    assert second.id == "42" and first.id.startswith("h") and first.text == "x"
    bad_id = tmp_path / "odd.jsonl"
    bad_id.write_text('{"id": "2\\udc00", "titre": "B", "description": "y"}\n', encoding="utf-8")
    [row] = read_export(bad_id)
    assert row.id == "2\\udc00"
    title_only = tmp_path / "t.jsonl"
    title_only.write_text('{"titre": "Accueil parfait"}\n{"titre": "B", "description": "y"}\n', encoding="utf-8")
    row, _ = read_export(title_only)
    assert row.id is not None and row.id.startswith("h") and row.text == "Accueil parfait"


def test_a_file_without_header_is_not_echoed_in_the_error(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("101;Mon dossier;Madame Dupont au 06 12 34 56 78 ne répond jamais au téléphone\n", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        read_export(p)
    assert "Dupont" not in str(err.value) and "Mon dossier" not in str(err.value)
    assert "rather than a header row" in str(err.value)
    short = tmp_path / "short.csv"  # short fields and an id that is not a number: still a row of data
    short.write_text("A-1029;Mme Dupont au guichet;Elle a refusé mon dossier\n", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        read_export(short)
    assert "Dupont" not in str(err.value) and "3 fields" in str(err.value)
    header = tmp_path / "header.csv"  # a real header row (a known column) is shown, to help pick the text columns
    header.write_text("ID expérience;Commentaire libre\n1;Très bien\n", encoding="utf-8")
    with pytest.raises(ExportError, match="Commentaire libre"):
        read_export(header)


def test_odd_csv_files_parse_as_pandas_did_or_fail_clearly(tmp_path):
    dup = tmp_path / "dup.csv"  # a repeated column name: the first keeps it, as with pandas
    dup.write_text("id;Titre;Description;Description\n1;T;first;second\n\n   \n", encoding="utf-8")
    [row] = read_export(dup)  # the blank and whitespace-only lines are not rows
    assert row.text == "T. first" and row.fields["Description.1"] == "second"
    long = tmp_path / "long.csv"
    long.write_text("id;Titre;Description\n1;T;" + "mot " * 50_000 + "\n", encoding="utf-8")
    [row] = read_export(long)
    assert row.error is None and len(row.text) > 150_000
    stray = tmp_path / "stray.csv"
    stray.write_text('id;Titre;Description\n1;A;Bien\n2;B;"Trop long\n3;C;Ferme\n', encoding="utf-8")
    with pytest.raises(ExportError, match="row 2 .*quote never closed.*nothing was scored"):
        read_export(stray)  # found before any row is read: it swallows every row after it
    one_column = tmp_path / "one.csv"  # one column: "" and a line of spaces are rows (with an empty text)
    one_column.write_text('Description\nBien\n""\n\n   \nMal\n', encoding="utf-8")
    rows = list(read_export(one_column, text_columns=["Description"]))
    assert [r.text for r in rows] == ["Bien", "", "", "Mal"] and [r.row for r in rows] == [1, 2, 3, 4]
    assert rows[1].error.startswith("row 2: empty text")
    invisible = tmp_path / "invisible.csv"  # no id column: an invisible-only text gets no hash id, as a blank one
    invisible.write_text("Titre;Description\n\u200b;\ufeff\n;   \n", encoding="utf-8")
    assert [(r.id, r.error is not None) for r in read_export(invisible)] == [(None, True), (None, True)]
    with pytest.raises(ExportError, match="unknown encoding"):
        read_export(long, encoding="utf-9")
    utf16 = tmp_path / "excel.txt"  # Excel's "Texte Unicode": UTF-16 with tabs
    utf16.write_text("ID expérience\tTitre\tDescription\n1\tAccueil\tTrès bien\n", encoding="utf-16")
    assert [r.text for r in read_export(utf16, encoding="utf-16")] == ["Accueil. Très bien"]


def test_the_file_is_closed_when_rows_are_not_read_or_columns_are_missing(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "e.csv"
    _write_csv(p, [{"ID expérience": "1", "Titre": "a", "Description": "b"}], ";")
    jl = tmp_path / "e.jsonl"
    jl.write_text('{"id": "1", "titre": "a", "description": "b"}\n', encoding="utf-8")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    script = f"""
import gc
from spplus_nlp.io.exports import ExportError, read_export
for path in ({str(p)!r}, {str(jl)!r}):
    rows = read_export(path)
    del rows
    try:
        read_export(path, text_columns=["nope"])
    except ExportError:
        pass
    assert len(list(read_export(path))) == 1
try:
    read_export({str(tmp_path / "empty.jsonl")!r})
except ExportError:
    pass
gc.collect()
print("done")
"""
    run = subprocess.run([sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True)
    assert run.stdout.strip() == "done", run.stderr
    assert "ResourceWarning" not in run.stderr


def test_column_names_match_whatever_their_case_accents_form_and_spaces(tmp_path):
    import unicodedata

    for header in ("ID Expérience;TITRE;Description", unicodedata.normalize("NFD", "ID expérience;Titre;Description"),
                   " ID expérience ; Titre ;Description"):
        p = tmp_path / "e.csv"
        p.write_text(f"{header}\n007;Accueil;Très bien\n", encoding="utf-8")
        [row] = read_export(p)
        assert row.id == "007" and row.text == "Accueil. Très bien", header
    [row] = read_export(p, id_column="id expérience", text_columns=["titre", "DESCRIPTION"])
    assert row.id == "007" and row.text == "Accueil. Très bien"


def test_a_utf8_byte_order_mark_read_as_another_encoding_is_refused(tmp_path):
    p = tmp_path / "excel_utf8.csv"
    p.write_bytes(b"\xef\xbb\xbf" + "ID expérience;Titre;Description\n1;Accueil;Très bien\n".encode("utf-8"))
    with pytest.raises(ExportError, match="byte-order mark, so it is UTF-8, not cp1252"):
        read_export(p, encoding="cp1252")
    [row] = read_export(p)
    assert row.id == "1" and row.text == "Accueil. Très bien"
    [row] = read_export(p, encoding="utf-8-sig")  # the mark's own encoding is no mismatch
    assert row.id == "1"


def test_json_without_a_title_key_or_with_keys_seen_late_is_read(tmp_path, monkeypatch):
    import spplus_nlp.io.exports as exports

    no_title = tmp_path / "no_title.jsonl"  # the API leaves out null keys: no record has a title
    no_title.write_text('{"id_experience": "1", "description": "Accueil correct."}\n', encoding="utf-8")
    [row] = read_export(no_title)
    assert row.id == "1" and row.text == "Accueil correct." and row.error is None
    monkeypatch.setattr(exports, "PEEK_RECORDS", 2)  # the id key first appears past the records read ahead
    late = tmp_path / "late.jsonl"
    late.write_text('{"description": "a"}\n{"description": "b"}\n{"id_experience": "ID3", "description": "c"}\n',
                    encoding="utf-8")
    assert [r.id for r in read_export(late)][2] == "ID3"


def test_a_line_break_outside_quotes_is_a_row_error_without_an_id(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("ID expérience;Titre;Description\n001;Titre;Première ligne\nseconde ligne secrète\n002;T;Bien.\n",
                 encoding="utf-8")
    rows = list(read_export(p))
    assert [r.row for r in rows] == [1, 2, 3] and rows[2].id == "002" and rows[2].error is None
    assert rows[1].id is None and rows[1].text == ""
    assert rows[1].error.startswith("row 2: 1 field(s) where the header has 3") and "secrète" not in rows[1].error


def test_an_invalid_json_line_says_what_and_where_once(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text('{"id": "1", "description": "a"}\n{"id": "2", "description": "b\tc\n', encoding="utf-8")
    ok, bad = read_export(p)
    assert ok.error is None and bad.error.startswith("row 2: invalid JSON (") and " at at " not in bad.error
