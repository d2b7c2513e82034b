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
    assert counts == {"read": 7, "rows": 7, "errors": 1}
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


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_that_cannot_load_fails_the_run_cleanly(export, tmp_path, workers):
    # with worker processes, a failing load must not leave the pool restarting workers forever
    from spplus_nlp.scoring import ModelLoadError

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"type": "fast"}', encoding="utf-8")
    (broken / "model.joblib").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="model"):
        scoring.score_export(export, tmp_path / "o.jsonl", model=str(broken), workers=workers, progress=False)
