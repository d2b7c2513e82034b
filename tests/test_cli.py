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


@pytest.mark.parametrize("text", ["", "  \u200b "])
def test_analyze_an_empty_text_is_a_one_line_error(capsys, text):
    assert main(["analyze", text]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "spplus-nlp: empty text: nothing to analyse"


def test_analyze_with_a_model_that_cannot_load_is_a_one_line_error(tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"type": "fast"}', encoding="utf-8")  # no model file beside it
    assert main(["analyze", "Bonjour", "--model", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spplus-nlp: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


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


def test_score_output_under_a_file_is_a_one_line_error_and_column_lists_may_hold_spaces(tmp_path, capsys):
    (tmp_path / "afile").write_text("", encoding="utf-8")
    assert main(["score", str(SAMPLE), "-o", str(tmp_path / "afile" / "o.jsonl"), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    out = tmp_path / "o.jsonl"
    assert main(["score", str(SAMPLE), "-o", str(out), "--text-columns", "Titre, Description", "--quiet"]) == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["error"] is None and first["sentiment"]["label"]


@pytest.mark.slow
def test_score_with_two_workers_keeps_order(tmp_path):
    out = tmp_path / "scored.jsonl"
    subprocess.run([sys.executable, "-m", "spplus_nlp.cli", "score", str(SAMPLE), "-o", str(out), "--workers", "2",
                    "--batch-size", "3", "--quiet"], check=True)
    import pandas as pd

    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == list(pd.read_csv(SAMPLE, sep=";", dtype=str)["ID expérience"])


def test_evaluate_writes_json_and_markdown(tmp_path, capsys):
    from spplus_nlp.corpora import ANNOTATIONS

    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(ANNOTATIONS.read_text(encoding="utf-8").splitlines(keepends=True)[:25]), encoding="utf-8")
    assert main(["evaluate", "--gold", str(gold), "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))
    assert report["n"] == 25 and report["engagements"]["n"] == 25
    assert 0.0 <= report["sentiment"]["macro_f1"] <= 1.0
    assert "## Engagements" in (tmp_path / "eval.md").read_text(encoding="utf-8")


def test_improvements_per_service(tmp_path, capsys):
    scored = tmp_path / "scored.jsonl"
    assert main(["score", str(SAMPLE), "-o", str(scored), "--quiet"]) == 0
    assert main(["improvements", str(scored), "--export", str(SAMPLE), "-o", str(tmp_path / "imp.json")]) == 0
    services = json.loads((tmp_path / "imp.json").read_text(encoding="utf-8"))
    import pandas as pd

    assert sum(s["experiences"] for s in services) == len(pd.read_csv(SAMPLE, sep=";", dtype=str))
    as_csv = tmp_path / "scored.csv"  # a scored CSV reads back the same
    assert main(["score", str(SAMPLE), "-o", str(as_csv), "--quiet"]) == 0
    assert main(["improvements", str(as_csv), "--export", str(SAMPLE), "-o", str(tmp_path / "imp2.json")]) == 0
    assert json.loads((tmp_path / "imp2.json").read_text(encoding="utf-8")) == services


def test_train_accurate_passes_its_options(tmp_path, monkeypatch, capsys):
    import spplus_nlp.accurate.training as training

    seen = {}

    def fake_train_and_save(corpus, out, cv_folds, command, **params):
        seen.update(out=out, cv_folds=cv_folds, command=command, params=params, n=len(corpus))
        return {"dev": {"sentiment": {"macro_f1": 0.5}, "engagements": {"micro_f1": 0.5}}, "cv": None,
                "training_seconds": 1.0}

    monkeypatch.setattr(training, "train_and_save", fake_train_and_save)
    assert main(["train", "--kind", "accurate", "--base-model", str(tmp_path), "--top-layers", "3",
                 "--frozen-layers", "10", "--out", str(tmp_path / "m")]) == 0
    assert seen["params"] == {"base_model": str(tmp_path), "top_layers": 3, "frozen_layers": 10}
    assert seen["cv_folds"] == 0 and "--frozen-layers 10" in seen["command"]
    assert seen["command"].startswith("spplus-nlp train --kind accurate --out ")
    assert seen["n"] > 1000  # the real corpus with the supplement
    assert "dev-split sentiment macro-F1 0.500" in capsys.readouterr().out
    assert main(["train", "--kind", "accurate", "--no-stack", "--out", str(tmp_path / "m")]) == 0
    assert seen["params"] == {"stack_fast": False} and seen["command"].endswith(" --no-stack")
    assert main(["train", "--kind", "accurate", "--no-frozen-sentences", "--out", str(tmp_path / "m")]) == 0
    assert seen["params"] == {"stack_frozen_sentences": False}
    assert seen["command"].endswith(" --no-frozen-sentences")


def test_score_rejects_an_option_the_model_does_not_take(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert main(["score", str(SAMPLE), "-o", str(out), "--quiet", "--quantize", "--workers", "2"]) == 2
    assert "does not take ['quantize']" in capsys.readouterr().err
    assert not out.exists()


def test_fast_model_commands_import_spacy_without_torch():
    # in a fresh process, as the command runs: thinc records "no torch", the fast model still works, and a later
    # ``import torch`` (the accurate model's) imports it for real
    code = (
        "import sys\n"
        "from spplus_nlp.cli import _import_spacy_without_torch\n"
        "_import_spacy_without_torch(None)\n"
        "import thinc.compat\n"
        "assert not thinc.compat.has_torch and 'torch' not in sys.modules\n"
        "import spplus_nlp\n"
        "assert spplus_nlp.load().analyze('Il faudrait un guichet le samedi.').suggestions\n"
        "import torch\n"
        "assert torch.ones(1).item() == 1.0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
