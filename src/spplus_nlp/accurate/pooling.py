"""From window token states to one vector per document and per sentence (mean pooling), and CPU-friendly batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch

from .windows import DocWindows, token_sentences


@dataclass(frozen=True)
class DocPlan:
    """One text ready for the encoder: its windows, its sentences and which sentence each token is in."""

    windows: DocWindows
    sentences: list[tuple[int, int]]
    token_sentence: np.ndarray

    @property
    def n_windows(self) -> int:
        return len(self.windows.windows)

    @property
    def n_tokens(self) -> int:
        return sum(len(w) for w in self.windows.windows)


def make_plans(windower, texts: Sequence[str], sentences: Sequence[list[tuple[int, int]]]) -> list[DocPlan]:
    return [DocPlan(w, list(s), token_sentences(w.offsets, s)) for w, s in zip(windower(texts), sentences)]


def pad(windows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(w) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for i, w in enumerate(windows):
        ids[i, :len(w)] = torch.tensor(w, dtype=torch.long)
        mask[i, :len(w)] = 1
    return ids, mask


def length_batches(plans: Sequence[DocPlan], max_tokens: int, order: np.ndarray | None = None) -> Iterator[list[int]]:
    """Document indices in batches of at most ``max_tokens`` padded tokens, documents of similar length together.

    ``order`` (a permutation) replaces the length order, e.g. a noisy one for training; a document longer than the
    budget gets a batch of its own.
    """
    if order is None:
        order = np.argsort([p.n_tokens for p in plans], kind="stable")
    batch, width, rows = [], 0, 0
    for d in order:
        p = plans[d]
        w = max(len(x) for x in p.windows.windows)
        if batch and max(width, w) * (rows + p.n_windows) > max_tokens:
            yield batch
            batch, width, rows = [], 0, 0
        batch.append(int(d))
        width, rows = max(width, w), rows + p.n_windows
    if batch:
        yield batch


def pool(states: torch.Tensor, plans: Sequence[DocPlan]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of owned token states: (W, T, H) states of the plans' windows, stacked in order ->
    documents (D, H) and sentences (S, H), sentences of all documents in order. A unit without tokens gets zeros."""
    n_win, width, hidden = states.shape
    flat = states.reshape(n_win * width, hidden)
    rows, units, n_sent, first = [], [], 0, 0
    n_docs = len(plans)
    for d, p in enumerate(plans):
        w = p.windows
        pos = (first + w.token_window) * width + w.token_position
        rows.append(pos)
        units.append(np.full(len(pos), d))
        has = p.token_sentence >= 0
        rows.append(pos[has])
        units.append(n_docs + n_sent + p.token_sentence[has])
        n_sent += len(p.sentences)
        first += p.n_windows
    rows_t = torch.from_numpy(np.concatenate(rows)).long().to(states.device)
    units_t = torch.from_numpy(np.concatenate(units)).long().to(states.device)
    sums = flat.new_zeros(n_docs + n_sent, hidden).index_add_(0, units_t, flat[rows_t])
    counts = torch.bincount(units_t, minlength=n_docs + n_sent).clamp(min=1).to(flat.dtype)
    means = sums / counts.unsqueeze(1)
    return means[:n_docs], means[n_docs:]


def pad_states(window_states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens, H) states of windows (as the training cache keeps them) -> padded (W, T, H) states and their mask."""
    width = max(len(s) for s in window_states)
    states = window_states[0].new_zeros(len(window_states), width, window_states[0].shape[-1])
    mask = torch.zeros(len(window_states), width, dtype=torch.long)
    for i, s in enumerate(window_states):
        states[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return states, mask


def sentence_means(window_states: Sequence[torch.Tensor], plan: DocPlan) -> torch.Tensor:
    """(S, H) sentence means of one document from its windows' states."""
    return pool(pad_states(window_states)[0], [plan])[1]
