import json

import pandas as pd
import pytest

from spplus_nlp import scoring
from spplus_nlp.io.exports import read_export


@pytest.fixture
def export(tmp_path):
    rows = [{"ID expérience": str(i), "Titre": "Attente", "Description": "Mon dossier est bloqué depuis trois mois."}
            for i in range(7)]
    rows[3]["Titre"] = rows[3]["Description"] = ""  # a row that cannot be analysed
    path = tmp_path / "export.csv"
    pd.DataFrame(rows).to_csv(path, sep=";", index=False)
    return path


def test_score_export_one_record_per_row_in_order(export, tmp_path, toy_analyzer, monkeypatch):
    monkeypatch.setattr(scoring, "load", lambda model: toy_analyzer)
    out = tmp_path / "scored.jsonl"
    counts = scoring.score_export(export, out, batch_size=3, progress=False)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [str(i) for i in range(7)]
    assert counts == {"read": 7, "rows": 7, "errors": 1, "duplicate_ids": 0}
    assert records[3]["error"] == "row 4: empty text (no Titre / Description)"
    assert records[3]["engagements"] == [] and records[3]["sentiment"] is None
    assert records[0]["error"] is None and records[0]["sentiment"]["label"] in {"positif", "neutre", "négatif"}


def test_a_row_the_model_fails_on_is_isolated(export, toy_analyzer):
    class Flaky:
        def predict(self, texts):
            if any("boom" in t for t in texts):
                raise RuntimeError("model failure")
            return toy_analyzer.model.predict(texts)

    rows = list(read_export(export))
    rows[1].text = "boom"
    records = scoring.score_rows(type(toy_analyzer)(Flaky()), rows)
    assert len(records) == len(rows)
    assert records[1]["error"].startswith("row 2: analysis failed: RuntimeError")
    assert records[0]["error"] is None and records[2]["error"] is None


def test_forked_workers_write_what_one_process_writes(export, tmp_path, toy_analyzer, monkeypatch):
    monkeypatch.setattr(scoring, "load", lambda model: toy_analyzer)
    assert scoring._forks({"type": "fast"})  # Linux: the fast model's workers are forked, the model loaded here
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    scoring.score_export(export, one, batch_size=2, progress=False)
    counts = scoring.score_export(export, two, batch_size=2, workers=2, progress=False)
    assert counts == {"read": 7, "rows": 7, "errors": 1, "duplicate_ids": 0}
    assert two.read_text(encoding="utf-8") == one.read_text(encoding="utf-8")
    assert scoring._worker_analyzer is None  # the parent does not keep the model past the run


def test_a_worker_that_dies_fails_the_run_instead_of_hanging(export, tmp_path, toy_analyzer, monkeypatch):
    import os

    from spplus_nlp.scoring import WorkerError

    parent = os.getpid()

    class DiesInWorkers:
        def predict(self, texts):
            if os.getpid() != parent:
                os._exit(1)  # as the kernel's out-of-memory killer would end it
            return toy_analyzer.model.predict(texts)

    monkeypatch.setattr(scoring, "load", lambda model: type(toy_analyzer)(DiesInWorkers()))
    out = tmp_path / "scored.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    with pytest.raises(WorkerError, match="stopped abruptly.*while rows 1-[0-9]+ were being scored"):
        scoring.score_export(export, out, batch_size=2, workers=2, progress=False)
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize("workers, forked", [(1, False), (2, True), (2, False)])
def test_a_model_that_cannot_load_fails_the_run_cleanly(export, tmp_path, workers, forked, monkeypatch):
    # forked: the load fails here, before any worker; spawned: a failing load in a worker must not leave the pool
    # restarting workers forever
    from spplus_nlp.scoring import ModelLoadError

    monkeypatch.setattr(scoring, "_forks", lambda config: forked)

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"type": "fast"}', encoding="utf-8")
    (broken / "model.joblib").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="model"):
        scoring.score_export(export, tmp_path / "o.jsonl", model=str(broken), workers=workers, progress=False)


def test_bad_input_or_output_is_refused_before_anything_is_written(export, tmp_path, toy_analyzer, monkeypatch):
    from spplus_nlp.io.exports import ExportError
    from spplus_nlp.io.writers import OutputError

    loads = []
    monkeypatch.setattr(scoring, "load", lambda model: loads.append(model) or toy_analyzer)
    out = tmp_path / "scored.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("ID expérience;Note\n1;5\n", encoding="utf-8")
    with pytest.raises(ExportError, match="no text columns"):
        scoring.score_export(no_text, out, progress=False)
    with pytest.raises(ExportError, match="no such file"):
        scoring.score_export(tmp_path / "missing.csv", out, progress=False)
    with pytest.raises(OutputError, match="overwrite the input"):
        scoring.score_export(export, export, progress=False)
    with pytest.raises(OutputError, match="unknown output format"):
        scoring.score_export(export, tmp_path / "o.txt", progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        scoring.score_export(export, out, batch_size=0, progress=False)
    assert out.read_text(encoding="utf-8") == "previous results\n" and loads == []  # checked before the model loads
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["export.csv", "no_text.csv", "scored.jsonl"])


def test_rows_sharing_an_id_are_all_scored_and_counted(tmp_path, toy_analyzer, monkeypatch):
    monkeypatch.setattr(scoring, "load", lambda model: toy_analyzer)
    export = tmp_path / "dup.csv"
    export.write_text("ID expérience;Titre;Description\n1;A;Trop d'attente.\n1;B;Bon accueil.\n2;C;Rien.\n",
                      encoding="utf-8")
    counts = scoring.score_export(export, tmp_path / "o.jsonl", progress=False)
    assert counts["read"] == counts["rows"] == 3 and counts["duplicate_ids"] == 1
