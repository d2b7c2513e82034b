"""Sliding windows over long texts, and where each token's state and characters come from.

An encoder reads at most ``max_length`` tokens; SP+ reviews run to 2,000 tokens. Rather than truncating, a text is
cut into windows that overlap by ``stride`` tokens. Every token is *owned* by exactly one window (the one where it
sits farthest from an edge, so it has context on both sides), which is where pooling reads its state. The fast
tokenizer's ``offset_mapping`` ties each token to its characters, so sentences (character spans) map to tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class DocWindows:
    """One text cut into windows."""

    windows: list[list[int]]  # input ids per window: [CLS] + prefix + content + [SEP]
    offsets: np.ndarray  # (n_tokens, 2) character offsets of the text's tokens
    token_window: np.ndarray  # (n_tokens,) the window that owns each token
    token_position: np.ndarray  # (n_tokens,) the token's position in that window

    @property
    def n_tokens(self) -> int:
        return len(self.offsets)


class Windower:
    """Cuts texts into overlapping windows of at most ``max_length`` tokens (special tokens and prefix included)."""

    def __init__(self, tokenizer, max_length: int = 256, stride: int = 64, prefix: str = ""):
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError("the accurate model needs a fast tokenizer (offset mapping)")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.stride = stride
        self.prefix = prefix
        self.cls_id = _first_id(tokenizer, "cls_token_id", "bos_token_id")
        self.sep_id = _first_id(tokenizer, "sep_token_id", "eos_token_id")
        # "query: " alone would end in a lone space token; "query: text" has none: the text brings its own
        self.prefix_ids = tokenizer(prefix.strip(), add_special_tokens=False)["input_ids"] if prefix.strip() else []
        self.front = 1 + len(self.prefix_ids)  # positions before the content
        self.content = max_length - self.front - 1
        if self.content < 2 or not 0 <= stride < self.content:
            raise ValueError(f"max_length={max_length} leaves {self.content} content tokens: stride={stride} must be "
                             f"smaller than that")

    def __call__(self, texts: Sequence[str]) -> list[DocWindows]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                             verbose=False)
        return [self._cut(ids, offsets) for ids, offsets in zip(enc["input_ids"], enc["offset_mapping"])]

    def _cut(self, ids: list[int], offsets) -> DocWindows:
        n = len(ids)
        step = self.content - self.stride
        starts = [0]
        while starts[-1] + self.content < n:
            starts.append(starts[-1] + step)
        ends = [min(s + self.content, n) for s in starts]
        # a token belongs to the window where it is farthest from an edge: split each overlap in its middle
        owned = [0] + [(starts[k + 1] + ends[k]) // 2 for k in range(len(starts) - 1)] + [n]
        windows, token_window, token_position = [], np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        for k, (s, e) in enumerate(zip(starts, ends)):
            windows.append([self.cls_id, *self.prefix_ids, *ids[s:e], self.sep_id])
            lo, hi = owned[k], owned[k + 1]
            token_window[lo:hi] = k
            token_position[lo:hi] = self.front + np.arange(lo, hi) - s
        return DocWindows(windows, np.asarray(offsets, dtype=np.int64).reshape(n, 2), token_window, token_position)


def token_sentences(offsets: np.ndarray, sentences: Sequence[tuple[int, int]]) -> np.ndarray:
    """For each token, the index of the sentence holding it, or -1 (between sentences, or no characters).

    A token is placed by its last character: subword tokens may start on the space before a word.
    """
    out = np.full(len(offsets), -1, dtype=np.int64)
    if not len(offsets) or not sentences:
        return out
    starts = np.array([s for s, _ in sentences])
    ends = np.array([e for _, e in sentences])
    anchor = offsets[:, 1] - 1
    k = np.searchsorted(starts, anchor, side="right") - 1
    inside = (k >= 0) & (offsets[:, 1] > offsets[:, 0])
    inside[inside] &= anchor[inside] < ends[k[inside]]
    out[inside] = k[inside]
    return out


def _first_id(tokenizer, *names: str) -> int:
    for name in names:
        value = getattr(tokenizer, name, None)
        if value is not None:
            return int(value)
    raise ValueError(f"the tokenizer has none of {names}")
