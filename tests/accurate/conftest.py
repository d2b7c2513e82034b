"""A tiny random BERT encoder and WordPiece tokenizer, built offline: the accurate model's code runs on any base."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch


def _root_conftest():
    """tests/conftest.py as a module: both conftests are named "conftest", so a plain import finds this one."""
    name = "_spplus_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "conftest.py")
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


toy_examples = _root_conftest().toy_examples


def build_tiny_base(path, seed: int = 0):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    corpus = [ex["text"] for ex in toy_examples(1)] + ["query: il faudrait pourquoi ne pas ce serait bien"]
    tok.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                                   pad_token="[PAD]", mask_token="[MASK]")
    fast.save_pretrained(path)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    return build_tiny_base(tmp_path_factory.mktemp("tiny_base"))


@pytest.fixture(scope="session")
def tiny_accurate(tiny_base):
    from spplus_nlp.accurate import AccurateModel

    # 4 repeats: E2 and E5 have 12 evidence sentences each, enough for the fast part's sentence heads (n-gram and
    # frozen-vector ones)
    return AccurateModel(base_model=str(tiny_base), top_layers=1, max_length=24, stride=6, epochs=2,
                         batch_tokens=512).fit(toy_examples(4))
