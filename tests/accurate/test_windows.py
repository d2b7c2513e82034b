import numpy as np
from transformers import AutoTokenizer

from spplus_nlp.accurate.windows import Windower, token_sentences


def _windower(base, max_length=16, stride=4, prefix="query: "):
    return Windower(AutoTokenizer.from_pretrained(base), max_length=max_length, stride=stride, prefix=prefix)


def test_long_text_is_covered_by_overlapping_windows(tiny_base):
    w = _windower(tiny_base)
    text = " ".join(["Mon dossier est bloqué depuis trois mois."] * 20)
    [doc] = w([text])
    assert len(doc.windows) > 3
    assert all(len(x) <= 16 for x in doc.windows)
    # every token owned by exactly one window, at the position that holds it
    ids = w.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert doc.n_tokens == len(ids)
    for i, (k, pos) in enumerate(zip(doc.token_window, doc.token_position)):
        assert doc.windows[k][pos] == ids[i]
    assert np.all(np.diff(doc.token_window) >= 0)
    # offsets point at the characters of each token, in order
    assert np.all(np.diff(doc.offsets[:, 0]) >= 0) and doc.offsets[-1, 1] <= len(text)
    for s, e in doc.offsets:
        assert text[s:e].strip() == text[s:e] and e > s


def test_windows_keep_special_tokens_and_prefix(tiny_base):
    w = _windower(tiny_base)
    [doc] = w(["Accueil parfait."])
    [window] = doc.windows
    assert window[0] == w.cls_id and window[-1] == w.sep_id
    assert window[1:1 + len(w.prefix_ids)] == w.prefix_ids
    assert all(p >= w.front for p in doc.token_position)


def test_empty_text_gives_one_window_and_no_tokens(tiny_base):
    [doc] = _windower(tiny_base)([""])
    assert doc.n_tokens == 0 and len(doc.windows) == 1


def test_stride_must_leave_room(tiny_base):
    import pytest

    with pytest.raises(ValueError):
        _windower(tiny_base, max_length=8, stride=8)


def test_tokens_map_to_their_sentences():
    offsets = np.array([[0, 3], [4, 8], [8, 9], [10, 14], [15, 15], [20, 25]])
    sentences = [(0, 9), (10, 18)]
    assert token_sentences(offsets, sentences).tolist() == [0, 0, 0, 1, -1, -1]
    assert token_sentences(offsets, []).tolist() == [-1] * 6
