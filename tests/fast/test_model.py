import copy

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from spplus_nlp.taxonomy import ENGAGEMENT_IDS, SENTIMENTS
from spplus_nlp.types import Analysis


def test_learned_attributes_and_thresholds(toy_model):
    assert set(toy_model.thresholds_) == set(ENGAGEMENT_IDS)
    assert all(0.0 < t <= 1.0 for t in toy_model.thresholds_.values())
    assert toy_model.engagement_support_["E2"] == 9  # 3 toy experiences x 3 repeats


def test_predictions_are_consistent(toy_model):
    text = "Personne ne décroche. Impossible de joindre la caisse par téléphone."
    [a] = toy_model.predict([text])
    assert isinstance(a, Analysis)
    assert set(a.sentiment.scores) == set(SENTIMENTS)
    assert abs(sum(a.sentiment.scores.values()) - 1.0) < 1e-6
    assert a.sentiment.label == "négatif"
    assert "E2" in [t.id for t in a.engagements]
    for t in a.engagements:
        assert text[t.evidence.start:t.evidence.end] == t.evidence.text
        assert t.polarity in {"positif", "mitigé", "négatif"}


def test_suggestion_spans_are_exact_substrings(toy_model):
    text = "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?"
    [a] = toy_model.predict([text])
    assert a.suggestions, "the toy suggestion should be found"
    for s in a.suggestions:
        assert text[s.start:s.end] == s.text
        assert s.engagement in set(ENGAGEMENT_IDS) | {"autre"}
    assert any("Pourquoi ne pas" in s.text for s in a.suggestions)


def test_empty_batch(toy_model):
    assert toy_model.predict([]) == []


def test_a_batch_without_any_sentence(toy_model):
    [a] = toy_model.predict(["   "])
    assert not a.engagements and not a.suggestions
    assert sum(a.sentiment.scores.values()) == pytest.approx(1.0)


def test_given_sentences_are_used(toy_model):
    text = "Personne ne décroche. Impossible de joindre la caisse par téléphone."
    assert toy_model.predict([text], [[(0, len(text))]]) != toy_model.predict([text])  # one sentence, not two
    assert toy_model.predict([text], [[(0, 21), (22, len(text))]]) == toy_model.predict([text])
    with pytest.raises(ValueError, match="2 texts"):
        toy_model.predict([text, text], [[(0, 21)]])


def test_stacked_sentiment_probabilities(make_toy_examples):
    import numpy as np

    from spplus_nlp.fast.features import NgramTfidf
    from spplus_nlp.fast.model import StackedSentiment
    from sklearn.linear_model import LogisticRegression

    examples = make_toy_examples()
    texts, y = [ex["text"] for ex in examples], [ex["sentiment"] for ex in examples]
    X = NgramTfidf(min_df=1).fit(texts).transform(texts)
    head = StackedSentiment(LogisticRegression(class_weight="balanced", max_iter=1000), cv=3).fit(X, y)
    P = head.predict_proba(X)
    assert list(head.classes_) == sorted(set(y))
    assert P.shape == (len(y), 3) and np.allclose(P.sum(axis=1), 1.0)
    assert (head.predict(X) == np.asarray(y)).mean() > 0.9
    # a class with a single example: no out-of-fold scores, still a usable head
    assert [y[i] for i in range(9)].count("neutre") == 1
    few = StackedSentiment(LogisticRegression(max_iter=1000)).fit(X[:9], y[:9])
    assert np.allclose(few.predict_proba(X[:9]).sum(axis=1), 1.0) and len(few.classes_) == 3


def test_stacked_sentiment_maps_scores_to_probabilities_on_the_rows_it_is_told(make_toy_examples):
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from spplus_nlp.fast.features import NgramTfidf
    from spplus_nlp.fast.model import StackedSentiment, _as_columns

    examples = make_toy_examples()
    texts, y = [ex["text"] for ex in examples], np.asarray([ex["sentiment"] for ex in examples])
    X = NgramTfidf(min_df=1).fit(texts).transform(texts)
    est = LogisticRegression(class_weight="balanced", max_iter=1000)
    mask = np.arange(len(y)) % 2 == 0
    part = StackedSentiment(est, cv=3).fit(X, y, calibrate_on=mask)
    whole = StackedSentiment(est, cv=3).fit(X, y)
    # the same out-of-fold scores; the map is the one fitted on the masked rows alone
    assert np.allclose(part.estimator_.decision_function(X), whole.estimator_.decision_function(X))
    scores = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    oof = cross_val_predict(est, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0), method="decision_function")
    expected = scores.fit(_as_columns(oof)[mask], y[mask])
    assert np.allclose(part.stacker_.coef_, expected.coef_) and not np.allclose(part.stacker_.coef_, whole.stacker_.coef_)
    assert part.oof_proba_.shape == (len(y), 3)
    # a mask that leaves out a class would give a map without it: all rows fit it instead
    no_neutre = y != "neutre"
    fallback = StackedSentiment(est, cv=3).fit(X, y, calibrate_on=no_neutre)
    assert np.allclose(fallback.stacker_.coef_, whole.stacker_.coef_)


def _polarity_corpus(evidence_decides: bool) -> list[dict]:
    """Experiences with one E1 evidence span each. Either the evidence's words give its polarity and the document's
    sentiment says nothing about it, or the other way round (the evidence's words are then misleading)."""
    import itertools

    words = {"positif": "formidable", "mitigé": "moyen", "négatif": "odieux"}
    tone = {"positif": "Merci, tout est parfait.", "neutre": "Rien à signaler.", "négatif": "Quelle honte, aucun respect."}
    to_polarity = {"positif": "positif", "neutre": "mitigé", "négatif": "négatif"}
    out = []
    for k, (sentiment, other) in enumerate(itertools.product(tone, tone)):
        for r in range(6):
            polarity = to_polarity[other] if evidence_decides else to_polarity[sentiment]
            evidence = f"agent {words[to_polarity[other]]}"
            text = f"{tone[sentiment]} Passage {k}-{r}. L'{evidence} au guichet."
            start = text.index(evidence)
            out.append({"text": text, "sentiment": sentiment, "annotated": True, "suggestions": [],
                        "engagements": [{"id": "E1", "polarity": polarity, "start": start,
                                         "end": start + len(evidence)}] if r else []})
    return out


def test_polarity_weight_is_tuned_unless_given():
    from spplus_nlp.fast.model import FastModel

    trusts_evidence = FastModel().fit(_polarity_corpus(evidence_decides=True))
    trusts_document = FastModel().fit(_polarity_corpus(evidence_decides=False))
    assert trusts_evidence.polarity_doc_weight_ < 0.5 <= trusts_document.polarity_doc_weight_
    assert trusts_document.sentiment_.oof_proba_.shape == (54, 3)
    assert FastModel(polarity_doc_weight=0.3).fit(_polarity_corpus(True)).polarity_doc_weight_ == 0.3


def test_thresholds_tuned_for_micro_f1_do_not_lower_it():
    import numpy as np
    from sklearn.metrics import f1_score

    from spplus_nlp.fast.model import FastModel, _best_threshold

    rng = np.random.default_rng(0)
    # a strong label and a weak one: the weak one's own best F1 sits at a low threshold that floods micro-F1
    Y = (rng.random((400, 2)) < [0.4, 0.3]).astype(int)
    P = np.clip(np.column_stack([0.8 * Y[:, 0] + 0.3 * rng.random(400), 0.15 * Y[:, 1] + 0.6 * rng.random(400)]), 0, 1)
    model = FastModel()
    model.thresholds_ = {lab: _best_threshold(Y[:, j], P[:, j]) for j, lab in enumerate(["A", "B"])}

    def micro(th):
        return f1_score(Y.ravel(), (P >= [th["A"], th["B"]]).ravel())

    before = micro(dict(model.thresholds_))
    model._tune_thresholds_for_micro_f1(Y, P, ["A", "B"])
    assert micro(model.thresholds_) > before
    assert model.thresholds_["B"] > _best_threshold(Y[:, 1], P[:, 1])  # the weak label is asked for more


def test_sentence_heads_pick_the_evidence(make_toy_examples):
    from spplus_nlp.fast.model import FastModel

    model = FastModel().fit(make_toy_examples(repeat=4))  # E2 and E5: 12 evidence sentences each
    assert {"E2", "E5"} <= set(model.sentence_heads_) == set(model.engagement_stackers_)
    text = "Personne ne décroche. Impossible de joindre la caisse par téléphone."
    [a] = model.predict([text])
    e2 = next(t for t in a.engagements if t.id == "E2")
    assert e2.evidence.text == "Impossible de joindre la caisse par téléphone."
    # the evidence scores are the sentence head's own, not the document head's read on a sentence
    Xs = model.vectorizer_.transform(["Personne ne décroche.", "Impossible de joindre la caisse par téléphone."])
    j = ENGAGEMENT_IDS.index("E2")
    assert model._sentence_engagement_scores(Xs)[:, j] == pytest.approx(
        model.sentence_heads_["E2"].predict_proba(Xs)[:, 1])
    without = FastModel(sentence_evidence=False).fit(make_toy_examples(repeat=4))
    assert without.sentence_heads_ == {} and without.engagement_stackers_ == {}


def test_a_model_saved_before_sentence_heads_and_span_boundaries_still_predicts(toy_model):
    old = copy.deepcopy(toy_model)
    for name in ("sentence_heads_", "engagement_stackers_", "suggestion_spans_"):
        delattr(old, name)
    text = "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?"
    [a] = old.predict([text])
    assert [s.text for s in a.suggestions] == ["Pourquoi ne pas ouvrir plus de créneaux le samedi ?"]  # the rule's span


def test_unknown_threshold_objective_is_refused(make_toy_examples):
    from spplus_nlp.fast.model import FastModel

    with pytest.raises(ValueError, match="threshold_objective"):
        FastModel(threshold_objective="macro").fit(make_toy_examples())


def test_suggestion_spans_come_from_the_learnt_boundaries(toy_model):
    class FirstWordOnly:  # stands in for a trained SpanBoundaries
        def predict_many(self, sentences):
            return [(s, text.index(" ", s)) for text, s, _ in sentences]

    model = copy.deepcopy(toy_model)
    model.suggestion_spans_ = FirstWordOnly()
    text = "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?"
    [a] = model.predict([text])
    assert [s.text for s in a.suggestions] == ["Pourquoi"]


def test_dense_sentence_vectors_feed_a_third_view_of_each_engagement(make_toy_examples):
    from spplus_nlp.fast.model import FastModel
    from spplus_nlp.language import segment_sentences

    examples = make_toy_examples(repeat=4)
    bounds = list(segment_sentences([ex["text"] for ex in examples]))
    rng = np.random.default_rng(0)

    def vectors(texts_bounds, flag_e2):
        # 8 noisy dimensions; the first says "this sentence is about reaching the service" when flag_e2 allows
        out = []
        for text, bs in texts_bounds:
            v = rng.normal(0, 0.1, (len(bs), 8))
            v[:, 0] += [flag_e2 and ("joindre" in text[s:e] or "rendez-vous disponible" in text[s:e]) for s, e in bs]
            out.append(v)
        return out

    model = FastModel().fit(examples, sentence_vectors=vectors(zip([ex["text"] for ex in examples], bounds), True))
    assert {"E2", "E5"} <= set(model.dense_sentence_heads_) <= set(model.engagement_stackers_)
    assert model.engagement_stackers_["E2"].coef_.shape == (1, 3)
    assert model.dense_sentence_heads_["E2"].coef_[0, 0] > 0  # the flag dimension says E2

    text = "Personne ne décroche. Impossible de joindre la caisse par téléphone."
    [b] = segment_sentences([text])
    with pytest.raises(ValueError, match="sentence_vectors"):
        model.predict([text])
    with pytest.raises(ValueError, match="text 0"):
        model.predict([text], [b], [np.zeros((len(b) + 1, 8))])
    score = lambda v: next((t.score for t in model.predict([text], [b], [v])[0].engagements if t.id == "E2"), 0.0)
    flagged, unflagged = vectors([(text, b)], True)[0], vectors([(text, b)], False)[0]
    assert score(flagged) > score(unflagged)

    # the evidence is the sentence both sentence heads point to: a dense head sure of the other sentence moves it
    class Sure:  # a dense head certain that the first sentence, and only it, is about reaching the service
        def predict_proba(self, V):
            p = np.where(np.arange(len(V)) == 0, 1 - 1e-5, 1e-5)
            return np.column_stack([1 - p, p])

    sure = copy.deepcopy(model)
    sure.dense_sentence_heads_["E2"] = Sure()
    [a] = sure.predict([text], [b], [flagged])
    assert next(t.evidence.text for t in a.engagements if t.id == "E2") == "Personne ne décroche."
    # a text without sentences takes a (0, dim) array
    assert model.predict(["", text], [[], b], [np.zeros((0, 8)), flagged])[0].engagements == []
    plain = FastModel().fit(examples)
    assert plain.dense_sentence_heads_ == {} and plain.predict([text])  # without vectors, as before
    old = copy.deepcopy(plain)  # saved before dense heads existed
    del old.dense_sentence_heads_, old.dense_C
    assert not old.reads_sentence_vectors
    assert old.predict([text]) == old.predict([text], [b], [flagged]) == plain.predict([text])


def test_dense_sentence_vectors_feed_a_second_suggestion_head(make_toy_examples):
    from spplus_nlp.fast.model import FastModel, _overlaps  # _overlaps: how a sentence is labelled a suggestion
    from spplus_nlp.language import segment_sentences

    # an unannotated row first: the suggestion rows are then not all the sentence rows, nor in the same places
    unannotated = {"text": "Bon accueil. Il faudrait que tout soit aussi simple.", "sentiment": "positif",
                   "annotated": False, "engagements": [], "suggestions": []}
    examples = [unannotated] + make_toy_examples(repeat=4)
    bounds = list(segment_sentences([ex["text"] for ex in examples]))
    rng = np.random.default_rng(0)

    def vectors(texts_bounds, spans=None):
        # 8 dimensions: a constant (rows are L2-normalised by fit), noise, and a flag in the second, "this sentence
        # holds a suggestion" (from the gold when given), said wrongly on the unannotated row, which must not be read
        out = []
        for k, (text, bs) in enumerate(texts_bounds):
            v = rng.normal(0, 0.1, (len(bs), 8))
            v[:, 0] = 1.0
            gold = spans[k] if spans is not None else []
            v[:, 1] += [any(_overlaps((s, e), (g["start"], g["end"])) for g in gold) for s, e in bs]
            if spans is not None and k == 0:
                v[:, 1] = 5.0
            out.append(v)
        return out

    texts = [ex["text"] for ex in examples]
    seen = []  # what the dense suggestion head is fitted on: the flag must line up with the labels, row by row

    class Recording(LogisticRegression):
        def fit(self, X, y, **kw):
            if X.shape[1] == 8 and set(np.unique(y)) == {0, 1}:
                seen.append((np.asarray(X)[:, 1] > 0.5, np.asarray(y)))
            return super().fit(X, y, **kw)

    class Spy(FastModel):
        def _linear(self, C=None):
            return Recording(**super()._linear(C).get_params())

    model = Spy().fit(examples, sentence_vectors=vectors(zip(texts, bounds), [ex["suggestions"] for ex in examples]))
    flag, y = seen[-1]  # the last 8-dimensional fit is the final dense suggestion head's
    assert len(y) == sum(len(b) for b in bounds[1:]) and y.sum() > 0 and (flag == y).all()
    assert model.reads_sentence_vectors
    assert model.suggestion_stacker_.coef_.shape == (1, 2)
    assert model.suggestion_dense_head_.coef_[0, 1] > 0  # the flag dimension says "suggestion"
    assert model.suggestion_stacker_.coef_[0, 1] > 0  # and the mix listens to it

    text = "Accueil correct. Il faudrait ouvrir le guichet le samedi."
    [b] = segment_sentences([text])
    flagged = rng.normal(0, 0.1, (len(b), 8))
    flagged[:, 0] = 1.0
    flagged[1, 1] = 1.0
    unflagged = flagged.copy()
    unflagged[1, 1] = 0.0

    def score(m, v):
        return max((s.score for s in m.predict([text], [b], [v])[0].suggestions), default=0.0)

    assert score(model, flagged) > score(model, unflagged)
    # a model saved before the dense suggestion head: its engagements still read vectors, its suggestions do not
    old = copy.deepcopy(model)
    del old.suggestion_stacker_, old.suggestion_dense_head_
    assert old.reads_sentence_vectors
    assert score(old, flagged) == score(old, unflagged)
    # a model whose only dense head is the suggestion one still asks for vectors
    only = copy.deepcopy(model)
    only.dense_sentence_heads_ = {}
    assert only.reads_sentence_vectors
    with pytest.raises(ValueError, match="suggestion or sentiment heads read dense sentence vectors"):
        only.predict([text])
    plain = FastModel().fit(examples)
    assert plain.suggestion_stacker_ is None and plain.suggestion_dense_head_ is None
    assert not plain.reads_sentence_vectors


def test_dense_sentence_vectors_feed_the_sentiment_head(make_toy_examples):
    from spplus_nlp.fast.model import FastModel
    from spplus_nlp.language import segment_sentences

    examples = make_toy_examples(repeat=4)
    texts = [ex["text"] for ex in examples]
    bounds = list(segment_sentences(texts))
    rng = np.random.default_rng(0)
    sentiments = ["positif", "neutre", "négatif"]

    def vectors(labels):  # 8 dimensions: noise, and one dimension per sentiment flagged in every sentence
        out = []
        for label, bs in zip(labels, bounds):
            v = rng.normal(0, 0.1, (len(bs), 8))
            v[:, 1 + sentiments.index(label)] += 1.0
            out.append(v)
        return out

    model = FastModel().fit(examples, sentence_vectors=vectors([ex["sentiment"] for ex in examples]))
    assert model.sentiment_reads_vectors_ and model.reads_sentence_vectors
    n_ngrams = sum(len(c.vocabulary_) for c in model.vectorizer_.counters_)
    assert model.sentiment_.estimator_.coef_.shape[1] == n_ngrams + 8  # n-grams, then the document's mean vector

    text, b = texts[0], bounds[0]
    proba = {lab: model.predict([text], [b], vectors([lab]))[0].sentiment.scores for lab in sentiments}
    for lab in sentiments:  # the flag moves the sentiment towards its label
        assert proba[lab][lab] > min(proba[other][lab] for other in sentiments if other != lab)
    no_dense = FastModel(dense_sentiment=False).fit(examples, sentence_vectors=vectors([ex["sentiment"] for ex in examples]))
    assert not no_dense.sentiment_reads_vectors_
    assert no_dense.sentiment_.estimator_.coef_.shape[1] == n_ngrams
    old = copy.deepcopy(no_dense)  # saved before the attribute existed: reads n-grams only
    del old.sentiment_reads_vectors_, old.dense_sentiment
    assert old.predict([text], [b], vectors(["positif"])) == no_dense.predict([text], [b], vectors(["positif"]))
    broken = vectors(["positif"])
    broken[0][0, 3] = np.nan  # scikit-learn's own checks are off in predict: the vectors are checked there
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.predict([text], [b], broken)


def test_a_long_evidence_sentence_is_narrowed_to_a_clause(toy_model):
    text = ("Je suis passé au guichet trois fois cette année pour la même démarche, on m'a renvoyé chez moi chaque "
            "fois sans explication claire, et impossible de joindre la caisse par téléphone depuis des semaines "
            "malgré mes nombreux appels.")
    whole = copy.deepcopy(toy_model)
    whole.max_evidence_words = None
    [w] = whole.predict([text])
    e2 = next(t for t in w.engagements if t.id == "E2")
    assert e2.evidence.text == text  # one sentence of 41 words
    [a] = toy_model.predict([text])  # the default: at most 25 words
    narrowed = next(t for t in a.engagements if t.id == "E2")
    assert 3 <= len(narrowed.evidence.text.split()) <= 25
    assert "joindre" in narrowed.evidence.text  # the clause its sentence head prefers
    assert text[narrowed.evidence.start:narrowed.evidence.end] == narrowed.evidence.text
    assert (narrowed.score, narrowed.polarity) == (e2.score, e2.polarity)  # only the span changes
    old = copy.deepcopy(toy_model)  # saved before the parameter: whole sentences, as when it was measured
    del old.max_evidence_words
    assert old.predict([text]) == whole.predict([text])


def test_sentence_positions_say_first_last_and_how_far_in():
    from spplus_nlp.fast.model import _sentence_positions

    positions = _sentence_positions([[(0, 5), (6, 10), (11, 20)], [(0, 3)], []])
    assert positions.tolist() == [[1, 0, 0], [0, 0, 0.5], [0, 1, 1], [1, 1, 1]]
    assert _sentence_positions([]).shape == (0, 3)


def test_the_suggestion_head_reads_where_a_sentence_stands_unless_told_not_to(make_toy_examples):
    from spplus_nlp.fast.model import FastModel, _sentence_positions

    sentence = "Il faudrait ouvrir plus de créneaux le samedi."
    for reads in (True, False):
        model = FastModel(sentence_position=reads).fit(make_toy_examples(repeat=2))
        Xs = model.vectorizer_.transform([sentence, sentence])
        first_then_last = _sentence_positions([[(0, 1), (2, 3), (4, 5)]])[[0, 2]]
        p_first, p_last = model._suggestion_probs([sentence, sentence], Xs, None, first_then_last)
        assert model.suggestion_reads_position_ is reads
        assert (p_first != pytest.approx(p_last)) is reads


def test_a_model_saved_before_sentence_positions_still_predicts(make_toy_examples):
    from spplus_nlp.fast.model import FastModel

    old = FastModel(sentence_position=False).fit(make_toy_examples(repeat=2))
    del old.suggestion_reads_position_, old.sentence_position  # as unpickled from an older version
    text = "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?"
    [a] = old.predict([text])
    assert all(text[s.start:s.end] == s.text for s in a.suggestions)
