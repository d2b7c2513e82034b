"""The fast model: TF-IDF features, calibrated linear heads, spaCy sentences and suggestion cues.

Follows scikit-learn's conventions: parameters in ``__init__``, learned attributes end in ``_``, ``fit`` then
``predict``. Training examples are corpus records (see :mod:`spplus_nlp.corpora`): ``text``, ``sentiment`` and, when
annotated, ``engagements`` (id, polarity, start, end) and ``suggestions`` (start, end, engagement).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict

from ..language import segment_sentences
from ..suggestions import cue_features
from ..suggestions.spans import narrow
from ..taxonomy import ENGAGEMENT_BY_ID, ENGAGEMENT_IDS, OTHER_ENGAGEMENT, POLARITIES, SENTIMENTS
from ..types import Analysis, Sentiment, Span, Suggestion, ThemeScore
from .features import NgramTfidf

#: doc sentiment -> the engagement polarity it suggests when blending
_SENTIMENT_TO_POLARITY = {"positif": "positif", "neutre": "mitigé", "négatif": "négatif"}
_MIN_POSITIVES_TO_CALIBRATE = 10
_MIN_POSITIVES_TO_TRAIN = 2
_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)


class FastModel:
    def __init__(self, C: float = 4.0, cue_weight: float = 1.0, polarity_doc_weight: float = 0.5,
                 random_state: int = 0):
        self.C = C
        self.cue_weight = cue_weight
        self.polarity_doc_weight = polarity_doc_weight
        self.random_state = random_state

    # ------------------------------------------------------------------ training
    def fit(self, examples: Sequence[dict]) -> "FastModel":
        texts = [ex["text"] for ex in examples]
        bounds = list(segment_sentences(texts))
        self.vectorizer_ = NgramTfidf().fit(texts)
        X, Xs = self.vectorizer_.documents_and_sentences(texts, bounds)
        self._fit_sentiment(X, [ex["sentiment"] for ex in examples])

        annotated = [i for i, ex in enumerate(examples) if ex.get("annotated", True)]
        Y = np.array([[any(e["id"] == lab for e in examples[i]["engagements"]) for lab in ENGAGEMENT_IDS]
                      for i in annotated], dtype=int).reshape(len(annotated), len(ENGAGEMENT_IDS))
        self._fit_engagements(X[annotated], Y)
        self._fit_polarity([examples[i] for i in annotated])
        first_row = np.concatenate([[0], np.cumsum([len(b) for b in bounds])])
        rows = [(examples[i], bounds[i], range(first_row[i], first_row[i + 1])) for i in annotated]
        self._fit_suggestions(rows, Xs)
        return self

    def _linear(self, C=None) -> LogisticRegression:
        return LogisticRegression(C=C or self.C, class_weight="balanced", max_iter=3000)

    def _fit_sentiment(self, X, y) -> None:
        self.sentiment_ = CalibratedClassifierCV(self._linear(), method="sigmoid", cv=5).fit(X, y)

    def _fit_engagements(self, X, Y) -> None:
        self.engagement_heads_, self.thresholds_, self.engagement_support_ = {}, {}, {}
        for j, lab in enumerate(ENGAGEMENT_IDS):
            y = Y[:, j]
            n_pos = int(y.sum())
            self.engagement_support_[lab] = n_pos
            if n_pos < _MIN_POSITIVES_TO_TRAIN:
                self.engagement_heads_[lab], self.thresholds_[lab] = None, 1.0
                continue
            if n_pos < _MIN_POSITIVES_TO_CALIBRATE:
                self.engagement_heads_[lab], self.thresholds_[lab] = self._linear().fit(X, y), 0.5
                continue
            head = CalibratedClassifierCV(self._linear(), method="sigmoid", cv=3)
            folds = StratifiedKFold(3, shuffle=True, random_state=self.random_state)
            oof = cross_val_predict(head, X, y, cv=folds, method="predict_proba")[:, 1]
            self.thresholds_[lab] = _best_threshold(y, oof)
            self.engagement_heads_[lab] = head.fit(X, y)

    def _fit_polarity(self, examples) -> None:
        spans = [(ex["text"][e["start"]:e["end"]], e["polarity"]) for ex in examples for e in ex["engagements"]]
        texts, y = zip(*spans) if spans else ((), ())
        if len(set(y)) < 2:
            self.polarity_ = None
            return
        self.polarity_ = self._linear(C=1.0).fit(self.vectorizer_.transform(texts), y)

    def _fit_suggestions(self, rows, Xs) -> None:
        """Sentence classifier: a sentence is positive when it holds most of a gold suggestion span."""
        picked, sentences, y, groups, targets_text, targets = [], [], [], [], [], []
        for d, (ex, bounds, sentence_rows) in enumerate(rows):
            gold = ex["suggestions"]
            for (s, e), k in zip(bounds, sentence_rows):
                picked.append(k)
                sentences.append(ex["text"][s:e])
                y.append(int(any(_overlaps((s, e), (g["start"], g["end"])) for g in gold)))
                groups.append(d)
            for g in gold:
                targets_text.append(ex["text"][g["start"]:g["end"]])
                targets.append(g["engagement"])
        Z = self._sentence_features(sentences, Xs[picked])
        y = np.array(y)
        head = self._linear(C=1.0)
        if y.sum() >= _MIN_POSITIVES_TO_CALIBRATE:
            oof = cross_val_predict(head, Z, y, cv=GroupKFold(3), groups=groups, method="predict_proba")[:, 1]
            self.suggestion_threshold_ = _best_threshold(y, oof)
        else:
            self.suggestion_threshold_ = 0.5
        self.suggestion_head_ = head.fit(Z, y) if y.sum() >= _MIN_POSITIVES_TO_TRAIN else None
        self.suggestion_target_ = (self._linear(C=1.0).fit(self.vectorizer_.transform(targets_text), targets)
                                   if len(set(targets)) >= 2 else None)

    def _sentence_features(self, sentences: Sequence[str], X=None):
        X = self.vectorizer_.transform(sentences) if X is None else X
        cues = sp.csr_matrix(cue_features(sentences) * self.cue_weight)
        return sp.hstack([X, cues], format="csr")

    # ---------------------------------------------------------------- inference
    def predict(self, texts: Sequence[str]) -> list[Analysis]:
        texts = list(texts)
        if not texts:
            return []
        bounds = list(segment_sentences(texts))
        X, Xs = self.vectorizer_.documents_and_sentences(texts, bounds)
        sent_probs = self.sentiment_.predict_proba(X)
        sent_classes = list(self.sentiment_.classes_)
        doc_eng = self._engagement_probs(X)

        flat = [(d, s, e) for d, bs in enumerate(bounds) for s, e in bs]
        sentences = [texts[d][s:e] for d, s, e in flat]
        sent_eng = self._engagement_probs(Xs) if sentences else np.zeros((0, len(ENGAGEMENT_IDS)))
        sugg_p = (self.suggestion_head_.predict_proba(self._sentence_features(sentences, Xs))[:, 1]
                  if sentences and self.suggestion_head_ is not None else np.zeros(len(sentences)))
        by_doc: dict[int, list[int]] = {}
        for k, (d, _, _) in enumerate(flat):
            by_doc.setdefault(d, []).append(k)

        # which labels pass their threshold, each with its evidence sentence; then one batched call per head
        chosen = []  # (doc, engagement index, evidence sentence row)
        for d in range(len(texts)):
            rows = by_doc.get(d, [])
            for j, lab in enumerate(ENGAGEMENT_IDS):
                if rows and doc_eng[d, j] >= self.thresholds_[lab]:
                    chosen.append((d, j, max(rows, key=lambda r: sent_eng[r, j])))
        polarities = self._polarities(Xs, [k for _, _, k in chosen], [sent_probs[d] for d, _, _ in chosen],
                                      sent_classes)
        proposals = [k for k in range(len(flat)) if sugg_p[k] >= self.suggestion_threshold_]
        targets = dict(zip(proposals, self._targets(Xs, proposals, sent_eng)))

        by_doc_chosen: dict[int, list] = {}
        for (d, j, k), polarity in zip(chosen, polarities):
            by_doc_chosen.setdefault(d, []).append((j, k, polarity))
        out = []
        for d, text in enumerate(texts):
            scores = {lab: float(sent_probs[d, sent_classes.index(lab)]) for lab in SENTIMENTS}
            sentiment = Sentiment(label=max(scores, key=scores.get), scores=scores)
            engagements = []
            for j, k, polarity in by_doc_chosen.get(d, []):
                lab, (_, s, e) = ENGAGEMENT_IDS[j], flat[k]
                engagements.append(ThemeScore(lab, ENGAGEMENT_BY_ID[lab].name, round(float(doc_eng[d, j]), 4),
                                              polarity, Span(s, e, text[s:e])))
            engagements.sort(key=lambda t: -t.score)
            suggestions = []
            for k in by_doc.get(d, []):
                if k in targets:
                    s, e = narrow(text, *flat[k][1:])
                    suggestions.append(Suggestion(text[s:e], s, e, targets[k], round(float(sugg_p[k]), 4)))
            out.append(Analysis(text=text, sentiment=sentiment, engagements=engagements, suggestions=suggestions))
        return out

    def _engagement_probs(self, X) -> np.ndarray:
        P = np.zeros((X.shape[0], len(ENGAGEMENT_IDS)))
        for j, lab in enumerate(ENGAGEMENT_IDS):
            head = self.engagement_heads_[lab]
            if head is not None:
                P[:, j] = head.predict_proba(X)[:, 1]
        return P

    def _polarities(self, Xs, rows: list[int], doc_probs: list[np.ndarray], classes: list[str]) -> list[str]:
        """Polarity of each chosen engagement: its evidence sentence's polarity blended with the document's sentiment."""
        if not rows:
            return []
        blended = np.zeros((len(rows), len(POLARITIES)))
        to_polarity = [POLARITIES.index(_SENTIMENT_TO_POLARITY[c]) for c in classes]
        for i, p in enumerate(doc_probs):
            np.add.at(blended[i], to_polarity, self.polarity_doc_weight * np.asarray(p))
        if self.polarity_ is not None:
            columns = [POLARITIES.index(c) for c in self.polarity_.classes_]
            blended[:, columns] += (1 - self.polarity_doc_weight) * self.polarity_.predict_proba(Xs[rows])
        return [POLARITIES[i] for i in blended.argmax(axis=1)]

    def _targets(self, Xs, rows: list[int], sent_eng: np.ndarray) -> list[str]:
        """The engagement each suggestion sentence would improve."""
        if not rows:
            return []
        if self.suggestion_target_ is not None:
            return [str(t) for t in self.suggestion_target_.predict(Xs[rows])]
        best = sent_eng[rows].argmax(axis=1)
        return [ENGAGEMENT_IDS[j] if sent_eng[k, j] > 0.2 else OTHER_ENGAGEMENT for k, j in zip(rows, best)]


def _best_threshold(y, scores) -> float:
    f1s = [f1_score(y, scores >= t, zero_division=0) for t in _THRESHOLD_GRID]
    return float(_THRESHOLD_GRID[int(np.argmax(f1s))])


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when the two spans share at least half of the shorter one."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return inter > 0 and inter >= 0.5 * min(a[1] - a[0], b[1] - b[0])
