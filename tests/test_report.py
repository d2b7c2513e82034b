from spplus_nlp.io.writers import ResultWriter
from spplus_nlp.report import main

RECORDS = [
    {"id": "1", "sentiment": {"label": "négatif", "scores": {"positif": 0.1, "neutre": 0.2, "négatif": 0.7}},
     "engagements": [{"id": "E4", "name": "délais", "score": 0.9, "polarity": "négatif",
                      "evidence": {"start": 0, "end": 5, "text": "Trop\u2028long"}}],
     "suggestions": [{"text": "ouvrir le samedi", "start": 10, "end": 26, "engagement": "E2", "score": 0.8}],
     "error": None},
    {"id": "2", "sentiment": None, "engagements": [], "suggestions": [], "error": "row 2: empty text"},
]


def test_the_summary_reads_every_output_format(tmp_path, capsys):
    summaries = []
    for ext in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"scored.{ext}"
        with ResultWriter(out) as w:
            w.write(RECORDS)
        assert main([str(out)]) == 0
        summaries.append(capsys.readouterr().out)
    assert summaries[0] == summaries[1] == summaries[2]
    assert "2 experiences scored, 1 in error" in summaries[0] and "ouvrir le samedi" in summaries[0]


def test_a_file_that_is_not_a_scored_one_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "scored.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spplus_nlp.report: {bad}: line 1 is not JSON") and len(err.splitlines()) == 1
