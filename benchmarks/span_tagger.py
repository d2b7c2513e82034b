"""Suggestion spans read off the encoder's tokens (B/I/O tagging), cross-validated, prepared here and run on a GPU.

The accurate model finds suggestions sentence by sentence, then cuts the proposal's clause out of the sentence
(exact span F1 0.370 cross-validated; 0.51 even given the right sentence). This benchmark asks whether tagging the
encoder's tokens directly does better, and whether fine-tuning more of the encoder helps the sentiment, in the
accurate model's own 5 folds (``accurate.training.cross_validate``: same folds, same dev split in each).

- ``prepare`` (here, CPU): spaCy sentences and the model's windows for every corpus row (real + supplement), B/I/O
  token labels from the gold spans, the folds, and the base encoder packed as in ``accurate_gpu.py`` (4-bit, the
  vocabulary cut to the tokens these texts use). The real texts travel only as token ids; `.gpu/` is git-ignored.
- ``run`` (there): per configuration and fold, fine-tunes the encoder's top layers with a sentiment head (mean of
  the document's tokens) and a B/I/O head (each token), and keeps the dev and test rows' sentiment logits and token
  probabilities (`$OUT/<config>.npz`). Stops starting configurations after ``--budget-s``.
- ``score`` (here): decodes spans (threshold, gap and shortest span fitted on each fold's dev split), scores them with the project's
  suggestion metric, and the sentiment alone and mixed with the fast part's (``sentiment_mix.py``'s captured parts,
  same folds) as ``stacking.mixed_sentiment`` does.

Usage:
    python benchmarks/span_tagger.py prepare                                 # -> .gpu/span_carry.pkl
    python benchmarks/span_tagger.py run --out $OUT                          # on the GPU machine
    python benchmarks/span_tagger.py score --runs DIR                        # -> benchmarks/results/span_tagger.json
"""

from __future__ import annotations

import argparse
import copy
import json
import pickle
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

CARRY = Path(".gpu/span_carry.pkl")
O, B, I = 0, 1, 2
#: name -> fine-tuned top layers, encoder lr, head lr, epochs, B/I class weight, seed
CONFIGS = {
    "top4": dict(top_layers=4, lr=2e-4, head_lr=2e-3, epochs=6, span_weight=3.0, seed=0),
    "full": dict(top_layers=12, lr=5e-5, head_lr=2e-3, epochs=8, span_weight=3.0, seed=0),
    "full_lr1e-4": dict(top_layers=12, lr=1e-4, head_lr=2e-3, epochs=8, span_weight=3.0, seed=0),
    "top4_e10": dict(top_layers=4, lr=2e-4, head_lr=2e-3, epochs=10, span_weight=3.0, seed=0),
    "full_s1": dict(top_layers=12, lr=5e-5, head_lr=2e-3, epochs=8, span_weight=3.0, seed=1),
    "full_s2": dict(top_layers=12, lr=5e-5, head_lr=2e-3, epochs=8, span_weight=3.0, seed=2),
    "full_w1": dict(top_layers=12, lr=5e-5, head_lr=2e-3, epochs=8, span_weight=1.0, seed=0),
}


# ------------------------------------------------------------------------------------------------ prepare (here)
def token_labels(offsets: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """B/I/O per token: a token is in a span when it shares a character with it."""
    y = np.full(len(offsets), O, dtype=np.int8)
    for s, e in sorted(spans):
        inside = np.flatnonzero((offsets[:, 1] > s) & (offsets[:, 0] < e) & (offsets[:, 1] > offsets[:, 0]))
        if len(inside):
            y[inside] = I
            y[inside[0]] = B
    return y


def fold_indices(records: list[dict]) -> list[dict]:
    """The accurate model's cross-validation folds as row indices: fit (with the supplement), dev, test."""
    from datasets import Dataset

    from spplus_nlp.accurate.training import split
    from spplus_nlp.corpora import is_supplement, kfold

    index = {id(r): i for i, r in enumerate(records)}
    real = [i for i, r in enumerate(records) if not is_supplement(r)]
    extra = [i for i, r in enumerate(records) if is_supplement(r)]
    real_set = Dataset.from_dict({"sentiment": [records[i]["sentiment"] for i in real]})
    folds = []
    for train_idx, test_idx in kfold(real_set, k=5, seed=0):
        fit_on, dev = split([records[real[i]] for i in train_idx], 0.2, 0)
        folds.append({"fit": [index[id(r)] for r in fit_on] + extra, "dev": [index[id(r)] for r in dev],
                      "test": [real[i] for i in test_idx]})
    return folds


def prepare(args) -> None:
    from accurate_gpu import pack_base
    from transformers import AutoTokenizer

    from spplus_nlp.accurate.pooling import make_plans
    from spplus_nlp.accurate.windows import Windower
    from spplus_nlp.corpora import load_corpus
    from spplus_nlp.encoder.convert import base_model_dir
    from spplus_nlp.language import segment_sentences
    from spplus_nlp.taxonomy import SENTIMENTS

    records = load_corpus(include_supplement=True).to_list()
    texts = [r["text"] for r in records]
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    plans = make_plans(Windower(tokenizer, 256, 64, "query: "), texts, list(segment_sentences(texts)))
    m, new_id = pack_base(tokenizer, [w for p in plans for w in p.windows.windows])
    docs = []
    for r, p in zip(records, plans):
        spans = [(g["start"], g["end"]) for g in r["suggestions"]]
        docs.append({"windows": [new_id[w].tolist() for w in p.windows.windows],
                     "token_window": p.windows.token_window, "token_position": p.windows.token_position,
                     "sentiment": SENTIMENTS.index(r["sentiment"]) if r.get("sentiment") in SENTIMENTS else -1,
                     "labels": token_labels(p.windows.offsets, spans) if r["annotated"] else None})
    carry = {"m": m, "docs": docs, "folds": fold_indices(records)}
    args.carry.parent.mkdir(parents=True, exist_ok=True)
    with open(args.carry, "wb") as f:
        pickle.dump(carry, f, protocol=pickle.HIGHEST_PROTOCOL)
    n_pos = sum(int((d["labels"] == B).sum()) for d in docs if d["labels"] is not None)
    print(f"{args.carry}: {args.carry.stat().st_size / 2**20:.1f} MiB, {len(docs)} rows, {n_pos} gold spans")


# --------------------------------------------------------------------------------------------------- run (there)
class Tagger(torch.nn.Module):
    def __init__(self, body, dropout: float = 0.1):
        super().__init__()
        self.body = body
        self.dropout = torch.nn.Dropout(dropout)
        self.sentiment = torch.nn.Linear(body.hidden_size, 3)
        self.bio = torch.nn.Linear(body.hidden_size, 3)

    def forward(self, ids, mask, docs):
        """-> sentiment logits (D, 3), B/I/O logits of the documents' owned tokens in order (T, 3)."""
        states = self.body(ids, mask)
        n_win, width, hidden = states.shape
        flat = states.reshape(n_win * width, hidden)
        rows, first = [], 0
        for d in docs:
            rows.append((first + d["token_window"]) * width + d["token_position"])
            first += len(d["windows"])
        counts = torch.tensor([len(r) for r in rows], device=states.device)
        rows_t = torch.from_numpy(np.concatenate(rows)).to(states.device)
        tokens = flat[rows_t]
        doc_of = torch.repeat_interleave(torch.arange(len(docs), device=states.device), counts)
        means = tokens.new_zeros(len(docs), hidden).index_add_(0, doc_of, tokens) / counts.clamp(min=1)[:, None]
        return self.sentiment(self.dropout(means)), self.bio(self.dropout(tokens))


def batches(docs: list[dict], idx: list[int], max_tokens: int, rng=None):
    """Index batches of similar length, as ``pooling.length_batches`` makes them (noisy order and shuffled batches
    when ``rng`` is given, as the CPU trainer does)."""
    from spplus_nlp.accurate.pooling import length_batches

    n = np.array([sum(len(w) for w in docs[i]["windows"]) for i in idx], dtype=float)
    order = np.asarray(idx)[np.argsort(n * (rng.uniform(0.8, 1.25, len(n)) if rng is not None else 1.0), kind="stable")]
    plans = {i: SimpleNamespace(windows=SimpleNamespace(windows=docs[i]["windows"]), n_windows=len(docs[i]["windows"]))
             for i in idx}
    out = list(length_batches(plans, max_tokens, order))
    if rng is not None:
        rng.shuffle(out)
    return out


def to_device(docs: list[dict], pad_id: int, device):
    from spplus_nlp.accurate.pooling import pad

    ids, mask = pad([w for d in docs for w in d["windows"]], pad_id)
    return ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)


def fit_fold(base, carry, fold: dict, cfg: dict, device, max_tokens: int) -> Tagger:
    from spplus_nlp.accurate.body import Body

    docs, pad_id = carry["docs"], carry["m"]["pad"]
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    model = Tagger(Body(copy.deepcopy(base), cfg["top_layers"])).to(device)
    top = list(model.body.top.parameters())
    heads = list(model.sentiment.parameters()) + list(model.bio.parameters())
    opt = torch.optim.AdamW([{"params": top, "lr": cfg["lr"]}, {"params": heads, "lr": cfg["head_lr"]}],
                            weight_decay=0.01)
    n_steps = cfg["epochs"] * len(batches(docs, fold["fit"], max_tokens))
    warmup = max(1, n_steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (n_steps - s) / max(1, n_steps - warmup))))
    weight = torch.tensor([1.0, cfg["span_weight"], cfg["span_weight"]], device=device)
    model.train()
    model.body.encoder.eval()  # the frozen layers run as at inference (the CPU trainer caches their output)
    model.body.top.train()
    for _ in range(cfg["epochs"]):
        for batch in batches(docs, fold["fit"], max_tokens, rng):
            bd = [docs[i] for i in batch]
            sent, bio = model(*to_device(bd, pad_id, device), bd)
            y = torch.tensor([d["sentiment"] for d in bd], device=device)
            loss = torch.nn.functional.cross_entropy(sent, y, ignore_index=-1) if (y >= 0).any() else sent.sum() * 0
            labels = np.concatenate([d["labels"] if d["labels"] is not None else
                                     np.full(len(d["token_window"]), -1, np.int8) for d in bd]).astype(np.int64)
            labels_t = torch.from_numpy(labels).to(device)
            if (labels_t >= 0).any():
                loss = loss + torch.nn.functional.cross_entropy(bio, labels_t, weight=weight, ignore_index=-1)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top + heads, 1.0)
            opt.step()
            sched.step()
    return model.eval()


def predict(model: Tagger, carry, idx: list[int], device, max_tokens: int) -> tuple[np.ndarray, list[np.ndarray]]:
    docs, pad_id = carry["docs"], carry["m"]["pad"]
    sentiment, bio = {}, {}
    with torch.inference_mode():
        for batch in batches(docs, idx, max_tokens):
            bd = [docs[i] for i in batch]
            s, t = model(*to_device(bd, pad_id, device), bd)
            t = torch.softmax(t.float(), -1).cpu().numpy()
            cut = np.cumsum([0] + [len(d["token_window"]) for d in bd])
            for k, i in enumerate(batch):
                sentiment[i], bio[i] = s[k].float().cpu().numpy(), t[cut[k]:cut[k + 1]].astype(np.float16)
    return np.stack([sentiment[i] for i in idx]), [bio[i] for i in idx]


def run(args) -> None:
    from accurate_gpu import load_base

    start = time.perf_counter()
    with open(args.carry, "rb") as f:
        carry = pickle.load(f)
    base = load_base(carry["m"])
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    folds = carry["folds"][:args.folds]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.configs:
        if time.perf_counter() - start > args.budget_s:
            print(f"{name}: skipped (budget)", flush=True)
            continue
        cfg = {**CONFIGS[name], **({"epochs": args.epochs} if args.epochs else {})}
        t0, saved = time.perf_counter(), {}
        for k, fold in enumerate(folds):
            fit = dict(fold, fit=fold["fit"][:args.limit] if args.limit else fold["fit"])
            model = fit_fold(base, carry, fit, cfg, device, args.max_tokens)
            for part in ("dev", "test"):
                idx = fold[part][:args.limit] if args.limit else fold[part]
                s, t = predict(model, carry, idx, device, args.max_tokens)
                saved[f"{part}_idx_{k}"], saved[f"{part}_sentiment_{k}"] = np.array(idx), s
                saved[f"{part}_lengths_{k}"] = np.array([len(x) for x in t])
                saved[f"{part}_bio_{k}"] = np.concatenate(t)
            del model
        np.savez_compressed(out / f"{name}.npz", config=json.dumps(cfg), **saved)
        print(f"{name}: {len(folds)} folds in {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


# ----------------------------------------------------------------------------------------------- score (here)
def decode(bio: np.ndarray, offsets: np.ndarray, text: str, threshold: float, gap: int = 0,
           min_tokens: int = 1) -> list[tuple[int, int]]:
    """Spans of tokens whose span probability (B + I) reaches ``threshold``: a run goes on over at most ``gap``
    tokens below it, a new span starts where B is likelier than I and than O, runs shorter than ``min_tokens`` are
    dropped; character spans without edge spaces, snapped out to whole words where they cut one."""
    p_in = bio[:, B] + bio[:, I]
    inside = (p_in >= threshold) & (offsets[:, 1] > offsets[:, 0])
    runs, cur, missed = [], None, 0
    for k in range(len(bio)):
        if inside[k]:
            if cur is not None and bio[k, B] > max(bio[k, I], bio[k, O]):
                runs.append(cur)
                cur = None
            cur = [k, k] if cur is None else [cur[0], k]
            missed = 0
        elif cur is not None:
            missed += 1
            if missed > gap:
                runs.append(cur)
                cur, missed = None, 0
    if cur is not None:
        runs.append(cur)
    out = []
    for a, b in runs:
        if b - a + 1 < min_tokens:
            continue
        s, e = int(offsets[a, 0]), int(offsets[b, 1])
        while s < e and text[s].isspace():  # a token's offsets may start on the space before its word
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        while 0 < s < e and text[s - 1].islower() and text[s].islower():  # a span starting mid-word
            s -= 1
        while s < e < len(text) and text[e - 1].islower() and text[e].islower():
            e += 1
        if e > s:
            out.append((s, e))
    return out


def span_scores(gold: list[dict], spans: list[list[tuple[int, int]]]) -> dict:
    from spplus_nlp.evaluation.metrics import suggestion_metrics

    predicted = [SimpleNamespace(suggestions=[SimpleNamespace(start=s, end=e) for s, e in x]) for x in spans]
    return suggestion_metrics(gold, predicted)


def score(args) -> None:
    from sklearn.metrics import f1_score
    from transformers import AutoTokenizer

    from spplus_nlp.accurate.calibration import fit_temperature, softmax_t
    from spplus_nlp.accurate.stacking import fit_mix_temperature, mixed_sentiment
    from spplus_nlp.accurate.windows import Windower
    from spplus_nlp.corpora import load_corpus
    from spplus_nlp.encoder.convert import base_model_dir
    from spplus_nlp.taxonomy import SENTIMENTS

    records = load_corpus(include_supplement=True).to_list()
    windower = Windower(AutoTokenizer.from_pretrained(base_model_dir()), 256, 64, "query: ")
    offsets = [w.offsets for w in windower([r["text"] for r in records])]
    y = np.array([SENTIMENTS.index(r["sentiment"]) if r.get("sentiment") in SENTIMENTS else -1 for r in records])
    parts = None
    if Path(args.parts).exists():
        with np.load(args.parts) as saved:
            parts = {k: saved[k] for k in saved.files}
    grid = [dict(threshold=t, gap=g, min_tokens=n) for t in np.round(np.arange(0.2, 0.91, 0.1), 2)
            for g in (0, 1, 2, 3) for n in (1, 3, 5)]
    results = {}
    for path in sorted(Path(args.runs).glob("*.npz")):
        with np.load(path) as z:
            run_ = {k: z[k] for k in z.files}
        n_folds = sum(k.startswith("test_idx_") for k in run_)
        spans, gold, thresholds = [], [], []
        sent_alone, sent_mixed, sent_y = [], [], []
        for k in range(n_folds):
            bio = {}
            for part in ("dev", "test"):
                idx, lengths = run_[f"{part}_idx_{k}"], run_[f"{part}_lengths_{k}"]
                bio[part] = dict(zip(idx, np.split(run_[f"{part}_bio_{k}"].astype(np.float32), np.cumsum(lengths)[:-1])))
            dev_gold = [records[i] for i in bio["dev"]]
            best = max(grid, key=lambda d: span_scores(
                dev_gold, [decode(p, offsets[i], records[i]["text"], **d) for i, p in bio["dev"].items()])["exact"]["f1"])
            thresholds.append(best)
            for i, p in bio["test"].items():
                gold.append(records[i])
                spans.append(decode(p, offsets[i], records[i]["text"], **best))
            dev_idx, test_idx = run_[f"dev_idx_{k}"], run_[f"test_idx_{k}"]
            temperature = fit_temperature(run_[f"dev_sentiment_{k}"], y[dev_idx])
            alone = softmax_t(run_[f"test_sentiment_{k}"], temperature)
            sent_alone.append(alone)
            sent_y.append(y[test_idx])
            if parts is not None and np.array_equal(parts[f"dev_y_{k}"], y[dev_idx]) \
                    and len(parts[f"test_fast_{k}"]) == len(test_idx):
                dev_p = softmax_t(run_[f"dev_sentiment_{k}"], temperature)
                mix_t = fit_mix_temperature(dev_p, parts[f"dev_fast_{k}"], [records[i]["sentiment"] for i in dev_idx])
                sent_mixed.append(mixed_sentiment(alone, parts[f"test_fast_{k}"], mix_t))
        yt = np.concatenate(sent_y)
        res = {"config": json.loads(str(run_["config"])), "folds": n_folds, "decoders_fitted_on_dev": thresholds,
               "suggestions": span_scores(gold, spans),
               "sentiment_macro_f1": float(f1_score(yt, np.concatenate(sent_alone).argmax(1), average="macro"))}
        if len(sent_mixed) == n_folds:
            res["sentiment_mixed_with_fast_macro_f1"] = float(f1_score(yt, np.concatenate(sent_mixed).argmax(1),
                                                                       average="macro"))
        results[path.stem] = res
        print(path.stem, json.dumps({k: v for k, v in res.items() if k != "config"}, default=float), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--carry", type=Path, default=CARRY)
    p = sub.add_parser("run")
    p.add_argument("--carry", type=Path, default=CARRY)
    p.add_argument("--out", default="build/span_tagger")
    p.add_argument("--device", default="cuda")
    p.add_argument("--configs", nargs="+", default=list(CONFIGS))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--max-tokens", type=int, default=8192)
    p.add_argument("--budget-s", type=float, default=300)
    p.add_argument("--epochs", type=int, default=0, help="override (a quick check)")
    p.add_argument("--limit", type=int, default=0, help="rows per part (a quick check)")
    p = sub.add_parser("score")
    p.add_argument("--runs", default="build/span_tagger")
    p.add_argument("--parts", default="build/sentiment_mix_parts.npz")
    p.add_argument("--out", default="benchmarks/results/span_tagger.json")
    args = ap.parse_args()
    {"prepare": prepare, "run": run, "score": score}[args.command](args)


if __name__ == "__main__":
    main()
