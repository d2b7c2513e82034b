"""The trained part of an accurate model on disk: the fine-tuned top layers and the heads, as fp16 safetensors.

Needs only torch and safetensors (no spaCy), so a machine that lacks the rest of the library, such as a lent GPU
machine in ``benchmarks/accurate_gpu.py``, reads the weights the same way the model does.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .body import Body

WEIGHTS = "model.safetensors"


def save_weights(body: Body, heads: nn.Module, path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {f"body.{k}": v for k, v in body.top_state_dict().items()}
    tensors.update({f"heads.{k}": v for k, v in heads.state_dict().items()})
    save_file({k: v.detach().to(torch.float16).contiguous() for k, v in tensors.items()}, Path(path) / WEIGHTS)


def load_weights(body: Body, heads: nn.Module, path: Path) -> None:
    """Put the saved top layers into ``body``'s encoder and the saved heads into ``heads`` (as fp32)."""
    from safetensors.torch import load_file

    state = {k: v.to(torch.float32) for k, v in load_file(Path(path) / WEIGHTS).items()}
    top = {k[len("body."):]: v for k, v in state.items() if k.startswith("body.")}
    missing = set(top) - set(body.top_state_dict())
    if missing:
        raise ValueError(f"model {path}: weights for layers this base does not train: {sorted(missing)[:3]}")
    body.encoder.load_state_dict(top, strict=False)
    heads.load_state_dict({k[len("heads."):]: v for k, v in state.items() if k.startswith("heads.")})
