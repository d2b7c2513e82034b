import numpy as np
import pytest
import torch
from torch import nn
from torch.ao.quantization import per_channel_dynamic_qconfig

from spplus_nlp.accurate import AccurateModel
from spplus_nlp.accurate.smoothing import (CALIBRATION_TEXTS, MAXIMA, Smoothed, calibration_texts,
                                           ffn_output_layers, input_maxima, load_maxima, save_maxima, smooth)

TEXTS = ["Accueil très aimable, merci.", "Impossible de joindre le service, il faudrait un numéro direct.",
         "Dossier en attente depuis trois mois sans réponse du tout."]


def sentiment_scores(model, texts):
    return np.array([[a.sentiment.scores[k] for k in sorted(a.sentiment.scores)] for a in model.predict(texts)])


def test_training_reads_the_maxima_and_saving_keeps_them(tiny_accurate, tmp_path):
    layers = ffn_output_layers(tiny_accurate.body_)
    assert layers and set(tiny_accurate.ffn_input_max_) == set(layers)
    for name, maxima in tiny_accurate.ffn_input_max_.items():
        assert maxima.shape == (layers[name].in_features,) and bool((maxima > 0).all())
    tiny_accurate.save(tmp_path / "m")
    loaded = load_maxima(tmp_path / "m")
    assert set(loaded) == set(layers)
    assert all(torch.equal(loaded[k], tiny_accurate.ffn_input_max_[k]) for k in loaded)
    save_maxima(None, tmp_path / "m")  # a model without maxima leaves no stale file
    assert not (tmp_path / "m" / MAXIMA).exists()


def test_smoothing_keeps_the_fp32_function(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    plain, smoothed = AccurateModel.load(tmp_path / "m"), AccurateModel.load(tmp_path / "m")
    assert smooth(smoothed.body_, smoothed.ffn_input_max_, alpha=0.85) == len(smoothed.ffn_input_max_)
    assert all(isinstance(m, Smoothed) for n, m in smoothed.body_.named_modules() if n.endswith("output.dense")
               and not n.endswith("attention.output.dense"))
    np.testing.assert_allclose(sentiment_scores(smoothed, TEXTS), sentiment_scores(plain, TEXTS), atol=1e-5)


def test_the_maxima_are_what_the_layers_receive(tiny_accurate):
    name, layer = next(iter(ffn_output_layers(tiny_accurate.body_).items()))
    seen = []
    hook = layer.register_forward_pre_hook(
        lambda _, inputs: seen.append(inputs[0].detach().abs().reshape(-1, layer.in_features).amax(0)))
    maxima = input_maxima(tiny_accurate.body_, lambda: tiny_accurate.predict(TEXTS))
    hook.remove()
    assert torch.equal(maxima[name], torch.stack(seen).amax(0))


def test_smoothing_makes_int8_closer_to_fp32_on_inputs_with_outlier_channels():
    torch.manual_seed(0)
    x = torch.randn(256, 64)
    x[:, 3] *= 60.0  # one huge channel, as GELU outputs have
    plain, smoothed = nn.Sequential(nn.Linear(64, 32)), nn.Sequential(nn.Linear(64, 32))
    smoothed.load_state_dict(plain.state_dict())
    expected = plain(x).detach()
    smoothed[0] = Smoothed(smoothed[0], x.abs().amax(0) ** 0.85 / smoothed[0].weight.abs().amax(0) ** 0.15)
    errors = []
    for model in (plain, smoothed):
        quantised = torch.ao.quantization.quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig},
                                                           dtype=torch.qint8)
        errors.append(float((quantised(x) - expected).abs().mean()))
    assert errors[1] < errors[0] / 2


def test_calibration_texts_are_a_seeded_sample():
    examples = [{"text": f"t{i}"} for i in range(1000)]
    texts = calibration_texts(examples, random_state=0)
    assert len(texts) == len(set(texts)) == CALIBRATION_TEXTS and texts == calibration_texts(examples, 0)
    assert texts != [e["text"] for e in examples[:CALIBRATION_TEXTS]] and texts != calibration_texts(examples, 1)
    assert calibration_texts(examples[:5]) == [f"t{i}" for i in range(5)]


def test_quantising_smooths_unless_told_not_to(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    smoothed = AccurateModel.load(tmp_path / "m", quantize=True)
    assert smoothed.smoothed_layers_ == len(smoothed.ffn_input_max_) > 0
    wrapped = [m for m in smoothed.body_.modules() if isinstance(m, Smoothed)]
    assert wrapped and all(isinstance(m.linear, torch.ao.nn.quantized.dynamic.Linear) for m in wrapped)
    plain = AccurateModel.load(tmp_path / "m").quantize(smoothing=None)
    assert plain.smoothed_layers_ == 0 and not any(isinstance(m, Smoothed) for m in plain.body_.modules())
    assert len(smoothed.predict(TEXTS)) == len(TEXTS)
    with pytest.raises(ValueError, match="already quantised"):
        smoothed.quantize()


def test_bad_smoothing_is_refused(tiny_accurate, tmp_path):
    tiny_accurate.save(tmp_path / "m")
    model = AccurateModel.load(tmp_path / "m")
    with pytest.raises(ValueError, match="alpha"):
        smooth(model.body_, model.ffn_input_max_, alpha=1.5)
    with pytest.raises(ValueError, match="does not have"):
        smooth(model.body_, {"encoder.layer.99.output.dense": torch.ones(4)})
    name = next(iter(model.ffn_input_max_))
    save_maxima({name: torch.ones(3)}, tmp_path / "m")  # maxima of another base's width
    with pytest.raises(ValueError, match=f"{MAXIMA}.*do not fit"):
        AccurateModel.load(tmp_path / "m")
