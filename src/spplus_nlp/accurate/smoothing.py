"""Smoothing of the feed-forward output layers' inputs before int8 dynamic quantisation (SmoothQuant, Xiao et al. 2023).

Those inputs are GELU outputs with a few very large channels; dynamic int8 gives a whole activation one scale, so
those channels crush the rest, and that is where int8 loses the model's accuracy (``benchmarks/int8_layers.py``).
Per input channel j, s_j = max|x_j|^alpha / max|w_j|^(1 - alpha): the layer computes W s (x / s), the same function
in fp32, with inputs of a more even range. The channel maxima are read on training texts when the model is trained
and saved beside its weights (a loaded model has no texts to read them on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

MAXIMA = "int8_smoothing.safetensors"
CALIBRATION_TEXTS = 128  # training texts the channel maxima are read on (a seeded sample: files may be sorted)
DEFAULT_ALPHA = 0.85  # measured against 0.75 in benchmarks/int8_layers.py (NOTES, session 17)


class Smoothed(nn.Module):
    """``linear(x / s)`` with ``linear``'s input columns multiplied by ``s``; int8 then quantises ``linear``."""

    def __init__(self, linear: nn.Linear, s: torch.Tensor):
        super().__init__()
        s = s.detach()
        self.register_buffer("inv_s", 1.0 / s)
        linear.weight.data = linear.weight.data * s
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x * self.inv_s)


def ffn_output_layers(body: nn.Module) -> dict[str, nn.Linear]:
    """The feed-forward output layers of a BERT-like encoder (``...output.dense``, not the attention's), by name."""
    return {name: module for name, module in body.named_modules()
            if isinstance(module, nn.Linear) and name.endswith("output.dense")
            and not name.endswith("attention.output.dense")}


def input_maxima(body: nn.Module, run: Callable[[], object]) -> dict[str, torch.Tensor]:
    """Per-channel max |input| of each feed-forward output layer while ``run()`` runs the model."""
    maxima: dict[str, torch.Tensor] = {}

    def record(name):
        def hook(_, inputs):
            x = inputs[0].detach().float().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x
        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in ffn_output_layers(body).items()]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in hooks:
            h.remove()
    return maxima


def smooth(body: nn.Module, maxima: dict[str, torch.Tensor], alpha: float = DEFAULT_ALPHA) -> int:
    """Wrap each feed-forward output layer that has maxima in :class:`Smoothed`; how many were wrapped."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"smoothing alpha must be in [0, 1], got {alpha}")
    layers = ffn_output_layers(body)
    unknown = set(maxima) - set(layers)
    if unknown:
        raise ValueError(f"int8 smoothing maxima for layers this encoder does not have: {sorted(unknown)[:3]}")
    for name, linear in layers.items():
        if name in maxima:
            a = maxima[name].float().clamp(min=1e-5)
            w = linear.weight.detach().abs().amax(0).clamp(min=1e-5)
            parent, attr = name.rsplit(".", 1)
            setattr(body.get_submodule(parent), attr, Smoothed(linear, a ** alpha / w ** (1 - alpha)))
    return len(maxima)


def check_maxima(body: nn.Module, maxima: dict[str, torch.Tensor], path: Path) -> None:
    """Refuse, naming the file, maxima that do not fit this encoder's feed-forward output layers."""
    layers = ffn_output_layers(body)
    for name, values in maxima.items():
        if name not in layers or tuple(values.shape) != (layers[name].in_features,):
            raise ValueError(f"{Path(path) / MAXIMA}: maxima for {name} {tuple(values.shape)} do not fit this base "
                             f"encoder's feed-forward output layers; was the model trained on another base?")


def save_maxima(maxima: dict[str, torch.Tensor] | None, path: Path) -> None:
    """Write the maxima beside the weights, or remove the file when there are none."""
    from safetensors.torch import save_file

    file = Path(path) / MAXIMA
    if maxima:
        save_file({k: v.float().contiguous() for k, v in maxima.items()}, file)
    else:  # a model saved here before must not leave stale maxima behind
        file.unlink(missing_ok=True)


def load_maxima(path: Path) -> dict[str, torch.Tensor] | None:
    """The saved maxima, or None for a model saved without them."""
    from safetensors.torch import load_file

    file = Path(path) / MAXIMA
    return load_file(file) if file.exists() else None


def calibration_texts(examples: Sequence[dict], random_state: int = 0) -> list[str]:
    """A seeded sample of ``CALIBRATION_TEXTS`` training texts, in corpus order."""
    rng = np.random.default_rng(random_state)
    picked = sorted(rng.choice(len(examples), size=min(CALIBRATION_TEXTS, len(examples)), replace=False))
    return [examples[i]["text"] for i in picked]
