"""The encoder split in two: frozen lower layers (run once, cacheable) and the fine-tuned top layers.

Works with BERT-like encoders from ``transformers`` (BERT, XLM-R, CamemBERT, multilingual-e5): an ``embeddings``
module and ``encoder.layer``. Only the top layers are ever trained or saved.

The stacked fast model reads frozen states too: the base encoder's after ``frozen_layers`` layers, wherever the
fine-tuned layers start. Below that start they are an intermediate state of the lower layers; past it, the base's own
(untrained) copies of those layers run on the lower layers' output, so that fine-tuning more layers does not change
what the fast model reads.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from transformers.masking_utils import create_bidirectional_mask

#: model types whose position ids start after the padding index (so they read two positions fewer)
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert"}


class Body(nn.Module):
    def __init__(self, encoder: nn.Module, top_layers: int, frozen_layers: int | None = None):
        super().__init__()
        if not (hasattr(encoder, "embeddings") and hasattr(getattr(encoder, "encoder", None), "layer")):
            raise ValueError(f"{type(encoder).__name__}: expected a BERT-like encoder (embeddings + encoder.layer)")
        n_layers = len(encoder.encoder.layer)
        if not 1 <= top_layers <= n_layers:
            raise ValueError(f"top_layers={top_layers}: the encoder has {n_layers} layers")
        self.encoder = encoder
        self.split = n_layers - top_layers
        frozen = self.split if frozen_layers is None else frozen_layers
        self.frozen_layers = frozen + n_layers if frozen < 0 else frozen  # -2: all but the last two
        if not 0 <= self.frozen_layers <= n_layers:
            raise ValueError(f"frozen_layers={frozen_layers}: the encoder has {n_layers} layers")
        for p in encoder.parameters():
            p.requires_grad_(False)
        # copied before any training: the base's weights, never trained, never saved (the base directory has them)
        self.frozen_tail = copy.deepcopy(encoder.encoder.layer[self.split:self.frozen_layers])
        for layer in self.top:
            for p in layer.parameters():
                p.requires_grad_(True)

    @property
    def top(self) -> nn.ModuleList:
        return self.encoder.encoder.layer[self.split:]

    @property
    def hidden_size(self) -> int:
        return self.encoder.config.hidden_size

    def max_positions(self) -> int:
        config = self.encoder.config
        limit = getattr(config, "max_position_embeddings", 512)
        if config.model_type in _OFFSET_POSITIONS:
            limit -= (config.pad_token_id or 0) + 1
        return limit

    def top_state_dict(self) -> dict[str, torch.Tensor]:
        """The trained weights only, keyed as in the encoder's own state dict."""
        return {f"encoder.layer.{self.split + i}.{k}": v for i, layer in enumerate(self.top)
                for k, v in layer.state_dict().items()}

    def lower(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.lower_and_frozen(input_ids, attention_mask)[0]

    def lower_and_frozen(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """The fine-tuned layers' input, and the states the stacked fast model reads (the base's after
        ``frozen_layers`` layers)."""
        states = self.encoder.embeddings(input_ids=input_ids)
        layers = self.encoder.encoder.layer
        if self.frozen_layers <= self.split:
            frozen = self._run(layers[:self.frozen_layers], states, attention_mask)
            return self._run(layers[self.frozen_layers:self.split], frozen, attention_mask), frozen
        lower = self._run(layers[:self.split], states, attention_mask)
        return lower, self._run(self.frozen_tail, lower, attention_mask)

    def upper(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self._run(self.top, states, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.upper(self.lower(input_ids, attention_mask), attention_mask)

    def _run(self, layers, states, attention_mask):
        mask = create_bidirectional_mask(config=self.encoder.config, inputs_embeds=states,
                                         attention_mask=attention_mask)
        for layer in layers:
            states = layer(states, mask)
        return states
