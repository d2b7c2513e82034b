import itertools

import pytest

import spplus_nlp
from spplus_nlp.pipeline import Analyzer


def test_analyze_many_is_lazy_and_ordered(toy_analyzer):
    texts = ["Agent désagréable. On m'a crié dessus au guichet.", "Bonne expérience. Le site est clair et simple."] * 5
    consumed = []

    def gen():
        for t in texts:
            consumed.append(t)
            yield t

    it = toy_analyzer.analyze_many(gen(), batch_size=4)
    first = next(it)
    assert len(consumed) == 4  # only the first batch was read
    rest = list(it)
    assert [first] + rest == [toy_analyzer.analyze(t) for t in texts]


def test_records_are_joined_like_exports(toy_analyzer):
    [a] = toy_analyzer.analyze_many([{"Titre": "Accueil", "Description": "Agent très aimable."}])
    assert a.text == "Accueil. Agent très aimable."


def test_bad_items_name_their_position(toy_analyzer):
    with pytest.raises(ValueError, match="item 1: empty text"):
        list(toy_analyzer.analyze_many(["ok", "  "]))
    with pytest.raises(TypeError, match="item 0"):
        toy_analyzer.analyze(3)


def test_items_before_a_bad_one_are_still_yielded(toy_analyzer):
    it = toy_analyzer.analyze_many(["Agent aimable.", "Site clair.", "\u200b\ufeff ", "Encore."], batch_size=10)
    assert [a.text for a in itertools.islice(it, 2)] == ["Agent aimable.", "Site clair."]
    with pytest.raises(ValueError, match="item 2: empty text"):  # zero-width characters only: nothing to analyse
        next(it)


def test_a_bad_batch_size_fails_at_the_call():
    with pytest.raises(ValueError, match="batch_size"):
        Analyzer(model=None).analyze_many(["x"], batch_size=0)


def test_shipped_default_model_loads_and_analyzes():
    nlp = spplus_nlp.load()
    a = nlp.analyze("J'attends ma carte grise depuis 4 mois, il faudrait un suivi en ligne.")
    d = a.to_dict()
    assert set(d) == {"sentiment", "engagements", "suggestions"}
    assert a.sentiment.label in {"positif", "neutre", "négatif"}
    assert "E4" in [t.id for t in a.engagements]
    assert any("il faudrait" in s.text for s in a.suggestions)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no model"):
        spplus_nlp.load("no-such-model")
