import torch

from spplus_nlp.accurate.heads import TAG_VALUES, Heads
from spplus_nlp.taxonomy import ENGAGEMENT_IDS, PLATFORM_TAGS, POLARITIES, SENTIMENTS, SUGGESTION_TARGETS


def test_head_shapes():
    heads = Heads(hidden_size=16, n_cues=5).eval()
    docs, sents, cues = torch.randn(3, 16), torch.randn(7, 16), torch.zeros(7, 5)
    out = heads(docs, sents, cues)
    assert out["sentiment"].shape == (3, len(SENTIMENTS))
    assert out["engagement"].shape == (3, len(ENGAGEMENT_IDS))
    assert out["tags"].shape == (3, len(PLATFORM_TAGS), len(TAG_VALUES))
    assert out["evidence"].shape == (7, len(ENGAGEMENT_IDS))
    assert out["suggestion"].shape == (7,)
    assert out["target"].shape == (7, len(SUGGESTION_TARGETS))
    assert heads.polarity_logits(docs, docs).shape == (3, len(ENGAGEMENT_IDS), len(POLARITIES))


def test_heads_accept_documents_without_sentences():
    out = Heads(hidden_size=8).eval()(torch.randn(2, 8), torch.zeros(0, 8))
    assert out["evidence"].shape == (0, len(ENGAGEMENT_IDS)) and out["suggestion"].shape == (0,)
