"""Where a suggestion starts and ends inside the sentence that holds it, learnt from the corpus's exact spans.

The guideline (§3) asks for "the smallest clause or sentence that states the proposal, without the surrounding
complaint". Which clause that is depends on words a fixed rule does not weigh well ("…, il faudrait …" starts a
span, "…, car …" ends one, a trailing "?" stays, a trailing full stop mostly goes), so two linear models score the
candidate boundaries of a sentence, every word start and every word end (with or without the punctuation that follows
it). A span is scored as log P(start) + log P(end) + log P(its length in words), the last from the gold spans' lengths,
and the best pair with the start before the end is the span: the two heads alone, blind to length, preferred running
on to the end of the sentence (a model fitted before the prior existed keeps its own score, the sum of the two logits).
The rule of :func:`.spans.narrow` is one of their features, and what is used when too few spans were there to learn
from.
"""

from __future__ import annotations

import bisect
import re
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .cues import CUES
from .spans import narrow

_TOKEN = re.compile(r"\w+|[^\w\s]")
_CLOSING = set(".?!…)\"»")  # what may close a span after its last word
#: upper bounds (in words) of the span-length bins of the length prior
_LENGTH_BINS = np.array([1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 60, np.inf])


class SpanBoundaries(BaseEstimator):
    """Two boundary scorers, scikit-learn style: ``fit`` on gold spans, then ``predict`` a span per sentence.

    ``C``: inverse regularisation of both logistic regressions. ``min_spans``: under this many usable training
    spans, the rule of :func:`.spans.narrow` is used instead.
    """

    def __init__(self, C: float = 3.0, min_spans: int = 20):
        self.C = C
        self.min_spans = min_spans

    def fit(self, texts: Sequence[str], sentences: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]
            ) -> "SpanBoundaries":
        """``texts[i][sentences[i][0]:sentences[i][1]]`` holds the gold span ``spans[i]`` (character offsets)."""
        if not len(texts) == len(sentences) == len(spans):
            raise ValueError(f"{len(texts)} texts, {len(sentences)} sentences and {len(spans)} spans: one each")
        starts, ends, y_start, y_end, usable = [], [], [], [], 0
        for text, (s, e), (gs, ge) in zip(texts, sentences, spans):
            if not s <= gs < ge <= e:
                raise ValueError(f"span {gs}:{ge} is not inside its sentence {s}:{e}")
            cand_s, cand_e = _candidates(text, s, e)
            if not any(p == gs for p, _ in cand_s) or not any(q == ge for q, _ in cand_e):
                continue  # a boundary inside a word: nothing to learn from
            usable += 1
            starts += [f for _, f in cand_s]
            y_start += [int(p == gs) for p, _ in cand_s]
            ends += [f for _, f in cand_e]
            y_end += [int(q == ge) for q, _ in cand_e]
        self.n_spans_ = usable
        lengths = [len(_word_starts(text, gs, ge)) for text, (gs, ge) in zip(texts, spans)]
        counts = np.bincount(np.searchsorted(_LENGTH_BINS, lengths), minlength=len(_LENGTH_BINS)) + 1.0  # add-one
        self.length_log_prior_ = np.log(counts / counts.sum())
        # too few spans, or every span one word long (a single class for the start or end head): the rule
        if usable < max(self.min_spans, 1) or len(set(y_start)) < 2 or len(set(y_end)) < 2:
            self.start_head_ = self.end_head_ = None
            return self
        self.start_features_ = DictVectorizer().fit(starts)
        self.end_features_ = DictVectorizer().fit(ends)
        self.start_head_ = self._head().fit(self.start_features_.transform(starts), y_start)
        self.end_head_ = self._head().fit(self.end_features_.transform(ends), y_end)
        return self

    def _head(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, max_iter=5000)

    def predict(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The span's offsets inside the sentence ``text[start:end]``."""
        return self.predict_many([(text, start, end)])[0]

    def predict_many(self, sentences: Sequence[tuple[str, int, int]]) -> list[tuple[int, int]]:
        """``(text, start, end)`` per sentence -> the span of each; two model calls for the whole batch."""
        check_is_fitted(self, "n_spans_")
        cands = [_candidates(*x) for x in sentences]
        if self.start_head_ is None or not any(cs and ce for cs, ce in cands):
            return [narrow(*x) for x in sentences]
        start_scores = _linear_scores(self.start_features_, self.start_head_, [f for cs, _ in cands for _, f in cs])
        end_scores = _linear_scores(self.end_features_, self.end_head_, [f for _, ce in cands for _, f in ce])
        out, at_s, at_e = [], 0, 0
        for (text, s, e), (cs, ce) in zip(sentences, cands):
            ps, pe = start_scores[at_s:at_s + len(cs)], end_scores[at_e:at_e + len(ce)]
            at_s, at_e = at_s + len(cs), at_e + len(ce)
            if not cs or not ce:
                out.append(narrow(text, s, e))
                continue
            starts, ends = np.array([p for p, _ in cs]), np.array([q for q, _ in ce])
            if getattr(self, "length_log_prior_", None) is None:  # fitted before the prior: its own score
                pair = ps[:, None] + pe[None, :]
            else:
                pair = (_log_sigmoid(ps)[:, None] + _log_sigmoid(pe)[None, :]
                        + self._length_prior(text, s, e, starts, ends))
            pair = np.where(ends[None, :] > starts[:, None], pair, -np.inf)
            i, j = np.unravel_index(int(np.argmax(pair)), pair.shape)
            out.append((int(starts[i]), int(ends[j])) if np.isfinite(pair[i, j]) else narrow(text, s, e))
        return out

    def _length_prior(self, text: str, start: int, end: int, starts: np.ndarray, ends: np.ndarray):
        """log P(length in words) of every (start, end) pair."""
        prior = self.length_log_prior_
        word_starts = _word_starts(text, start, end)
        n = np.searchsorted(word_starts, ends)[None, :] - np.searchsorted(word_starts, starts)[:, None]
        return prior[np.searchsorted(_LENGTH_BINS, np.maximum(n, 1))]


def _word_starts(text: str, start: int, end: int) -> np.ndarray:
    """Offsets (absolute) of the words of ``text[start:end]``, as :func:`_candidates` counts them."""
    return np.array([start + m.start() for m in _TOKEN.finditer(text[start:end]) if m.group()[0].isalnum()], dtype=int)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _linear_scores(vectorizer: DictVectorizer, head: LogisticRegression, features: list[dict]) -> np.ndarray:
    """``head.decision_function(vectorizer.transform(features))``, summed straight from the feature dicts: the same
    scores without building a sparse matrix, which cost most of the span time on long suggestion sentences."""
    weights = dict(zip(vectorizer.feature_names_, head.coef_[0].tolist()))
    bias = float(head.intercept_[0])
    return np.array([bias + sum(weights.get(k, 0.0) * v for k, v in f.items()) for f in features])


def _bucket(n: int) -> str:
    return str(n) if n <= 3 else ("4-6" if n <= 6 else ("7-12" if n <= 12 else "13+"))


def _word_or_mark(token: str) -> str:
    return token.lower() if token[0].isalnum() else "P" + token


def _candidates(text: str, start: int, end: int) -> tuple[list[tuple[int, dict]], list[tuple[int, dict]]]:
    """Candidate starts and ends (absolute offsets) of a span in ``text[start:end]``, each with its features."""
    sentence = text[start:end]
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(sentence)]
    words = [i for i, t in enumerate(tokens) if t[2][0].isalnum()]
    low = sentence.lower()
    # (lower-casing keeps offsets for French text; a rare "İ" would shift them, which only blurs two features)
    cues = sorted((m.start(), m.end(), name) for name, pattern in CUES.items() for m in pattern.finditer(low))
    rule_start, rule_end = (x - start for x in narrow(text, start, end))
    word_starts = [tokens[i][0] for i in words]
    token_starts = [t[0] for t in tokens]
    words_from = [0] * (len(tokens) + 1)  # words_from[r]: how many words from token r on
    for r in range(len(tokens) - 1, -1, -1):
        words_from[r] = words_from[r + 1] + tokens[r][2][0].isalnum()

    def words_between(a: int, b: int) -> int:
        return bisect.bisect_left(word_starts, b) - bisect.bisect_left(word_starts, a)

    starts = []
    for k, i in enumerate(words):
        a, _, w = tokens[i]
        f = {"w=" + w.lower(): 1, "case=" + ("upper" if w[0].isupper() else "lower"): 1, "first_word": float(k == 0),
             "rule": float(a == rule_start), "position=" + _bucket(k): 1, "words_left=" + _bucket(len(words) - k): 1}
        if i > 0:
            prev = tokens[i - 1]
            f["prev=" + _word_or_mark(prev[2])] = 1
            f["glued"] = float(prev[1] == a)
        else:
            f["prev=none"] = 1
        if i + 1 < len(tokens):
            f["next=" + _word_or_mark(tokens[i + 1][2])] = 1
            f["w_next=" + w.lower() + "_" + _word_or_mark(tokens[i + 1][2])] = 1
        after = [c for c in cues if c[0] >= a]
        if after:
            n = _bucket(words_between(a, after[0][0]))
            f["cue_in=" + n] = 1
            f["cue_in=" + after[0][2] + "_" + n] = 1
        else:
            f["no_cue_after"] = 1
        f["cue_before"] = float(any(c[0] < a for c in cues))
        starts.append((start + a, f))

    ends = []
    for i in words:
        _, b, w = tokens[i]
        closings = [b]
        j = i + 1
        while j < len(tokens) and tokens[j][2] in _CLOSING:
            closings.append(tokens[j][1])
            j += 1
        for q in closings:
            f = {"last=" + w.lower(): 1, "rule": float(q == rule_end),
                 "closed_by=" + (sentence[b:q].replace(" ", "") or "none"): 1}
            r = bisect.bisect_left(token_starts, q)  # the first token after the end
            if r < len(tokens):
                f["next=" + _word_or_mark(tokens[r][2])] = 1
                f["next_glued"] = float(tokens[r][0] == q)
                f["words_left=" + _bucket(words_from[r])] = 1
                if r + 1 < len(tokens):
                    f["next2=" + _word_or_mark(tokens[r][2]) + "_" + _word_or_mark(tokens[r + 1][2])] = 1
            else:
                f["sentence_end"] = 1
            before = [c for c in cues if c[1] <= q]
            if before:
                f["since_cue=" + _bucket(words_between(before[-1][1], q))] = 1
            else:
                f["no_cue_before"] = 1
            ends.append((start + q, f))
    return starts, ends
