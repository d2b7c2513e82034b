import numpy as np
import pytest

from spplus_nlp.accurate.calibration import IDENTITY, best_threshold, fit_platt, fit_temperature, platt
from spplus_nlp.accurate.targets import IGNORE, make_targets
from spplus_nlp.accurate.training import split
from spplus_nlp.taxonomy import ENGAGEMENT_IDS, SUGGESTION_TARGETS


def _record():
    text = "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir le samedi ?"
    ev, sugg = "Pas de rendez-vous disponible", "Pourquoi ne pas ouvrir le samedi ?"
    return text, {"text": text, "sentiment": "négatif", "annotated": True, "source": "x",
                  "engagements": [{"id": "E2", "polarity": "négatif", "start": text.index(ev),
                                   "end": text.index(ev) + len(ev)}],
                  "suggestions": [{"start": text.index(sugg), "end": text.index(sugg) + len(sugg),
                                   "engagement": "E2"}],
                  "tags": {"accessibilite": "négatif", "information_explication": "", "relation": "",
                           "reactivite": "", "simplicite_complexite": ""}}


def test_targets_at_document_and_sentence_level():
    text, record = _record()
    sentences = [(0, 12), (13, 59), (60, len(text))]
    t = make_targets(record, sentences)
    e2 = ENGAGEMENT_IDS.index("E2")
    assert t.sentiment == 2 and t.engagements[e2] == 1 and t.engagements.sum() == 1
    assert t.evidence[:, e2].tolist() == [IGNORE, 1, IGNORE]  # other sentences may mention E2 too
    assert t.evidence[:, 0].tolist() == [0, 0, 0]
    assert t.polarity == [(e2, 2, 1)]
    assert t.suggestion.tolist() == [0, 0, 1] and t.target[2] == SUGGESTION_TARGETS.index("E2")
    assert t.tags.tolist() == [3, 0, 0, 0, 0]


def test_unknown_labels_do_not_count():
    text, record = _record()
    t = make_targets({**record, "annotated": False, "sentiment": "", "source": "supplement"}, [(0, 12)])
    assert t.sentiment == IGNORE and not t.annotated
    assert (t.evidence == IGNORE).all() and (t.suggestion == IGNORE).all() and (t.tags == IGNORE).all()


def test_split_keeps_supplement_rows_in_training():
    records = [{"id": str(i), "sentiment": ["positif", "neutre", "négatif"][i % 3], "source": "real"}
               for i in range(30)]
    records += [{"id": f"s{i}", "sentiment": "positif", "source": "supplement"} for i in range(4)]
    train, dev = split(records, dev_fraction=0.2, seed=0)
    assert len(dev) == 6 and len(train) == 28
    assert all(r["source"] == "real" for r in dev)
    assert {r["id"] for r in train} | {r["id"] for r in dev} == {r["id"] for r in records}
    assert split(records, 0.2, 0) == (train, dev)  # deterministic


def test_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 3)) * 3
    p = np.exp(logits / 3) / np.exp(logits / 3).sum(1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    assert fit_temperature(logits, y) == pytest.approx(3.0, rel=0.15)


def test_platt_and_thresholds_need_enough_positives():
    assert fit_platt(np.array([0.1, 2.0, -1.0]), np.array([0, 1, 0])) == IDENTITY
    assert best_threshold(np.array([0, 1, 0]), np.array([0.1, 0.9, 0.2])) == 0.5
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    logits = 4 * (y - 0.5) + rng.normal(size=500)
    a, b = fit_platt(logits, y)
    assert a > 0
    p = platt(logits, (a, b))
    assert abs(p.mean() - y.mean()) < 0.05
    assert 0.2 <= best_threshold(y, p) <= 0.8


def test_cross_validation_runs_on_a_tiny_base(tiny_base, make_toy_examples):
    from datasets import Dataset

    from spplus_nlp.accurate.training import LowerCache, cross_validate
    from spplus_nlp.corpora.spplus import FEATURES

    records = [{**r, "service": "", "tags": {f: "" for f in FEATURES["tags"]}} for r in make_toy_examples(2)]
    records[0]["source"] = "supplement"
    corpus = Dataset.from_list(records, features=FEATURES)
    cache = LowerCache()
    report, predictions = cross_validate(corpus, k=2, cache=cache, base_model=str(tiny_base), top_layers=1,
                                         max_length=24, stride=6, epochs=1)
    assert report["n"] == len(records) - 1 and len(predictions) == report["n"]
    assert set(cache.states) == {r["text"] for r in records}  # frozen states computed once, shared by the folds
