"""The fast model: TF-IDF features, calibrated linear heads, spaCy sentences and suggestion cues.

Follows scikit-learn's conventions: parameters in ``__init__``, learned attributes end in ``_``, ``fit`` then
``predict``. Training examples are corpus records (see :mod:`spplus_nlp.corpora`): ``text``, ``sentiment`` and, when
annotated, ``engagements`` (id, polarity, start, end) and ``suggestions`` (start, end, engagement).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.special import logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict

from ..language import segment_sentences, transient_vocabulary
from ..suggestions import cue_features
from ..suggestions.boundaries import SpanBoundaries
from ..suggestions.spans import narrow
from ..taxonomy import ENGAGEMENT_BY_ID, ENGAGEMENT_IDS, OTHER_ENGAGEMENT, POLARITIES, SENTIMENTS
from ..types import Analysis, Sentiment, Span, Suggestion, ThemeScore
from .evidence import narrow_evidence
from .features import NgramTfidf

#: doc sentiment -> the engagement polarity it suggests when blending
_SENTIMENT_TO_POLARITY = {"positif": "positif", "neutre": "mitigé", "négatif": "négatif"}
_MIN_POSITIVES_TO_CALIBRATE = 10
_MIN_POSITIVES_TO_TRAIN = 2
_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
_WEIGHT_GRID = np.round(np.arange(0.0, 1.01, 0.1), 1)
_DEFAULT_DOC_WEIGHT = 0.5  # the document's sentiment against the evidence's polarity, when it cannot be tuned


class FastModel:
    def __init__(self, C: float = 4.0, cue_weight: float = 1.0, polarity_doc_weight: float | None = None,
                 threshold_objective: str = "micro", sentence_evidence: bool = True, dense_C: float = 4.0,
                 max_evidence_words: int | None = 25, dense_sentiment: bool = True, suggestion_C: float = 4.0,
                 sentence_position: bool = True, random_state: int = 0):
        self.C = C
        self.cue_weight = cue_weight
        self.polarity_doc_weight = polarity_doc_weight  # None: tuned on out-of-fold predictions at fit
        # "micro": engagement thresholds tuned together for micro-F1; "label": each for its own F1
        self.threshold_objective = threshold_objective
        self.sentence_evidence = sentence_evidence  # a sentence head per engagement, stacked with the document's
        self.dense_C = dense_C  # of the sentence heads on dense sentence vectors, when ``fit`` is given some
        # an evidence sentence longer than this is narrowed to its best clause (guideline: 3 to 25 words); None: never
        self.max_evidence_words = max_evidence_words
        # with dense sentence vectors, the sentiment head also reads the document's mean vector
        self.dense_sentiment = dense_sentiment
        self.suggestion_C = suggestion_C  # of the suggestion-sentence head on n-grams and cues
        # the suggestion-sentence head also reads where the sentence stands in its text (first, last, how far in)
        self.sentence_position = sentence_position
        self.random_state = random_state

    # ------------------------------------------------------------------ training
    def fit(self, examples: Sequence[dict], sentence_vectors: Sequence[np.ndarray] | None = None,
            sentences: Sequence[list[tuple[int, int]]] | None = None) -> "FastModel":
        """``sentences``: each example's sentence offsets when the caller has already segmented them, else spaCy's.
        ``sentence_vectors``: optional dense vectors of those sentences (one (n_sentences, dim) array per example),
        e.g. a frozen encoder's; rows are L2-normalised here. Each engagement with a sentence head then gets a
        second one on them, stacked with the others (not with ``sentence_evidence=False``), and the
        suggestion-sentence classifier gets one too (whatever ``sentence_evidence``), and with ``dense_sentiment``
        the sentiment head reads the mean of each document's vectors next to its n-grams; ``predict`` must then be
        given the same kind of vectors."""
        if self.threshold_objective not in ("micro", "label"):
            raise ValueError(f"threshold_objective={self.threshold_objective!r}: expected 'micro' or 'label'")
        from ..corpora import is_supplement  # training only: scoring never loads the corpus module (datasets)

        texts = [ex["text"] for ex in examples]
        bounds = list(segment_sentences(texts)) if sentences is None else [list(b) for b in sentences]
        if len(bounds) != len(texts):
            raise ValueError(f"{len(texts)} examples but sentence offsets for {len(bounds)}")
        V = None if sentence_vectors is None else _stack_vectors(sentence_vectors, bounds)
        self.vectorizer_ = NgramTfidf().fit(texts)
        X, Xs = self.vectorizer_.documents_and_sentences(texts, bounds)
        self.sentiment_reads_vectors_ = V is not None and self.dense_sentiment
        self._fit_sentiment(self._sentiment_features(X, V, bounds), [ex["sentiment"] for ex in examples],
                            [not is_supplement(ex) for ex in examples])

        annotated = [i for i, ex in enumerate(examples) if ex.get("annotated", True)]
        Y = np.array([[any(e["id"] == lab for e in examples[i]["engagements"]) for lab in ENGAGEMENT_IDS]
                      for i in annotated], dtype=int).reshape(len(annotated), len(ENGAGEMENT_IDS))
        first_row = np.concatenate([[0], np.cumsum([len(b) for b in bounds])])
        sentence_rows = np.concatenate([np.arange(first_row[i], first_row[i + 1]) for i in annotated]
                                       or [[]]).astype(int)
        owner = np.repeat(np.arange(len(annotated)), [len(bounds[i]) for i in annotated])
        # a sentence shows an engagement when it shares text with that engagement's gold evidence
        Ys = np.array([[any(eng["id"] == lab and _shares_text(sentence, (eng["start"], eng["end"]))
                            for eng in examples[i]["engagements"]) for lab in ENGAGEMENT_IDS]
                       for i in annotated for sentence in bounds[i]], dtype=int).reshape(-1, len(ENGAGEMENT_IDS))
        self._fit_engagements(X[annotated], Y, Xs[sentence_rows], owner, Ys, None if V is None else V[sentence_rows])
        self._fit_polarity([examples[i] for i in annotated], self.sentiment_.oof_proba_[annotated])
        rows = [(examples[i], bounds[i], range(first_row[i], first_row[i + 1])) for i in annotated]
        self._fit_suggestions(rows, Xs, V)
        return self

    def _linear(self, C=None) -> LogisticRegression:
        return LogisticRegression(C=self.C if C is None else C, class_weight="balanced", max_iter=3000)

    @property
    def reads_sentence_vectors(self) -> bool:
        """True when ``predict`` needs ``sentence_vectors`` (fitted with some)."""
        # models saved before the dense heads have none
        return (bool(getattr(self, "dense_sentence_heads_", None)) or getattr(self, "suggestion_stacker_", None) is not None
                or getattr(self, "sentiment_reads_vectors_", False))

    def _sentiment_features(self, X, V: np.ndarray | None, bounds) -> sp.csr_matrix:
        """The documents' n-grams, and the mean of their sentence vectors when the sentiment head reads them.

        The frozen encoder's mean vector knows words the n-grams never saw. Fast model in the benchmark folds with
        the frozen vectors (scratch experiment): sentiment macro-F1 0.697 -> 0.730 (the vector block weighted 1,
        as each unit-length n-gram block; 0.731 weighted 2, 0.715 weighted 0.5)."""
        if not getattr(self, "sentiment_reads_vectors_", False):  # models saved before it have no such attribute
            return X
        return sp.hstack([X, sp.csr_matrix(_document_vectors(V, bounds))], format="csr")

    def _fit_sentiment(self, X, y, real) -> None:
        """``real``: which rows are real; only they fit the map from scores to probabilities."""
        self.sentiment_ = StackedSentiment(self._linear(), cv=5, random_state=self.random_state).fit(X, y, real)

    def _fit_engagements(self, X, Y, Xs, owner, Ys, V=None) -> None:
        """One head per engagement. With enough positives, two views of the document are stacked: its own n-grams
        (a calibrated document head) and its best sentence under a sentence head trained on the gold evidence
        sentences, which also picks the evidence (with the dense head below, when there is one). A label said in
        one sentence of a long review is diluted in the document's n-grams, not in its best sentence. With dense sentence vectors ``V``, a third view: the
        best sentence under a head on those vectors (they know words the n-grams never saw in training)."""
        self.engagement_heads_, self.thresholds_, self.engagement_support_ = {}, {}, {}
        self.sentence_heads_, self.engagement_stackers_, self.dense_sentence_heads_ = {}, {}, {}
        oof = np.zeros(Y.shape)
        tunable = []  # labels with enough positives for out-of-fold predictions
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
            doc_oof, best_sentence_oof, best_dense_oof = np.zeros(len(y)), np.zeros(len(y)), np.zeros(len(y))
            use_sentences = self.sentence_evidence and Ys[:, j].sum() >= _MIN_POSITIVES_TO_CALIBRATE
            for train, test in StratifiedKFold(3, shuffle=True, random_state=self.random_state).split(X, y):
                doc_oof[test] = self._document_head().fit(X[train], y[train]).predict_proba(X[test])[:, 1]
                if use_sentences:
                    in_train, in_test = np.isin(owner, train), np.isin(owner, test)
                    head = self._linear().fit(Xs[in_train], Ys[in_train, j])
                    scores = _logit(head.predict_proba(Xs[in_test])[:, 1])  # as at inference
                    best = _best_per_document(scores, owner[in_test], len(y))
                    best_sentence_oof[test] = best[test]
                    if V is not None:
                        head = self._linear(C=self.dense_C).fit(V[in_train], Ys[in_train, j])
                        scores = _logit(head.predict_proba(V[in_test])[:, 1])
                        best_dense_oof[test] = _best_per_document(scores, owner[in_test], len(y))[test]
            self.engagement_heads_[lab] = self._document_head().fit(X, y)
            if use_sentences:
                self.sentence_heads_[lab] = self._linear().fit(Xs, Ys[:, j])
                Z = np.column_stack([_logit(doc_oof), best_sentence_oof])
                if V is not None:
                    self.dense_sentence_heads_[lab] = self._linear(C=self.dense_C).fit(V, Ys[:, j])
                    Z = np.column_stack([Z, best_dense_oof])
                self.engagement_stackers_[lab] = LogisticRegression(max_iter=1000).fit(Z, y)
                # in-sample for the stacker (3 or 4 parameters on out-of-fold inputs: close to out-of-fold), as for
                # the sentiment's stacker; the threshold is tuned on these
                oof[:, j] = self.engagement_stackers_[lab].predict_proba(Z)[:, 1]
            else:
                oof[:, j] = doc_oof
            self.thresholds_[lab] = _best_threshold(y, oof[:, j])
            tunable.append(j)
        if self.threshold_objective == "micro" and tunable:
            self._tune_thresholds_for_micro_f1(Y[:, tunable], oof[:, tunable], [ENGAGEMENT_IDS[j] for j in tunable])

    def _document_head(self) -> CalibratedClassifierCV:
        return CalibratedClassifierCV(self._linear(), method="sigmoid", cv=3)

    def _tune_thresholds_for_micro_f1(self, Y: np.ndarray, P: np.ndarray, labels: list[str]) -> None:
        """Per-label thresholds that maximise the micro-F1 of all labels together on out-of-fold probabilities.

        Each label's own best F1 puts a weak label's threshold low (its best F1 is reached by predicting it
        often), which costs precision summed over all labels. Coordinate ascent from those thresholds, a few
        passes, each label's threshold chosen with the others fixed.
        """
        thresholds = np.array([self.thresholds_[lab] for lab in labels])

        def micro_f1(j: int, t: float) -> float:
            trial = thresholds.copy()
            trial[j] = t
            return f1_score(Y, P >= trial, average="micro", zero_division=0)

        for _ in range(3):
            changed = False
            for j in range(len(labels)):
                best_t, best_f1 = thresholds[j], micro_f1(j, thresholds[j])
                for t in _THRESHOLD_GRID:  # moves only on a strict gain: a tie keeps the current threshold
                    f1 = micro_f1(j, t)
                    if f1 > best_f1 + 1e-12:
                        best_t, best_f1 = t, f1
                changed |= best_t != thresholds[j]
                thresholds[j] = best_t
            if not changed:
                break
        self.thresholds_.update({lab: float(t) for lab, t in zip(labels, thresholds)})

    def _fit_polarity(self, examples, doc_proba: np.ndarray) -> None:
        """The evidence's polarity head, and how much the document's sentiment weighs against it.

        The weight is the one with the best accuracy on the gold evidence spans when both parts are out-of-fold:
        the sentiment head's out-of-fold probabilities and the polarity head's, grouped by experience.
        """
        spans = [(d, ex["text"][e["start"]:e["end"]], e["polarity"]) for d, ex in enumerate(examples)
                 for e in ex["engagements"]]
        docs, texts, y = (list(x) for x in zip(*spans)) if spans else ([], [], [])
        self.polarity_doc_weight_ = _DEFAULT_DOC_WEIGHT if self.polarity_doc_weight is None else self.polarity_doc_weight
        if len(set(y)) < 2:
            self.polarity_ = None
            return
        X = self.vectorizer_.transform(texts)
        self.polarity_ = self._linear(C=1.0).fit(X, y)
        n_folds = min(5, len(set(docs)))
        if self.polarity_doc_weight is not None or n_folds < 2:
            return
        try:
            oof = cross_val_predict(self._linear(C=1.0), X, y, cv=GroupKFold(n_folds), groups=docs,
                                    method="predict_proba")
        except ValueError:  # a training fold with a single polarity (tiny corpora): keep the default weight
            return
        doc_part = self._as_polarity(doc_proba[docs], list(self.sentiment_.classes_))
        head_part = self._as_polarity(oof, sorted(set(y)))
        gold = np.array([POLARITIES.index(p) for p in y])
        accuracy = np.array([((w * doc_part + (1 - w) * head_part).argmax(axis=1) == gold).mean()
                             for w in _WEIGHT_GRID])
        best = np.flatnonzero(accuracy >= accuracy.max() - 1e-12)  # accuracy is flat in places: take the middle
        self.polarity_doc_weight_ = float(_WEIGHT_GRID[best[len(best) // 2]])

    @staticmethod
    def _as_polarity(proba: np.ndarray, classes: list[str]) -> np.ndarray:
        """Probabilities over ``classes`` (sentiments or polarities) -> columns in POLARITIES order."""
        out = np.zeros((len(proba), len(POLARITIES)))
        for j, c in enumerate(classes):
            out[:, POLARITIES.index(_SENTIMENT_TO_POLARITY.get(c, c))] += proba[:, j]
        return out

    def _fit_suggestions(self, rows, Xs, V=None) -> None:
        """Sentence classifier: a sentence is positive when it holds most of a gold suggestion span.

        With dense sentence vectors ``V``, a second head reads them and a logistic regression on both heads'
        out-of-fold logits mixes the two (as for the engagements)."""
        picked, sentences, y, groups, targets_text, targets = [], [], [], [], [], []
        spans = ([], [], [])  # text, sentence, gold span: for the span boundaries
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
                holder = next(((s, e) for s, e in bounds if s <= g["start"] and g["end"] <= e), None)
                if holder is not None:  # a span across sentences cannot be learnt per sentence
                    for part, value in zip(spans, (ex["text"], holder, (g["start"], g["end"]))):
                        part.append(value)
        self.suggestion_spans_ = SpanBoundaries().fit(*spans)
        self.suggestion_reads_position_ = self.sentence_position
        Z = self._sentence_features(sentences, Xs[picked], _sentence_positions([bounds for _, bounds, _ in rows]))
        y = np.array(y)
        head = self._linear(C=self.suggestion_C)
        self.suggestion_dense_head_ = self.suggestion_stacker_ = None
        if y.sum() >= _MIN_POSITIVES_TO_CALIBRATE:
            folds = list(GroupKFold(3).split(Z, y, groups))
            oof = cross_val_predict(head, Z, y, cv=folds, method="predict_proba")[:, 1]
            if V is not None:
                Vs = V[picked]
                dense = self._linear(C=self.dense_C)
                dense_oof = cross_val_predict(dense, Vs, y, cv=folds, method="predict_proba")[:, 1]
                S = np.column_stack([_logit(oof), _logit(dense_oof)])
                self.suggestion_stacker_ = LogisticRegression(max_iter=1000).fit(S, y)
                self.suggestion_dense_head_ = dense.fit(Vs, y)
                oof = self.suggestion_stacker_.predict_proba(S)[:, 1]  # in-sample for 3 parameters, as above
            self.suggestion_threshold_ = _best_threshold(y, oof)
        else:
            self.suggestion_threshold_ = 0.5
        self.suggestion_head_ = head.fit(Z, y) if y.sum() >= _MIN_POSITIVES_TO_TRAIN else None
        self.suggestion_target_ = (self._linear(C=1.0).fit(self.vectorizer_.transform(targets_text), targets)
                                   if len(set(targets)) >= 2 else None)

    def _sentence_features(self, sentences: Sequence[str], X, positions: np.ndarray):
        """The suggestion head's input: n-grams, cues and, when it reads them, the ``positions`` of
        ``_sentence_positions``."""
        blocks = [X, sp.csr_matrix(cue_features(sentences) * self.cue_weight)]
        if getattr(self, "suggestion_reads_position_", False):  # models saved before it do not read them
            blocks.append(sp.csr_matrix(positions))
        return sp.hstack(blocks, format="csr")

    # ---------------------------------------------------------------- inference
    def predict(self, texts: Sequence[str], sentences: Sequence[list[tuple[int, int]]] | None = None,
                sentence_vectors: Sequence[np.ndarray] | None = None) -> list[Analysis]:
        """``sentences``: each text's sentence offsets when the caller has already segmented them (the accurate
        model does), else spaCy's. ``sentence_vectors``: the dense sentence vectors of those sentences, required
        when the model was fitted with some."""
        # The n-gram and cue features are built here and finite (dense vectors are checked in _predict), and the
        # heads' parameters were checked at fit: scikit-learn's checks, repeated in every call of every head, are off.
        texts = list(texts)
        with (sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
              transient_vocabulary(len(texts))):
            return self._predict(texts, sentences, sentence_vectors)

    def _predict(self, texts: list[str], sentences, sentence_vectors) -> list[Analysis]:
        if not texts:
            return []
        bounds = list(segment_sentences(texts)) if sentences is None else [list(b) for b in sentences]
        if len(bounds) != len(texts):
            raise ValueError(f"{len(texts)} texts but sentence offsets for {len(bounds)}")
        V = None
        if self.reads_sentence_vectors:
            if sentence_vectors is None:
                raise ValueError("this model's engagement, suggestion or sentiment heads read dense sentence vectors (it was fitted with "
                                 "sentence_vectors): pass the same kind of vectors to predict")
            V = _stack_vectors(sentence_vectors, bounds)
            if not np.isfinite(V).all():  # the one input not built here (scikit-learn's checks are off, above)
                raise ValueError("the dense sentence vectors hold NaN or infinite values")
        X, Xs = self.vectorizer_.documents_and_sentences(texts, bounds)
        sent_probs = self.sentiment_.predict_proba(self._sentiment_features(X, V, bounds))
        sent_classes = list(self.sentiment_.classes_)
        flat = [(d, s, e) for d, bs in enumerate(bounds) for s, e in bs]
        sentences = [texts[d][s:e] for d, s, e in flat]
        owner = np.array([d for d, _, _ in flat], dtype=int)
        sent_eng = self._sentence_engagement_scores(Xs) if sentences else np.zeros((0, len(ENGAGEMENT_IDS)))
        dense = self._dense_sentence_logits(V) if V is not None else None
        doc_eng = self._engagement_probs(X, sent_eng, owner, dense)
        # the evidence: the sentence that shows the label best, to both sentence heads where there are two; their
        # logits weigh the same (out-of-fold on the corpus, evidence hitting the gold one: 0.563 with the n-gram head
        # alone, 0.608 with the sum; weighting the dense logit 0.5 or 2 did no better)
        evidence = sent_eng if dense is None else _logit(sent_eng) + dense
        sugg_p = self._suggestion_probs(sentences, Xs, V, _sentence_positions(bounds))
        by_doc: dict[int, list[int]] = {}
        for k, (d, _, _) in enumerate(flat):
            by_doc.setdefault(d, []).append(k)

        # which labels pass their threshold, each with its evidence sentence; then one batched call per head
        chosen = []  # (doc, engagement index, evidence sentence row)
        for d in range(len(texts)):
            rows = by_doc.get(d, [])
            for j, lab in enumerate(ENGAGEMENT_IDS):
                if rows and doc_eng[d, j] >= self.thresholds_[lab]:
                    chosen.append((d, j, max(rows, key=lambda r: evidence[r, j])))
        polarities = self._polarities(Xs, [k for _, _, k in chosen], [sent_probs[d] for d, _, _ in chosen],
                                      sent_classes)
        proposals = [k for k in range(len(flat)) if sugg_p[k] >= self.suggestion_threshold_]
        targets = dict(zip(proposals, self._targets(Xs, proposals, sent_eng)))
        spans = dict(zip(proposals, self._spans([(texts[flat[k][0]], *flat[k][1:]) for k in proposals])))

        evidence_spans = self._evidence_spans(texts, [(d, j, flat[k][1], flat[k][2]) for d, j, k in chosen])
        by_doc_chosen: dict[int, list] = {}
        for (d, j, _), polarity, span in zip(chosen, polarities, evidence_spans):
            by_doc_chosen.setdefault(d, []).append((j, span, polarity))
        out = []
        for d, text in enumerate(texts):
            scores = {lab: float(sent_probs[d, sent_classes.index(lab)]) for lab in SENTIMENTS}
            sentiment = Sentiment(label=max(scores, key=scores.get), scores=scores)
            engagements = []
            for j, (s, e), polarity in by_doc_chosen.get(d, []):
                lab = ENGAGEMENT_IDS[j]
                engagements.append(ThemeScore(lab, ENGAGEMENT_BY_ID[lab].name, round(float(doc_eng[d, j]), 4),
                                              polarity, Span(s, e, text[s:e])))
            engagements.sort(key=lambda t: -t.score)
            suggestions = []
            for k in by_doc.get(d, []):
                if k in targets:
                    s, e = spans[k]
                    suggestions.append(Suggestion(text[s:e], s, e, targets[k], round(float(sugg_p[k]), 4)))
            out.append(Analysis(text=text, sentiment=sentiment, engagements=engagements, suggestions=suggestions))
        return out

    def _evidence_spans(self, texts: list[str], chosen: list[tuple[int, int, int, int]]) -> list[tuple[int, int]]:
        """Each chosen ``(document, engagement index, sentence start, sentence end)``'s evidence: its sentence, or
        the clause of it the engagement's n-gram sentence head scores highest when the sentence is too long."""
        limit = getattr(self, "max_evidence_words", None)  # models saved before it keep whole sentences
        if limit is None or not chosen:
            return [(s, e) for _, _, s, e in chosen]
        heads = [self._sentence_head(lab) for lab in ENGAGEMENT_IDS]
        return narrow_evidence(self.vectorizer_, heads, [(texts[d], s, e, j) for d, j, s, e in chosen],
                               max_words=limit)

    def _engagement_probs(self, X, sentence_scores: np.ndarray, owner: np.ndarray,
                          dense_logits: np.ndarray | None = None) -> np.ndarray:
        """Each document's probability for each engagement (stacked with its best sentence where trained so)."""
        stackers = getattr(self, "engagement_stackers_", {})  # models saved before the sentence heads have none
        dense_heads = getattr(self, "dense_sentence_heads_", {})  # predict passes their logits when there are some
        P = np.zeros((X.shape[0], len(ENGAGEMENT_IDS)))
        for j, lab in enumerate(ENGAGEMENT_IDS):
            head = self.engagement_heads_[lab]
            if head is None:
                continue
            P[:, j] = head.predict_proba(X)[:, 1]
            if lab in stackers:
                Z = [_logit(P[:, j]), _best_per_document(_logit(sentence_scores[:, j]), owner, X.shape[0])]
                if lab in dense_heads:
                    Z.append(_best_per_document(dense_logits[:, j], owner, X.shape[0]))
                P[:, j] = stackers[lab].predict_proba(np.column_stack(Z))[:, 1]
        return P

    def _suggestion_probs(self, sentences: list[str], Xs, V: np.ndarray | None, positions: np.ndarray) -> np.ndarray:
        """Each sentence's probability of holding a suggestion."""
        if not sentences or self.suggestion_head_ is None:
            return np.zeros(len(sentences))
        p = self.suggestion_head_.predict_proba(self._sentence_features(sentences, Xs, positions))[:, 1]
        stacker = getattr(self, "suggestion_stacker_", None)  # models saved before it have none
        if stacker is not None:
            dense = _logit(self.suggestion_dense_head_.predict_proba(V)[:, 1])
            p = stacker.predict_proba(np.column_stack([_logit(p), dense]))[:, 1]
        return p

    def _dense_sentence_logits(self, V: np.ndarray) -> np.ndarray:
        """(sentences, engagements) logits of the heads on dense sentence vectors; 0 where a label has none."""
        out = np.zeros((len(V), len(ENGAGEMENT_IDS)))
        for j, lab in enumerate(ENGAGEMENT_IDS):
            head = self.dense_sentence_heads_.get(lab)
            if head is not None and len(V):
                out[:, j] = _logit(head.predict_proba(V)[:, 1])
        return out

    def _sentence_engagement_scores(self, Xs) -> np.ndarray:
        """How much each sentence shows each engagement under the n-gram heads: the sentence head's probability,
        else the document head's read on the sentence."""
        P = np.zeros((Xs.shape[0], len(ENGAGEMENT_IDS)))
        for j, lab in enumerate(ENGAGEMENT_IDS):
            head = self._sentence_head(lab)
            if head is not None:
                P[:, j] = head.predict_proba(Xs)[:, 1]
        return P

    def _sentence_head(self, lab: str):
        """The head that reads one engagement in a sentence: its sentence head, else its document head (None for a
        label never trained)."""
        head = getattr(self, "sentence_heads_", {}).get(lab)  # models saved before sentence heads have none
        return self.engagement_heads_[lab] if head is None else head

    def _polarities(self, Xs, rows: list[int], doc_probs: list[np.ndarray], classes: list[str]) -> list[str]:
        """Polarity of each chosen engagement: its evidence sentence's polarity blended with the document's sentiment."""
        if not rows:
            return []
        # models trained before the weight was tuned hold only the parameter (then 0.5 by default)
        fixed = self.polarity_doc_weight
        w = getattr(self, "polarity_doc_weight_", _DEFAULT_DOC_WEIGHT if fixed is None else fixed)
        blended = w * self._as_polarity(np.asarray(doc_probs), classes)
        if self.polarity_ is not None:
            blended += (1 - w) * self._as_polarity(self.polarity_.predict_proba(Xs[rows]), list(self.polarity_.classes_))
        return [POLARITIES[i] for i in blended.argmax(axis=1)]

    def _spans(self, sentences: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
        """Each suggestion's exact span in its sentence; the rule of ``narrow`` for models saved without a learnt one."""
        boundaries = getattr(self, "suggestion_spans_", None)
        return boundaries.predict_many(sentences) if boundaries is not None else [narrow(*x) for x in sentences]

    def _targets(self, Xs, rows: list[int], sent_eng: np.ndarray) -> list[str]:
        """The engagement each suggestion sentence would improve."""
        if not rows:
            return []
        if self.suggestion_target_ is not None:
            return [str(t) for t in self.suggestion_target_.predict(Xs[rows])]
        best = sent_eng[rows].argmax(axis=1)
        return [ENGAGEMENT_IDS[j] if sent_eng[k, j] > 0.2 else OTHER_ENGAGEMENT for k, j in zip(rows, best)]


class StackedSentiment(ClassifierMixin, BaseEstimator):
    """A linear head whose decision scores a multinomial logistic regression, fitted on out-of-fold scores, maps to
    probabilities.

    Replaces per-class sigmoid calibration (``CalibratedClassifierCV``): its one-vs-rest sigmoids re-learn the class
    priors that ``class_weight="balanced"`` had removed and push the middle class, ``neutre``, under ``négatif``.
    One joint, class-balanced map keeps the classes apart (5-fold sentiment macro-F1 0.655 -> 0.696, lower log-loss)
    and costs one linear head at inference instead of five.
    """

    def __init__(self, estimator, cv: int = 5, C: float = 1.0, random_state: int = 0):
        self.estimator = estimator
        self.cv = cv
        self.C = C
        self.random_state = random_state

    def fit(self, X, y, calibrate_on=None) -> "StackedSentiment":
        """``calibrate_on``: a boolean mask of the rows whose out-of-fold scores fit the probability map (None: all).
        Team-written rows are easier to separate than real ones: a map fitted on them too is over-confident on real
        text (fast model with the 500 sentiment-only supplement rows, 5-fold CV on the real rows: ECE 0.039 -> 0.012
        when only real rows fit the map, macro-F1 0.717 -> 0.711, inside fold noise)."""
        y = np.asarray(y)
        # no mask, or one that leaves out a class (the map needs them all): every row fits the map
        if calibrate_on is None or set(y[np.asarray(calibrate_on, bool)]) != set(y):
            calibrate_on = np.ones(len(y), bool)
        calibrate_on = np.asarray(calibrate_on, bool)
        n_splits = min(self.cv, int(np.unique(y, return_counts=True)[1].min()))
        self.estimator_ = clone(self.estimator).fit(X, y)
        if n_splits >= 2:
            folds = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
            scores = cross_val_predict(clone(self.estimator), X, y, cv=folds, method="decision_function")
        else:  # too few examples of a class for out-of-fold scores: in-sample scores, over-confident but usable
            scores = self.estimator_.decision_function(X)
        self.stacker_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
        self.stacker_.fit(_as_columns(scores)[calibrate_on], y[calibrate_on])
        self.classes_ = self.stacker_.classes_
        # the stacker's probabilities for the out-of-fold scores (in-sample for a 3x3 map: close to out-of-fold),
        # for what is tuned on the sentiment
        self.oof_proba_ = self.stacker_.predict_proba(_as_columns(scores))
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.stacker_.predict_proba(_as_columns(self.estimator_.decision_function(X)))

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _sentence_positions(bounds: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """(sentences, 3): whether each sentence opens its text, closes it, and how far in it stands (0 to 1), the
    sentences of all texts in a row. Authors tend to close with what they propose; a lone sentence closes its text
    (how far in: 1), else a one-sentence proposal would read as an opening remark."""
    out = [(i == 0, i == len(bs) - 1, i / (len(bs) - 1) if len(bs) > 1 else 1.0)
           for bs in bounds for i in range(len(bs))]
    return np.array(out, dtype=float).reshape(len(out), 3)


def _as_columns(scores: np.ndarray) -> np.ndarray:
    """Two-class heads give one score per row; the stacker wants a column."""
    return scores.reshape(len(scores), -1)


def _best_threshold(y, scores) -> float:
    f1s = [f1_score(y, scores >= t, zero_division=0) for t in _THRESHOLD_GRID]
    return float(_THRESHOLD_GRID[int(np.argmax(f1s))])


def _stack_vectors(vectors: Sequence[np.ndarray], bounds: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """Per-text sentence vectors -> one (all sentences, dim) matrix of unit rows (a zero row stays zero)."""
    if len(vectors) != len(bounds):
        raise ValueError(f"sentence vectors for {len(vectors)} texts, expected {len(bounds)}")
    for i, (v, b) in enumerate(zip(vectors, bounds)):
        if np.ndim(v) != 2 or len(v) != len(b):
            raise ValueError(f"text {i}: sentence vectors of shape {np.shape(v)}, expected one row per sentence "
                             f"({len(b)})")
    rows = [np.asarray(v, dtype=np.float64) for v in vectors if len(v)]
    if not rows:
        return np.zeros((0, max((np.shape(v)[1] for v in vectors), default=0)))
    V = np.concatenate(rows)
    return V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)


def _document_vectors(V: np.ndarray, bounds: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """Each document's mean sentence vector (rows of ``V``, in the order of ``bounds``), unit length; zero for a
    document without sentences."""
    owner = np.repeat(np.arange(len(bounds)), [len(b) for b in bounds])
    D = np.zeros((len(bounds), V.shape[1]))
    np.add.at(D, owner, V)
    return D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-12)


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, 1e-6, 1 - 1e-6))


def _best_per_document(scores: np.ndarray, owner: np.ndarray, n_documents: int) -> np.ndarray:
    """The highest sentence score of each document (a low constant for a document without sentences)."""
    best = np.full(n_documents, _logit(np.array(1e-6)))
    np.maximum.at(best, owner, scores)
    return best


def _shares_text(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when the two spans share at least one character (``_overlaps`` asks for half of the shorter one)."""
    return min(a[1], b[1]) > max(a[0], b[0])


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when the two spans share at least half of the shorter one."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return inter > 0 and inter >= 0.5 * min(a[1] - a[0], b[1] - b[0])
