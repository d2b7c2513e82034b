import numpy as np
import pytest

from spplus_nlp.suggestions import boundaries
from spplus_nlp.suggestions.boundaries import SpanBoundaries, _candidates
from spplus_nlp.suggestions.spans import narrow

# Team-written sentences: the proposal is the clause after the complaint, without the full stop or the reason.
_PATTERNS = [
    ("Le site plante tout le temps, il faudrait {x}.", "il faudrait {x}"),
    ("Personne ne répond, pourquoi ne pas {x} ?", "pourquoi ne pas {x} ?"),
    ("J'ai attendu trois heures, je suggère de {x} car c'est intenable.", "je suggère de {x}"),
    ("Il faudrait {x}, ce qui éviterait des appels.", "Il faudrait {x}"),
]
_THINGS = ["ouvrir le samedi", "rappeler les usagers", "mettre un numéro direct", "publier les délais",
           "simplifier le formulaire", "envoyer un accusé de réception", "former les agents", "afficher les horaires"]


def _examples():
    texts, sentences, spans = [], [], []
    for pattern, gold in _PATTERNS:
        for thing in _THINGS:
            text = "Titre. " + pattern.format(x=thing)
            span = gold.format(x=thing)
            texts.append(text)
            sentences.append((7, len(text)))
            spans.append((text.index(span), text.index(span) + len(span)))
    return texts, sentences, spans


def test_learns_where_spans_start_and_end():
    texts, sentences, spans = _examples()
    model = SpanBoundaries(min_spans=5).fit(texts[::2], sentences[::2], spans[::2])
    assert model.n_spans_ == len(texts[::2])
    predicted = model.predict_many([(t, *s) for t, s in zip(texts[1::2], sentences[1::2])])
    assert predicted == spans[1::2]
    # the fixed rule keeps the ", ce qui …" clause: the learnt model does better
    assert sum(narrow(t, *s) == g for t, s, g in zip(texts, sentences, spans)) < len(texts)


def test_falls_back_to_the_rule_with_too_few_spans():
    texts, sentences, spans = _examples()
    model = SpanBoundaries(min_spans=100).fit(texts, sentences, spans)
    assert model.start_head_ is None
    assert model.predict(texts[0], *sentences[0]) == narrow(texts[0], *sentences[0])


def test_span_outside_its_sentence_is_refused():
    with pytest.raises(ValueError, match="not inside its sentence"):
        SpanBoundaries().fit(["Il faudrait un guichet."], [(0, 10)], [(0, 22)])


def test_candidates_cover_word_starts_and_ends_with_closing_marks():
    text = "Pourquoi pas un guichet ?"
    starts, ends = _candidates(text, 0, len(text))
    assert [p for p, _ in starts] == [0, 9, 13, 16]
    assert [q for q, _ in ends] == [8, 12, 15, 23, 25]  # "guichet" and "guichet ?"
    assert all(p < len(text) for p, _ in starts)


def test_sentences_without_words_fall_back_to_the_rule():
    texts, sentences, spans = _examples()
    model = SpanBoundaries(min_spans=5).fit(texts, sentences, spans)
    assert model.predict_many([("?!", 0, 2)]) == [narrow("?!", 0, 2)]
    mixed = model.predict_many([("?!", 0, 2), (texts[0], *sentences[0])])
    assert mixed == [narrow("?!", 0, 2), spans[0]]


def test_one_word_spans_only_give_the_rule():
    text = "Guichet. Horaires."
    model = SpanBoundaries(min_spans=1).fit([text] * 3, [(0, 8)] * 3, [(0, 7)] * 3)
    assert model.start_head_ is None  # every candidate start is the gold one: nothing to learn


def test_length_prior_is_learnt_from_the_gold_spans_and_weighs_on_the_span():
    texts, sentences, spans = _examples()
    model = SpanBoundaries(min_spans=5).fit(texts, sentences, spans)
    lengths = [len(t[a:b].replace("?", "").split()) for t, (a, b) in zip(texts, spans)]
    assert min(lengths) == 5 and max(lengths) == 8  # the bins "5", "6" and "7-8" (indices 4 to 6)
    prior = np.exp(model.length_log_prior_)
    assert prior.sum() == pytest.approx(1.0)
    # every gold span in those 3 bins; each bin also has one add-one count
    assert prior[4:7].sum() == pytest.approx((len(spans) + 3) / (len(spans) + len(prior)))
    assert prior[0] == pytest.approx(1 / (len(spans) + len(prior)))
    text, (s, e) = texts[0], sentences[0]
    assert model.predict(text, s, e) == spans[0]
    # a prior that only allows 2-word spans must move the answer to a 2-word span
    model.length_log_prior_ = np.full(len(prior), -50.0)
    model.length_log_prior_[1] = 0.0
    start, end = model.predict(text, s, e)
    assert len(text[start:end].split()) == 2


def test_models_fitted_before_the_length_prior_keep_their_own_score(monkeypatch):
    texts, sentences, spans = _examples()
    model = SpanBoundaries(min_spans=5).fit(texts, sentences, spans)
    # "aa bb cc": starts 0, 3, 6 and ends 2, 5, 8, with head scores where the two ways of adding them disagree:
    # logits, (6, 8) scores 6 - 5 = 1 > (3, 5) 0 + 0; log-probabilities, (3, 5) -1.39 > (6, 8) -5.01
    logits = iter([np.array([-4.0, 0.0, 6.0]), np.array([-4.0, 0.0, -5.0])] * 2)
    monkeypatch.setattr(boundaries, "_linear_scores", lambda *_: next(logits))
    model.length_log_prior_ = np.zeros(len(model.length_log_prior_))  # a flat prior: log-probabilities decide
    assert model.predict("aa bb cc", 0, 8) == (3, 5)
    del model.length_log_prior_  # as unpickled from a model fitted before the prior: its own score, the logits
    assert model.predict("aa bb cc", 0, 8) == (6, 8)
