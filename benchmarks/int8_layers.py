"""Where int8 dynamic quantisation loses the accurate model's accuracy, and whether smoothing the FFN inputs fixes it.

The experiment behind ``spplus_nlp.accurate.smoothing`` (what ``quantize=True`` now does, with the maxima saved at
training); here the maxima are read on the spot so that any saved model can be compared.
Variants, each on a freshly loaded model:
- ``fp32``; ``int8``: every linear layer (what ``load(..., quantize=True)`` does);
- ``int8_no_ffn_out``: every linear layer but the feed-forward output ones (left in fp32);
- ``int8_smooth_A``: every linear layer, after SmoothQuant-style scaling of the feed-forward output layers' inputs
  (Xiao et al. 2023): per input channel j, s_j = max|x_j|^A / max|w_j|^(1-A), x / s and W * s, so the GELU outputs'
  few large channels no longer set the one int8 scale of the whole activation. Channel maxima are read on the
  first ``--calibration`` training texts of the model's own split (never dev rows).
Per variant: reviews/s on the first ``--rows`` real texts (length-sorted batches, as in ``accurate_speed.py``);
sentiment, engagements and polarity on the model's dev split; and fidelity to fp32 on dev + speed texts (share of
identical sentiment labels, mean absolute difference of the sentiment probabilities), which is steadier than a
macro-F1 on 210 dev rows. Dynamic quantisation scales each batch by its own range, so int8 figures move a little
with how texts fall into batches.

Usage: HF_HUB_OFFLINE=1 python benchmarks/int8_layers.py [--model models/accurate] [--rows 300] [--calibration 128]
       [--alphas 0.75,0.85] [--out benchmarks/results/int8_layers.json]
About 5 minutes on 2 cores; run it on an idle machine (speed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.ao.quantization import per_channel_dynamic_qconfig

from spplus_nlp.accurate import AccurateModel
from spplus_nlp.accurate.smoothing import ffn_output_layers, input_maxima
from spplus_nlp.evaluation import evaluate
from spplus_nlp.taxonomy import SENTIMENTS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accurate_speed import speed_texts_and_split  # noqa: E402

def quantize_all_but(model: AccurateModel, keep_fp32: set[str]) -> int:
    """``AccurateModel.quantize`` without smoothing, leaving the ``keep_fp32`` linear layers in fp32."""
    spec = {n: per_channel_dynamic_qconfig for n, m in model.body_.named_modules()
            if isinstance(m, nn.Linear) and n not in keep_fp32}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice
        torch.ao.quantization.quantize_dynamic(model.body_, spec, dtype=torch.qint8, inplace=True)
    model.quantized_ = True
    return len(spec)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/accurate")
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--calibration", type=int, default=128)
    ap.add_argument("--alphas", default="0.75,0.85")
    ap.add_argument("--out", default="benchmarks/results/int8_layers.json")
    args = ap.parse_args()
    _, texts, train, dev = speed_texts_and_split(args.model, args.rows)
    calibration = [r["text"] for r in train[:args.calibration]]
    probe = [r["text"] for r in dev] + texts

    variants = {"fp32": None, "int8": None, "int8_no_ffn_out": None}
    variants.update({f"int8_smooth_{a}": float(a) for a in args.alphas.split(",")})
    results: dict = {"model": args.model, "rows": len(texts), "dev_rows": len(dev), "calibration": len(calibration),
                     "torch_threads": torch.get_num_threads()}
    reference = None
    for name, alpha in variants.items():
        model = AccurateModel.load(args.model)
        entry: dict = {}
        if name == "int8_no_ffn_out":
            entry["int8_layers"] = quantize_all_but(model, set(ffn_output_layers(model.body_)))
        elif name != "fp32":
            if alpha is not None:  # the maxima read here, not the saved ones: any saved model can be compared
                model.ffn_input_max_ = input_maxima(model.body_, lambda: model.predict(calibration))
            model.quantize(smoothing=alpha)
            if alpha is not None:
                entry["smoothed_layers"] = model.smoothed_layers_
            entry["int8_layers"] = sum(isinstance(m, torch.ao.nn.quantized.dynamic.Linear)
                                       for m in model.body_.modules())
        model.predict(texts[:8])  # warm-up
        start = time.perf_counter()
        model.predict(texts)
        entry["reviews_per_s"] = len(texts) / (time.perf_counter() - start)
        out = model.predict(probe)
        report = evaluate(dev, out[:len(dev)])
        entry["dev"] = {"sentiment_macro_f1": report["sentiment"]["macro_f1"],
                        "engagements_micro_f1": report["engagements"]["micro_f1"],
                        "polarity_accuracy": report["engagements"]["polarity_accuracy"]}
        probs = torch.tensor([[a.sentiment.scores[k] for k in SENTIMENTS] for a in out])
        labels = [a.sentiment.label for a in out]
        reference = reference or (labels, probs)
        entry["agreement_with_fp32"] = sum(a == b for a, b in zip(labels, reference[0])) / len(labels)
        entry["mean_abs_prob_diff"] = float((probs - reference[1]).abs().mean())
        results[name] = entry
        print(name, json.dumps(entry), flush=True)
    for name in variants:
        if name != "fp32":
            results[name]["speedup"] = results[name]["reviews_per_s"] / results["fp32"]["reviews_per_s"]
            results[name]["sentiment_lost"] = (results["fp32"]["dev"]["sentiment_macro_f1"]
                                               - results[name]["dev"]["sentiment_macro_f1"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
