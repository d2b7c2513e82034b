import json
import subprocess
import sys
from pathlib import Path

import pytest

from spplus_nlp.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample" / "export_sample.csv"


def test_analyze_prints_json(capsys):
    assert main(["analyze", "Personne ne répond au téléphone, il faudrait un numéro direct."]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"sentiment", "engagements", "suggestions"}


def test_score_sample_export_with_the_shipped_model(tmp_path, capsys):
    out = tmp_path / "scored.csv"
    assert main(["score", str(SAMPLE), "-o", str(out), "--quiet"]) == 0
    import pandas as pd

    n_in = len(pd.read_csv(SAMPLE, sep=";", dtype=str))
    scored = pd.read_csv(out, dtype=str)
    assert len(scored) == n_in
    assert scored["error"].isna().all()


def test_score_reports_a_missing_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    assert main(["score", str(bad), "-o", str(tmp_path / "o.jsonl"), "--quiet"]) == 2
    assert "no text columns" in capsys.readouterr().err


@pytest.mark.slow
def test_score_with_two_workers_keeps_order(tmp_path):
    out = tmp_path / "scored.jsonl"
    subprocess.run([sys.executable, "-m", "spplus_nlp.cli", "score", str(SAMPLE), "-o", str(out), "--workers", "2",
                    "--batch-size", "3", "--quiet"], check=True)
    import pandas as pd

    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == list(pd.read_csv(SAMPLE, sep=";", dtype=str)["ID expérience"])
