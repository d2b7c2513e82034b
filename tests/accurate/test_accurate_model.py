import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel

import spplus_nlp
from spplus_nlp.accurate import AccurateModel
from spplus_nlp.taxonomy import ENGAGEMENT_IDS, PLATFORM_TAG_IDS, POLARITIES, SENTIMENTS, SUGGESTION_TARGETS
from spplus_nlp.types import Analysis

TEXTS = [
    "Personne ne décroche. Impossible de joindre la caisse par téléphone.",
    "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?",
    # longer than one window (24 tokens): read in several overlapping windows
    " ".join(["Toujours en attente. Mon dossier est bloqué depuis trois mois. Il faudrait un suivi en ligne."] * 6),
    "   ",
]


def check_contract(model, texts):
    analyses = model.predict(texts)
    thresholds = (model.fast_ or model).thresholds_  # a stacked model's engagements are the fast model's
    assert len(analyses) == len(texts)
    for text, a in zip(texts, analyses):
        assert isinstance(a, Analysis) and a.text == text
        assert set(a.sentiment.scores) == set(SENTIMENTS)
        assert sum(a.sentiment.scores.values()) == pytest.approx(1.0, abs=1e-6)
        assert a.sentiment.label == max(a.sentiment.scores, key=a.sentiment.scores.get)
        for t in a.engagements:
            assert t.id in ENGAGEMENT_IDS and t.polarity in POLARITIES
            assert t.score >= thresholds[t.id] - 1e-4 and 0.0 <= t.score <= 1.0
            assert text[t.evidence.start:t.evidence.end] == t.evidence.text and t.evidence.text
        assert [t.score for t in a.engagements] == sorted((t.score for t in a.engagements), reverse=True)
        for s in a.suggestions:
            assert text[s.start:s.end] == s.text and s.text
            assert s.engagement in SUGGESTION_TARGETS and 0.0 <= s.score <= 1.0
        assert a.tags is not None and len({t.id for t in a.tags}) == len(a.tags)
        for t in a.tags:
            assert t.id in PLATFORM_TAG_IDS and t.polarity in ("positif", "neutre", "négatif") and 0 <= t.score <= 1
        assert a.to_dict()["tags"] == [dataclasses.asdict(t) for t in a.tags]
    return analyses


def test_only_the_top_layers_and_heads_are_trained(tiny_accurate, tiny_base):
    base = AutoModel.from_pretrained(tiny_base)
    trained = tiny_accurate.body_.encoder.state_dict()
    top = set(tiny_accurate.body_.top_state_dict())
    changed = {k for k, v in base.state_dict().items() if not torch.equal(v, trained[k])}
    assert changed and changed <= top
    assert not any(p.requires_grad for n, p in tiny_accurate.body_.encoder.named_parameters()
                   if not n.startswith(f"encoder.layer.{tiny_accurate.body_.split}"))


def test_split_body_equals_the_whole_encoder(tiny_accurate):
    ids = torch.randint(5, 100, (2, 20))
    mask = torch.ones(2, 20, dtype=torch.long)
    mask[1, 12:] = 0
    with torch.inference_mode():
        whole = tiny_accurate.body_.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        split = tiny_accurate.body_(ids, mask)
    assert torch.allclose(whole[mask.bool()], split[mask.bool()], atol=1e-5)


def test_predictions_satisfy_the_analysis_contract(tiny_accurate):
    analyses = check_contract(tiny_accurate, TEXTS)
    assert not analyses[3].engagements and not analyses[3].suggestions  # no sentence: nothing to point at
    assert tiny_accurate.predict([]) == []
    assert 0.05 <= tiny_accurate.temperature_ <= 20
    assert set(tiny_accurate.thresholds_) == set(ENGAGEMENT_IDS)


def test_batching_does_not_change_predictions(tiny_accurate):
    together = tiny_accurate.predict(TEXTS)
    alone = [tiny_accurate.predict([t])[0] for t in TEXTS]
    for a, b in zip(together, alone):
        assert a.sentiment.label == b.sentiment.label
        assert np.allclose(list(a.sentiment.scores.values()), list(b.sentiment.scores.values()), atol=1e-4)


def test_save_load_round_trip_gives_identical_predictions(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["type"] == "accurate" and config["base"]["path"]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "fast", "int8_smoothing.safetensors",
                                                                    "model.safetensors"]
    loaded = AccurateModel.load(tmp_path / "m")
    assert loaded.predict(TEXTS) == tiny_accurate.predict(TEXTS)
    analyzer = spplus_nlp.load(str(tmp_path / "m"))  # models.py dispatches "type": "accurate"
    assert isinstance(analyzer.model, AccurateModel)
    assert analyzer.analyze(TEXTS[0]) == tiny_accurate.predict(TEXTS[:1])[0]
    # its fast part reads the encoder's sentence vectors: it does not load alone
    assert json.loads((tmp_path / "m" / "fast" / "config.json").read_text())["reads_sentence_vectors"]
    with pytest.raises(ValueError, match="fast part of an accurate model"):
        spplus_nlp.load(str(tmp_path / "m" / "fast"))
    from spplus_nlp.cli import main

    sample = next((Path(__file__).parents[2] / "corpora" / "sample").glob("*.csv"))
    assert main(["score", str(sample), "-o", str(tmp_path / "o.jsonl"), "--quiet",
                 "--model", str(tmp_path / "m" / "fast")]) == 2  # a clean refusal, not a traceback


def test_quantised_load_works(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    quantised = AccurateModel.load(tmp_path / "m", quantize=True)
    assert quantised.quantized_
    assert isinstance(quantised.body_.top[0].intermediate.dense, torch.ao.nn.quantized.dynamic.Linear)
    check_contract(quantised, TEXTS)
    with pytest.raises(ValueError):
        quantised.save(tmp_path / "again")


def test_loading_without_the_recorded_base_says_so(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["params"]["base_model"] = str(tmp_path / "gone")
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="base_model"):
        AccurateModel.load(tmp_path / "m")
    assert AccurateModel.load(tmp_path / "m", base_model=tiny_accurate.base_model).predict(TEXTS[:1])


def test_a_base_of_another_shape_than_the_recorded_one_is_flagged(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*base encoder")
        AccurateModel.load(tmp_path / "m")  # its own base: no warning
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["base"]["num_hidden_layers"] = 6  # as if trained on a deeper encoder than the one given now
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.warns(UserWarning, match="not the one it was trained on \\(num_hidden_layers 6 -> 3\\)"):
        AccurateModel.load(tmp_path / "m", base_model=tiny_accurate.base_model)


def test_tags_head(tiny_accurate):
    tags = tiny_accurate.predict_tags(TEXTS[:2])
    assert len(tags) == 2 and all(set(t.values()) <= {"", "positif", "neutre", "négatif"} for t in tags)
    # the analyses list the same tags, with the same polarities, from the same forward pass
    analyses = tiny_accurate.predict(TEXTS[:2])
    assert [{t.id: t.polarity for t in a.tags} for a in analyses] == [{k: v for k, v in t.items() if v} for t in tags]


def test_platform_tags_follow_the_tag_heads_probabilities():
    from spplus_nlp.accurate.heads import TAG_VALUES
    from spplus_nlp.accurate.model import platform_tags

    logits = torch.full((1, len(PLATFORM_TAG_IDS), len(TAG_VALUES)), -10.0)
    logits[0, :, TAG_VALUES.index("absent")] = 10.0  # every tag absent ...
    logits[0, 2, TAG_VALUES.index("absent")] = 0.0  # ... but the third: négatif
    logits[0, 2, TAG_VALUES.index("négatif")] = 2.0
    [tags] = platform_tags(logits)
    assert [(t.id, t.polarity) for t in tags] == [(PLATFORM_TAG_IDS[2], "négatif")]
    assert tags[0].score == pytest.approx(1 - 1 / (1 + np.exp(2.0)), abs=1e-3)


def test_load_options_reach_the_accurate_loader(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    assert spplus_nlp.load(str(tmp_path / "m"), quantize=True).model.quantized_


def test_the_cli_finds_a_moved_base_with_base_model(tiny_accurate, tmp_path, capsys):
    import shutil

    from spplus_nlp.cli import main

    moved = Path(shutil.copytree(tiny_accurate.base_model, tmp_path / "moved_base"))
    tiny_accurate.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["params"]["base_model"] = str(tmp_path / "gone")  # where the base was at training
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    assert main(["analyze", TEXTS[0], "--model", str(tmp_path / "m")]) == 2
    assert "pass base_model" in capsys.readouterr().err
    assert main(["analyze", TEXTS[0], "--model", str(tmp_path / "m"), "--base-model", str(moved)]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"sentiment", "engagements", "suggestions", "tags"}


def test_half_precision_load_keeps_the_contract(tiny_accurate, tmp_path):
    # the GPU path (device="cuda", dtype="float16"/"bfloat16"), exercised on the CPU in bfloat16
    tiny_accurate.save(tmp_path / "m")
    half = AccurateModel.load(tmp_path / "m", dtype="bfloat16")
    assert next(half.body_.parameters()).dtype == torch.bfloat16 and half.device_.type == "cpu"
    analyses = check_contract(half, TEXTS)
    reference = tiny_accurate.predict(TEXTS)
    for a, b in zip(analyses, reference):
        for lab in SENTIMENTS:
            assert a.sentiment.scores[lab] == pytest.approx(b.sentiment.scores[lab], abs=0.05)
    with pytest.raises(ValueError, match="CPU"):
        AccurateModel.load(tmp_path / "m", quantize=True, device="cuda")


def test_cli_passes_precision_options_to_the_accurate_model(tiny_accurate, tmp_path, capsys):
    from spplus_nlp.cli import main

    tiny_accurate.save(tmp_path / "m")
    assert main(["analyze", TEXTS[0], "--model", str(tmp_path / "m"), "--dtype", "bfloat16"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["sentiment"]["scores"]) == set(SENTIMENTS)


def test_batch_tokens_option_changes_batching_not_predictions(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    small = spplus_nlp.load(str(tmp_path / "m"), batch_tokens=32)
    assert small.model.batch_tokens == 32
    # the same decisions; scores to float rounding (other padding, other summation order: seen differing in the 7th
    # significant digit on a fresh CI clone)
    for a, b in zip(small.model.predict(TEXTS), tiny_accurate.predict(TEXTS), strict=True):
        assert dataclasses.replace(a, sentiment=None) == dataclasses.replace(b, sentiment=None)
        assert a.sentiment.label == b.sentiment.label
        assert a.sentiment.scores == pytest.approx(b.sentiment.scores, rel=1e-5, abs=1e-12)


def test_the_shipped_model_matches_the_code():
    """models/accurate is read without its base encoder here: its parameters are ones the code knows, its weights
    are the layers its config names, and the depth its fast part reads is one the base has."""
    from safetensors import safe_open

    path = Path(__file__).resolve().parents[2] / "models" / "accurate"
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    model = AccurateModel(**config["params"])
    with safe_open(path / "model.safetensors", framework="pt") as f:
        layers = sorted({int(k.split(".")[3]) for k in f.keys() if k.startswith("body.encoder.layer.")})
    n_layers = config["base"]["num_hidden_layers"]
    assert layers == config["top_layers"] == list(range(n_layers - model.top_layers, n_layers))
    frozen = model.frozen_layers if model.frozen_layers >= 0 else model.frozen_layers + n_layers
    assert 0 <= frozen <= n_layers
    assert (path / "fast" / "config.json").exists() == model.stack_fast
    # int8 smoothing's channel maxima: one per feed-forward output layer the model runs
    with safe_open(path / "int8_smoothing.safetensors", framework="pt") as f:
        names = set(f.keys())
    tail = max(0, frozen - (n_layers - model.top_layers))
    assert names == ({f"encoder.encoder.layer.{i}.output.dense" for i in range(n_layers)}
                     | {f"frozen_tail.{i}.output.dense" for i in range(tail)})
