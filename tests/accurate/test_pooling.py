import numpy as np
import pytest
import torch

from spplus_nlp.accurate.pooling import DocPlan, length_batches, pool, sentence_means
from spplus_nlp.accurate.windows import DocWindows


def _plan(n_windows, token_window, token_position, token_sentence, n_sentences):
    windows = DocWindows([[0] * 4] * n_windows, np.zeros((len(token_window), 2), dtype=np.int64),
                         np.array(token_window), np.array(token_position))
    return DocPlan(windows, [(0, 1)] * n_sentences, np.array(token_sentence))


def test_pool_means_owned_states_per_document_and_sentence():
    states = torch.arange(3 * 4 * 1, dtype=torch.float32).reshape(3, 4, 1)  # 3 windows of 4 positions
    a = _plan(2, [0, 0, 1], [1, 2, 1], [0, 1, 1], 2)  # windows 0 and 1
    b = _plan(1, [0, 0], [1, 2], [-1, 0], 1)  # window 2
    docs, sents = pool(states, [a, b])
    assert docs[:, 0].tolist() == pytest.approx([(1 + 2 + 5) / 3, (9 + 10) / 2])
    assert sents[:, 0].tolist() == pytest.approx([1, (2 + 5) / 2, 10])


def test_pool_gives_zeros_to_a_unit_without_tokens():
    docs, sents = pool(torch.ones(1, 3, 2), [_plan(1, [], [], [], 1)])
    assert docs.abs().sum() == 0 and sents.abs().sum() == 0


def test_length_batches_cover_every_document_once_within_budget():
    plans = [_plan(1 + (i % 3), [], [], [], 0) for i in range(10)]
    batches = list(length_batches(plans, max_tokens=12))
    assert sorted(d for b in batches for d in b) == list(range(10))
    for b in batches:
        assert sum(plans[d].n_windows for d in b) * 4 <= 12


def test_sentence_means_pool_one_document_from_unpadded_windows():
    plan = _plan(2, [0, 0, 1], [1, 2, 1], [0, 1, 1], 2)
    padded = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    windows = [padded[0, :3], padded[1, :2]]  # as the training cache keeps them: each window's own tokens
    assert torch.equal(sentence_means(windows, plan), pool(padded, [plan])[1])
