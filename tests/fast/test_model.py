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
