"""Training the accurate model cheaply on CPU, and measuring it.

The embeddings and lower layers are frozen, so their output for a window never changes: it is computed once
(:class:`LowerCache`) and every epoch only runs the top layers and the heads. After training, the dev set fits the
calibration (temperature for sentiment, Platt per binary head) and the per-label thresholds.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from datasets import Dataset

from .. import __version__
from ..corpora import is_supplement, kfold, train_dev_split
from ..evaluation import evaluate, to_markdown
from ..language import segment_sentences
from ..taxonomy import ENGAGEMENT_IDS
from ..suggestions.spans import narrow
from .calibration import (MIN_POSITIVES, THRESHOLD_GRID, best_threshold, fit_platt, fit_temperature,
                          platt, softmax_t)
from .model import AccurateModel, cue_matrix, resolve_base
from .pooling import DocPlan, length_batches, make_plans, pad, pad_states, pool, sentence_means
from .smoothing import calibration_texts, input_maxima
from .stacking import fit_fast, fit_mix_temperature
from .targets import IGNORE, Targets, make_targets

log = logging.getLogger(__name__)


class LowerCache:
    """Frozen states per text (one tensor per window), shared by the fits of a cross-validation: the lower layers'
    (the fine-tuned layers' input) and those the stacked fast model reads (``Body.lower_and_frozen``; the same
    tensors when its depth is where fine-tuning starts)."""

    def __init__(self):
        self.key = None
        self.states: dict[str, list[torch.Tensor]] = {}
        self.frozen_states: dict[str, list[torch.Tensor]] = {}

    def get(self, model: AccurateModel, texts: Sequence[str], plans: Sequence[DocPlan]) -> list[list[torch.Tensor]]:
        w = model.windower_
        body = model.body_
        key = (model.base_["path"], model.base_["checksum"], body.split, body.frozen_layers, w.max_length, w.stride,
               w.prefix)
        if key != self.key:
            self.key, self.states, self.frozen_states = key, {}, {}
        todo = {t: p for t, p in zip(texts, plans) if t not in self.states}
        windows = [(t, i, ids) for t, p in todo.items() for i, ids in enumerate(p.windows.windows)]
        windows.sort(key=lambda x: len(x[2]))
        out: dict[str, list] = {t: [None] * p.n_windows for t, p in todo.items()}
        out_frozen: dict[str, list] = {t: [None] * p.n_windows for t, p in todo.items()}
        pad_id = model.tokenizer_.pad_token_id or 0
        with torch.inference_mode():
            for batch in _window_batches([len(x[2]) for x in windows], model.batch_tokens):
                ids, mask = pad([windows[b][2] for b in batch], pad_id)
                states, frozen = body.lower_and_frozen(ids, mask)
                for row, b in enumerate(batch):
                    t, i, x = windows[b]
                    out[t][i] = states[row, :len(x)].clone()
                    out_frozen[t][i] = out[t][i] if frozen is states else frozen[row, :len(x)].clone()
        self.states.update(out)
        self.frozen_states.update(out_frozen)
        return [self.states[t] for t in texts]

    def frozen(self, texts: Sequence[str]) -> list[list[torch.Tensor]]:
        """The states the stacked fast model reads, for texts already through ``get``."""
        return [self.frozen_states[t] for t in texts]


class _Docs:
    """A set of records prepared for training: plans, targets, cue features, lower states."""

    def __init__(self, model: AccurateModel, records: Sequence[dict], cache: LowerCache):
        self.records = list(records)
        texts = [r["text"] for r in self.records]
        self.plans = make_plans(model.windower_, texts, list(segment_sentences(texts)))
        self.targets = [make_targets(r, p.sentences) for r, p in zip(self.records, self.plans)]
        self.cues = [cue_matrix([t], [p]) for t, p in zip(texts, self.plans)]
        self.lower = cache.get(model, texts, self.plans)
        self.frozen = cache.frozen(texts)

    def __len__(self) -> int:
        return len(self.records)


class Trainer:
    def __init__(self, model: AccurateModel, cache: LowerCache | None = None):
        self.model = model
        self.cache = cache if cache is not None else LowerCache()

    def fit(self, examples: list[dict], dev: list[dict] | None = None) -> AccurateModel:
        m = self.model
        start = time.time()
        m._build(resolve_base(m.base_model))
        m._default_calibration()
        if dev is None:
            examples, dev = split(examples, m.dev_fraction, m.random_state)
        train_docs, dev_docs = _Docs(m, examples, self.cache), _Docs(m, dev, self.cache)
        log.info("frozen states ready in %.0f s (%d train, %d dev texts)", time.time() - start, len(examples),
                 len(dev))
        m.history_ = self._train(train_docs)
        _round_to_fp16(m)  # the model in memory predicts exactly like the saved one
        dev_sentiment = self._calibrate(dev_docs)
        if m.stack_fast:
            t0 = time.time()
            frozen = None
            if m.stack_frozen_sentences:
                frozen = [sentence_means(states, plan).float().numpy() for part in (train_docs, dev_docs)
                          for states, plan in zip(part.frozen, part.plans)]
            sentences = [p.sentences for part in (train_docs, dev_docs) for p in part.plans]
            m.fast_, fast_dev = fit_fast(examples, dev, m.random_state, sentence_vectors=frozen, sentences=sentences)
            m.mix_temperature_ = fit_mix_temperature(dev_sentiment, fast_dev, [r.get("sentiment") for r in dev])
            log.info("fast model stacked in %.0f s", time.time() - t0)
        m.engagement_support_ = {lab: int(sum(t.engagements[j] for t in train_docs.targets if t.annotated))
                                 for j, lab in enumerate(ENGAGEMENT_IDS)}
        # what int8 smoothing needs, read on the finished model (fp16-rounded, as saved)
        texts = calibration_texts(examples, m.random_state)
        m.ffn_input_max_ = input_maxima(m.body_, lambda: m.predict(texts))
        m.n_train_, m.n_dev_ = len(examples), len(dev)
        m.training_seconds_ = time.time() - start
        return m

    def _train(self, docs: _Docs) -> list[float]:
        m = self.model
        torch.manual_seed(m.random_state)
        rng = np.random.default_rng(m.random_state)
        top = [p for p in m.body_.top.parameters()]
        optimizer = torch.optim.AdamW([{"params": top, "lr": m.lr}, {"params": m.heads_.parameters(), "lr": m.head_lr}],
                                      weight_decay=m.weight_decay)
        lengths = np.array([p.n_tokens for p in docs.plans], dtype=float)
        n_steps = m.epochs * sum(1 for _ in length_batches(docs.plans, m.batch_tokens))
        warmup = max(1, n_steps // 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (n_steps - s) / max(1, n_steps - warmup))))
        history = []
        m.body_.top.train()
        m.heads_.train()
        for epoch in range(m.epochs):
            # similar lengths together (little padding), in a new order every epoch
            order = np.argsort(lengths * rng.uniform(0.8, 1.25, len(lengths)), kind="stable")
            batches = list(length_batches(docs.plans, m.batch_tokens, order))
            rng.shuffle(batches)
            total, t0 = 0.0, time.time()
            for batch in batches:
                loss = _loss(m, self._forward(docs, batch), [docs.targets[d] for d in batch])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(top + list(m.heads_.parameters()), 1.0)
                optimizer.step()
                schedule.step()
                total += float(loss.detach())
            history.append(total / max(1, len(batches)))
            log.info("epoch %d: loss %.4f (%.0f s)", epoch + 1, history[-1], time.time() - t0)
        m.body_.top.eval()
        m.heads_.eval()
        return history

    def _forward(self, docs: _Docs, batch: list[int]) -> dict:
        m = self.model
        x, mask = pad_states([s for d in batch for s in docs.lower[d]])
        doc_v, sent_v = pool(m.body_.upper(x, mask), [docs.plans[d] for d in batch])
        out = m.heads_(doc_v, sent_v, torch.cat([docs.cues[d] for d in batch]))
        out["docs"], out["sentences"] = doc_v, sent_v
        return out

    def _calibrate(self, docs: _Docs) -> np.ndarray:
        """Dev logits -> temperature, Platt (a, b) per binary head, thresholds on calibrated probabilities.

        Returns the calibrated dev sentiment probabilities, in ``docs`` order.
        """
        m = self.model
        parts = []
        with torch.inference_mode():
            for batch in length_batches(docs.plans, m.batch_tokens):
                out = self._forward(docs, batch)
                parts.append((batch, out["sentiment"].numpy(), out["engagement"].numpy(), out["suggestion"].numpy()))
        order = [d for batch, *_ in parts for d in batch]
        targets = [docs.targets[d] for d in order]
        sentiment = np.concatenate([p[1] for p in parts])
        engagement = np.concatenate([p[2] for p in parts])
        suggestion = np.concatenate([p[3] for p in parts])

        y = np.array([t.sentiment for t in targets])
        m.temperature_ = fit_temperature(sentiment[y != IGNORE], y[y != IGNORE])
        annotated = np.array([t.annotated for t in targets])
        Y = np.array([t.engagements for t in targets]).reshape(len(targets), len(ENGAGEMENT_IDS))[annotated]
        for j, lab in enumerate(ENGAGEMENT_IDS):
            ab = fit_platt(engagement[annotated, j], Y[:, j])
            m.engagement_calibration_[lab] = ab
            m.thresholds_[lab] = best_threshold(Y[:, j], platt(engagement[annotated, j], ab))
        ys = np.concatenate([t.suggestion for t in targets]) if targets else np.zeros(0)
        keep = ys != IGNORE
        m.suggestion_calibration_ = fit_platt(suggestion[keep], ys[keep])
        m.suggestion_threshold_ = _span_threshold([docs.records[d] for d in order], [docs.plans[d] for d in order],
                                                  platt(suggestion, m.suggestion_calibration_))
        proba = np.zeros((len(docs), sentiment.shape[1]))
        proba[order] = softmax_t(sentiment, m.temperature_)
        return proba


def _span_threshold(records: list[dict], plans: list[DocPlan], p: np.ndarray) -> float:
    """The suggestion threshold with the best dev F1 on what is measured: predicted spans overlapping gold spans.

    A sentence-level threshold counts a long suggestion over two sentences twice and a sentence holding two
    suggestions once; span F1 does not.
    """
    spans = [narrow(r["text"], s, e) for r, plan in zip(records, plans) for s, e in plan.sentences]
    gold = [[(g["start"], g["end"]) for g in r["suggestions"]] if r.get("annotated", True) else None for r in records]
    if sum(len(g) for g in gold if g) < MIN_POSITIVES:
        return 0.5
    doc_of = np.repeat(np.arange(len(records)), [len(plan.sentences) for plan in plans])
    best, best_f1 = 0.5, -1.0
    for t in THRESHOLD_GRID:
        n_pred = tp_pred = n_gold = tp_gold = 0
        for d, g in enumerate(gold):
            if g is None:
                continue
            pred = [spans[k] for k in np.flatnonzero((doc_of == d) & (p >= t))]
            n_pred, n_gold = n_pred + len(pred), n_gold + len(g)
            tp_pred += sum(any(_overlaps(x, y) for y in g) for x in pred)
            tp_gold += sum(any(_overlaps(y, x) for x in pred) for y in g)
        precision, recall = tp_pred / max(n_pred, 1), tp_gold / max(n_gold, 1)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return min(a[1], b[1]) > max(a[0], b[0])  # the evaluation's overlap match


def _loss(m: AccurateModel, out: dict, targets: list[Targets]) -> torch.Tensor:
    """The sum of the heads' losses; a target marked IGNORE does not count."""
    terms = []
    y = torch.tensor([t.sentiment for t in targets])
    if (y != IGNORE).any():
        terms.append(F.cross_entropy(out["sentiment"], y, ignore_index=IGNORE))
    annotated = torch.tensor([t.annotated for t in targets])
    if annotated.any():
        Y = torch.from_numpy(np.stack([t.engagements for t in targets]))
        terms.append(F.binary_cross_entropy_with_logits(out["engagement"][annotated], Y[annotated]))
    w = m.sentence_pos_weight
    terms += _masked_bce(out["evidence"], torch.from_numpy(np.concatenate([t.evidence for t in targets])), w)
    terms += _masked_bce(out["suggestion"], torch.from_numpy(np.concatenate([t.suggestion for t in targets])), w)
    tags = torch.from_numpy(np.stack([t.tags for t in targets]))
    if (tags != IGNORE).any():
        terms.append(F.cross_entropy(out["tags"].reshape(-1, out["tags"].shape[-1]), tags.reshape(-1),
                                     ignore_index=IGNORE))
    target = torch.from_numpy(np.concatenate([t.target for t in targets]))
    if (target != IGNORE).any():
        terms.append(F.cross_entropy(out["target"], target, ignore_index=IGNORE))
    # polarity reads the gold evidence sentence (the document itself when the evidence is in none)
    first = np.cumsum([0] + [len(t.suggestion) for t in targets])
    pol = [(d, j, c, first[d] + k if k != IGNORE else -1) for d, t in enumerate(targets) for j, c, k in t.polarity]
    if pol:
        d, j, c, k = (torch.tensor(x) for x in zip(*pol))
        evidence = torch.where((k >= 0).unsqueeze(1), out["sentences"][k.clamp(min=0)], out["docs"][d]) \
            if len(out["sentences"]) else out["docs"][d]
        logits = m.heads_.polarity_logits(out["docs"][d], evidence)[torch.arange(len(d)), j]
        terms.append(F.cross_entropy(logits, c))
    return torch.stack(terms).sum()


def _masked_bce(logits: torch.Tensor, y: torch.Tensor, pos_weight: float = 1.0) -> list[torch.Tensor]:
    keep = y != IGNORE
    if not keep.any():
        return []
    return [F.binary_cross_entropy_with_logits(logits[keep], y[keep], pos_weight=torch.tensor(pos_weight))]


def _round_to_fp16(m: AccurateModel) -> None:
    with torch.no_grad():
        for p in list(m.body_.top.parameters()) + list(m.heads_.parameters()):
            p.copy_(p.half().float())


def _window_batches(lengths: Sequence[int], max_tokens: int):
    """Consecutive index batches of length-sorted windows, at most ``max_tokens`` padded tokens each."""
    batch = []
    for i, n in enumerate(lengths):
        if batch and n * (len(batch) + 1) > max_tokens:
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def split(records: list[dict], dev_fraction: float = 0.2, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """The corpus' deterministic train/dev split of the real rows; supplement rows always train."""
    real = [i for i, r in enumerate(records) if not is_supplement(r)]
    extra = [r for r in records if is_supplement(r)]
    index = Dataset.from_dict({"i": real, "sentiment": [records[i]["sentiment"] for i in real]})
    parts = train_dev_split(index, dev_fraction=dev_fraction, seed=seed)
    return [records[i] for i in parts["train"]["i"]] + extra, [records[i] for i in parts["dev"]["i"]]


# ------------------------------------------------------------------ corpus level
def train(corpus: Dataset, cache: LowerCache | None = None, **params) -> tuple[AccurateModel, dict]:
    """Fit on the corpus' train split (+ supplement), calibrate on its dev split; return the model and dev figures."""
    train_records, dev_records = split(corpus.to_list(), params.get("dev_fraction", 0.2),
                                       params.get("random_state", 0))
    model = AccurateModel(**params).fit(train_records, dev_records, cache=cache)
    return model, evaluate(dev_records, model.predict([r["text"] for r in dev_records]))


def cross_validate(corpus: Dataset, k: int = 5, seed: int = 0, cache: LowerCache | None = None,
                   **params) -> tuple[dict, list]:
    """k-fold figures on the real data; in each fold a dev split of the training part calibrates."""
    cache = cache if cache is not None else LowerCache()
    records = corpus.to_list()
    real = [i for i, r in enumerate(records) if not is_supplement(r)]
    extra = [r for r in records if is_supplement(r)]
    predictions = [None] * len(real)
    for fold, (train_idx, test_idx) in enumerate(kfold(corpus.select(real), k=k, seed=seed)):
        fit_on, dev = split([records[real[i]] for i in train_idx], params.get("dev_fraction", 0.2),
                            params.get("random_state", 0))
        model = AccurateModel(**params).fit(fit_on + extra, dev, cache=cache)
        for i, analysis in zip(test_idx, model.predict([records[real[i]]["text"] for i in test_idx])):
            predictions[i] = analysis
        log.info("fold %d/%d done", fold + 1, k)
    return evaluate([records[i] for i in real], predictions), predictions


def write_model_card(path: Path, model: AccurateModel, corpus: Dataset, dev_report: dict,
                     cv_report: dict | None, command: str, extra: str = "") -> None:
    n_supp = sum(map(is_supplement, corpus))
    params = model.get_params()
    base = model.base_
    card = [
        f"# spplus_nlp accurate model — v{__version__}",
        "",
        f"Trained {dt.date.today().isoformat()} in {model.training_seconds_:.0f} s on CPU "
        f"({torch.get_num_threads()} threads), with `{command}`.",
        f"Parameters: `{json.dumps(params, ensure_ascii=False)}`.",
        "",
        "## What it is",
        f"Encoder: {base['description']} ({base['num_hidden_layers']} layers, hidden size {base['hidden_size']}), "
        f"checksum of its CHECKSUMS.json `{base['checksum']}`. The embeddings and the lower layers are frozen; the top "
        f"{params['top_layers']} layers and linear heads are fine-tuned. Texts are read in windows of "
        f"{params['max_length']} tokens overlapping by {params['stride']} (never truncated), prefixed with "
        f"`{params['prefix']}`; token states are mean-pooled per spaCy sentence and per document.",
        "Heads: sentiment (3 classes, temperature-scaled on dev), engagements E1–E8 (document, Platt-scaled on dev, "
        "threshold per label tuned on dev), evidence (sentence-level engagement logits, trained on the gold evidence "
        "sentences; the evidence is the best sentence), polarity per engagement ([document; evidence sentence]), the "
        "platform's five tags (auxiliary, absent/positif/neutre/négatif), suggestion sentences (with the French cue "
        "phrases; the span is narrowed to the proposal's clause) and the engagement a suggestion improves.",
        "",
        *(["Stacked with a fast model (`fast/`, trained on the same rows, dev included): engagements, their evidence "
           "and suggestions are the fast model's (an evidence sentence of more than 25 words cut to its best clause "
           "of 3 to 25 words), each engagement's polarity is read by the encoder's polarity head on the sentence "
           "holding that evidence, the engagement each suggestion would improve by the encoder's target head on the "
           "sentence holding it, and the sentiment is the normalised geometric mean of both models' probabilities, "
           "its temperature fitted on the dev split (the encoder's dev probabilities with the fast model's "
           "out-of-fold ones). The encoder's own engagement, evidence and suggestion heads still train (multi-task) "
           "and serve when `stack_fast=False`." + (
               f" The fast model's engagements and suggestions also read the base encoder's frozen states after "
               f"{model.body_.frozen_layers} of its layers" + (
                   " (those past the fine-tuned layers' start run once more, untrained, next to the fine-tuned ones)"
                   if model.body_.frozen_layers > model.body_.split else "") + ": each "
               "sentence's mean state feeds one more sentence head per engagement, stacked with its "
               "n-gram document and sentence heads, and one more suggestion-sentence head, mixed with the n-gram "
               "and cue head (`stack_frozen_sentences`); its sentiment head reads each document's mean of those "
               "states next to its n-grams." if params.get("stack_frozen_sentences") else ""), ""]
          if params.get("stack_fast") else []),
        "This directory holds only what was trained (`model.safetensors`, fp16; the stacked fast model in `fast/`; "
        "`int8_smoothing.safetensors`, the channel maxima `quantize=True` smooths with) and "
        "`config.json`; loading adds it to the base encoder (`spplus_nlp.encoder.convert.base_model_dir()`, or the local base recorded in config.json).",
        "",
        "## Training data",
        f"- {len(corpus)} experiences: the real SP+ export in `shared/data/spplus` with the project's annotation, and "
        f"{n_supp} team-written supplement rows (`corpora/supplement`, training only). Train/dev split of the real "
        f"rows: `spplus_nlp.corpora.train_dev_split` (dev fraction {params['dev_fraction']}, seed "
        f"{params['random_state']}): {model.n_train_} training rows (supplement included), {model.n_dev_} dev rows.",
        "",
        "## Dev-split figures (real data; calibration and thresholds were tuned on this same dev split, so they are "
        "slightly optimistic)",
        "",
        *(["The stacked fast model trained on the dev rows too: its engagements, evidence and suggestions, and its "
           "half of the sentiment, are in-sample here, so these figures overstate the model. Read the "
           "cross-validated figures below.", ""] if params.get("stack_fast") else []),
        to_markdown(dev_report, title="Dev").split("\n", 2)[2],
    ]
    if cv_report:
        card += ["## Cross-validated figures (5-fold, real data only; supplement rows only in training folds; "
                 "each fold calibrated on a dev split of its training part)", "",
                 to_markdown(cv_report, title="Cross-validation").split("\n", 2)[2]]
    if extra:
        card += [extra, ""]
    card += [
        "## Limits",
        "- Sentiment is the author's own rating, which is noisy for `neutre`.",
        "- Length is a cue the models learnt: in the real export, texts under 300 characters are 56 % `positif` and 16 % `négatif` (over 600 characters: 15 % and 57 %), so a short complaint can come out `neutre` or `positif`.",
        "- Evidence is a whole sentence, sometimes longer than the guideline's 25 words.",
        ("- Engagement scores and thresholds are the stacked fast model's (sigmoid-calibrated, thresholds tuned on "
         "its out-of-fold predictions; a label with fewer than 10 positives keeps an uncalibrated score and a 0.5 "
         "threshold, one with fewer than 2 is never predicted); E6 is learnt almost only from the supplement." if params.get("stack_fast") else
         "- Labels with fewer than 5 dev positives keep an uncalibrated score and a 0.5 threshold (see "
         "`engagement_support` and `thresholds` in config.json); E6 is learnt almost only from the supplement."),
        "- Needs the base encoder at load time (not stored here)" + (
            "; `fast/` is a joblib pickle tied to the scikit-learn version it was trained with." if
            params.get("stack_fast") else "."),
    ]
    (path / "MODEL_CARD.md").write_text("\n".join(card) + "\n", encoding="utf-8")


def train_and_save(corpus: Dataset, out: Path, cv_folds: int = 0, command: str = "", **params) -> dict:
    """Train, write the model directory (weights, config.json, dev/cv reports, MODEL_CARD.md); return dev figures."""
    cache = LowerCache()
    model, dev_report = train(corpus, cache=cache, **params)
    cv_report = cross_validate(corpus, k=cv_folds, cache=cache, **params)[0] if cv_folds > 1 else None
    out = Path(out)
    model.save(out, metadata={"trained": dt.date.today().isoformat(), "n_train": model.n_train_,
                              "n_dev": model.n_dev_, "training_seconds": round(model.training_seconds_, 1),
                              "loss_history": [round(x, 4) for x in model.history_]})
    (out / "dev_report.json").write_text(json.dumps(dev_report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if cv_report:
        (out / "cv_report.json").write_text(json.dumps(cv_report, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
    write_model_card(out, model, corpus, dev_report, cv_report,
                     command or f"spplus-nlp train --kind accurate --out {out}")
    return {"dev": dev_report, "cv": cv_report, "training_seconds": model.training_seconds_}
