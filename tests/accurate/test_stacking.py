import numpy as np
import pytest
import torch

from spplus_nlp.accurate import AccurateModel
from spplus_nlp.accurate.stacking import fit_mix_temperature, mixed_sentiment
from spplus_nlp.taxonomy import ENGAGEMENT_IDS, SENTIMENTS

TEXTS = [
    "Personne ne décroche. Impossible de joindre la caisse par téléphone.",
    "Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?",
    "Accueil parfait. L'agent était très aimable et souriant.",
]


def fast_predict(model, texts):
    """The stacked fast part's own predictions, given the frozen sentence vectors the accurate model feeds it."""
    from spplus_nlp.language import segment_sentences

    sentences = list(segment_sentences(texts))
    frozen = model._run(texts, sentences)[3]["frozen_sentences"].numpy()
    first = np.cumsum([0] + [len(s) for s in sentences])
    return model.fast_.predict(texts, sentences, [frozen[first[d]:first[d + 1]] for d in range(len(texts))])


def test_mixed_sentiment_is_the_normalised_geometric_mean():
    a, b = np.array([[0.7, 0.2, 0.1]]), np.array([[0.1, 0.2, 0.7]])
    geometric = np.sqrt(a * b) / np.sqrt(a * b).sum()
    assert np.allclose(mixed_sentiment(a, b), geometric, atol=1e-5)
    sharper = mixed_sentiment(np.array([[0.6, 0.3, 0.1]]), np.array([[0.5, 0.3, 0.2]]), temperature=0.5)
    assert sharper.sum() == pytest.approx(1.0) and sharper[0, 0] > mixed_sentiment(
        np.array([[0.6, 0.3, 0.1]]), np.array([[0.5, 0.3, 0.2]]))[0, 0]


def test_mix_temperature_is_fitted_on_labelled_rows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    # both models right but timid: the fitted temperature sharpens their mix (T < 1)
    timid = np.full((400, 3), 0.3)
    timid[np.arange(400), y] = 0.4
    labels = [SENTIMENTS[i] for i in y] + [None, ""]
    timid = np.vstack([timid, np.full((2, 3), 1 / 3)])
    t = fit_mix_temperature(timid, timid, labels)
    assert t < 0.5
    assert (mixed_sentiment(timid[:400], timid[:400], t).max(axis=1) > 0.9).all()


def test_stacked_model_takes_engagements_and_suggestions_from_its_fast_model(tiny_accurate):
    assert tiny_accurate.stack_fast and tiny_accurate.fast_ is not None
    stacked, fast = tiny_accurate.predict(TEXTS), fast_predict(tiny_accurate, TEXTS)
    for a, f in zip(stacked, fast):
        assert [(t.id, t.score, t.evidence) for t in a.engagements] == [(t.id, t.score, t.evidence) for t in f.engagements]
        assert [(s.text, s.start, s.end, s.score) for s in a.suggestions] == [
            (s.text, s.start, s.end, s.score) for s in f.suggestions]
        assert sum(a.sentiment.scores.values()) == pytest.approx(1.0)
    assert any(a.engagements for a in stacked) and any(a.suggestions for a in stacked)


def test_the_encoder_target_head_ties_the_fast_parts_suggestions_to_an_engagement(tiny_accurate):
    # forced to "E8", the encoder's target head wins over whatever the fast part's own target head says
    from spplus_nlp.accurate.model import _holding_sentence
    from spplus_nlp.taxonomy import SUGGESTION_TARGETS

    fast = fast_predict(tiny_accurate, TEXTS)
    assert any(s.engagement != "E8" for f in fast for s in f.suggestions)
    saved = {k: v.clone() for k, v in tiny_accurate.heads_.state_dict().items()}
    try:
        with torch.no_grad():
            tiny_accurate.heads_.target.weight.zero_()
            tiny_accurate.heads_.target.bias.zero_()
            tiny_accurate.heads_.target.bias[SUGGESTION_TARGETS.index("E8")] = 10.0
        stacked = tiny_accurate.predict(TEXTS)
    finally:
        tiny_accurate.heads_.load_state_dict(saved)
    assert [len(a.suggestions) for a in stacked] == [len(f.suggestions) for f in fast]
    assert {s.engagement for a in stacked for s in a.suggestions} == {"E8"}
    # the sentence holding a span: the one it shares the most characters with
    assert _holding_sentence([(0, 10), (11, 30), (31, 40)], 8, 25) == 1
    assert _holding_sentence([(0, 10), (11, 30)], 0, 4) == 0


def test_polarity_comes_from_the_encoder_head(tiny_accurate):
    # the encoder's polarity head, read on the fast model's evidence sentence: forced to "positif", it wins over the
    # fast model's own "négatif"
    import torch

    from spplus_nlp.taxonomy import POLARITIES

    [fast] = fast_predict(tiny_accurate, TEXTS[:1])
    assert fast.engagements and "positif" not in {t.polarity for t in fast.engagements}
    saved = {k: v.clone() for k, v in tiny_accurate.heads_.state_dict().items()}
    try:
        with torch.no_grad():
            for name, p in tiny_accurate.heads_.named_parameters():
                if name.startswith("polarity"):
                    p.zero_()
                    if name.endswith("bias"):
                        p.view(-1, len(POLARITIES))[:, POLARITIES.index("positif")] = 10.0
        [b] = tiny_accurate.predict(TEXTS[:1])
    finally:
        tiny_accurate.heads_.load_state_dict(saved)
    assert [t.id for t in b.engagements] == [t.id for t in fast.engagements]
    assert {t.polarity for t in b.engagements} == {"positif"}


def test_the_fast_part_reads_the_frozen_lower_layers(tiny_accurate, tiny_base, make_toy_examples):
    from spplus_nlp.language import segment_sentences

    fast = tiny_accurate.fast_
    assert {"E2", "E5"} <= set(fast.dense_sentence_heads_)
    assert fast.dense_sentence_heads_["E2"].coef_.shape == (1, tiny_accurate.body_.hidden_size)
    # the vectors are the base's states after frozen_layers layers, untouched by training: a fresh body gives the
    # same ones
    sentences = list(segment_sentences(TEXTS))
    frozen = tiny_accurate._run(TEXTS, sentences)[3]["frozen_sentences"]
    assert frozen.shape == (sum(len(s) for s in sentences), tiny_accurate.body_.hidden_size)
    fresh = AccurateModel(base_model=str(tiny_base), top_layers=1, max_length=24, stride=6)
    fresh._build(tiny_base)
    from spplus_nlp.accurate.pooling import make_plans, pad, pool

    plans = make_plans(fresh.windower_, TEXTS[:1], sentences[:1])
    ids, mask = pad(plans[0].windows.windows, fresh.tokenizer_.pad_token_id)
    with torch.inference_mode():
        expected = pool(fresh.body_.lower_and_frozen(ids, mask)[1], plans)[1]
    assert torch.allclose(frozen[:len(sentences[0])], expected, atol=1e-5)
    # and the fast part's engagement scores read them: the dense head's logits follow the vectors, and the stacker
    # moves its probability with those logits. Compared unrounded and on forced logits, because the published,
    # rounded score of a tiny model can saturate at the same value on another machine's numerics.
    j = ENGAGEMENT_IDS.index("E2")
    V = frozen[:len(sentences[0])].numpy()
    assert not np.allclose(fast._dense_sentence_logits(V)[:, j], fast._dense_sentence_logits(-V)[:, j])
    assert fast.engagement_stackers_["E2"].n_features_in_ == 3  # document head, n-gram sentence head, dense head
    X, Xs = fast.vectorizer_.documents_and_sentences(TEXTS[:1], sentences[:1])
    sent_eng, owner = fast._sentence_engagement_scores(Xs), np.zeros(len(sentences[0]), dtype=int)
    low, high = (fast._engagement_probs(X, sent_eng, owner, np.full((len(V), len(ENGAGEMENT_IDS)), z))[0, j]
                 for z in (-8.0, 8.0))
    assert (high - low) * fast.engagement_stackers_["E2"].coef_[0, 2] > 0


def test_training_pools_the_same_frozen_vectors_as_inference(tiny_accurate):
    from spplus_nlp.accurate.pooling import make_plans, sentence_means
    from spplus_nlp.accurate.training import LowerCache
    from spplus_nlp.language import segment_sentences

    sentences = list(segment_sentences(TEXTS))
    plans = make_plans(tiny_accurate.windower_, TEXTS, sentences)
    cache = LowerCache()
    cache.get(tiny_accurate, TEXTS, plans)
    cached = cache.frozen(TEXTS)
    trained_on = torch.cat([sentence_means(states, plan) for states, plan in zip(cached, plans)])
    assert torch.allclose(trained_on, tiny_accurate._run(TEXTS, sentences)[3]["frozen_sentences"], atol=1e-5)


def test_without_frozen_sentences_the_fast_part_gets_no_vectors(tiny_base, make_toy_examples, monkeypatch):
    from spplus_nlp.accurate import stacking, training

    seen = {}

    def spy(examples, dev, random_state=0, sentence_vectors=None, sentences=None):
        seen.update(vectors=sentence_vectors, sentences=sentences)
        return stacking.fit_fast(examples, dev, random_state, sentence_vectors, sentences)

    monkeypatch.setattr(training, "fit_fast", spy)
    examples = make_toy_examples(4)
    model = AccurateModel(base_model=str(tiny_base), top_layers=1, max_length=24, stride=6, epochs=1,
                          batch_tokens=512, stack_frozen_sentences=False).fit(examples)
    assert seen["vectors"] is None and len(seen["sentences"]) == len(examples)
    assert not model.fast_.reads_sentence_vectors and len(model.predict(TEXTS)) == len(TEXTS)


def test_unstacked_model_keeps_its_own_heads(tiny_base, make_toy_examples, tmp_path):
    model = AccurateModel(base_model=str(tiny_base), top_layers=1, max_length=24, stride=6, epochs=1,
                          batch_tokens=512, stack_fast=False).fit(make_toy_examples())
    assert model.fast_ is None
    (tmp_path / "m" / "fast").mkdir(parents=True)  # left by a stacked model saved there before
    model.save(tmp_path / "m")
    assert not (tmp_path / "m" / "fast").exists()
    assert AccurateModel.load(tmp_path / "m").predict(TEXTS) == model.predict(TEXTS)


def test_a_stacked_model_without_its_fast_part_says_so(tiny_accurate, tmp_path):
    import shutil

    tiny_accurate.save(tmp_path / "m")
    shutil.rmtree(tmp_path / "m" / "fast")
    with pytest.raises(FileNotFoundError, match="fast"):
        AccurateModel.load(tmp_path / "m")


def test_a_model_saved_before_stacking_loads_unstacked(tiny_accurate, tmp_path):
    import json
    import shutil

    tiny_accurate.save(tmp_path / "m")
    shutil.rmtree(tmp_path / "m" / "fast")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["params"]["stack_fast"], config["params"]["stack_frozen_sentences"], config["mix_temperature"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    old = AccurateModel.load(tmp_path / "m")
    assert old.fast_ is None and len(old.predict(TEXTS)) == len(TEXTS)
    assert not old.get_params()["stack_frozen_sentences"]  # not claimed for a model saved before it existed


def test_stacked_sentiment_mixes_the_encoder_and_the_fast_model(tiny_accurate):
    fast_part = tiny_accurate.fast_
    stacked = tiny_accurate.predict(TEXTS)
    tiny_accurate.fast_ = None
    try:
        encoder = tiny_accurate.predict(TEXTS)
    finally:
        tiny_accurate.fast_ = fast_part
    fast = fast_predict(tiny_accurate, TEXTS)
    as_array = lambda analyses: np.array([[a.sentiment.scores[s] for s in SENTIMENTS] for a in analyses])
    expected = mixed_sentiment(as_array(encoder), as_array(fast), tiny_accurate.mix_temperature_)
    assert np.allclose(as_array(stacked), expected, atol=1e-6)


def test_a_clause_evidence_reads_the_polarity_of_the_sentence_holding_it(tiny_accurate, monkeypatch):
    # a sentence of more than 25 words: the fast part's evidence is a clause of it, not a whole sentence
    text = ("Personne ne décroche. Depuis le mois de janvier je téléphone presque tous les jours à la caisse, le matin "
            "comme l'après-midi, et il est impossible de joindre la caisse par téléphone malgré mes nombreuses "
            "tentatives répétées. Merci.")
    seen = []
    polarities = tiny_accurate._polarities
    monkeypatch.setattr(tiny_accurate, "_polarities", lambda *a: seen.extend(a[2]) or polarities(*a))
    [a], [f] = tiny_accurate.predict([text]), fast_predict(tiny_accurate, [text])
    assert [(t.id, t.evidence) for t in a.engagements] == [(t.id, t.evidence) for t in f.engagements]
    from spplus_nlp.language import segment_sentences

    [bounds] = segment_sentences([text])
    assert len(seen) == len(a.engagements) > 0
    for (_, _, row), t in zip(seen, a.engagements):
        s, e = bounds[row]
        assert s <= t.evidence.start and t.evidence.end <= e
    assert any(len(t.evidence.text) < e - s for t, (s, e) in zip(a.engagements, (bounds[r] for _, _, r in seen)))


def test_frozen_layers_past_the_fine_tuned_ones_read_the_base_encoder(tiny_base, make_toy_examples, tmp_path):
    """With more layers fine-tuned than the fast part's frozen vectors skip, those vectors stay the base's: a body
    that fine-tunes nothing past ``frozen_layers`` gives the same ones, in training, at inference and after a reload."""
    from spplus_nlp.accurate.body import Body
    from spplus_nlp.accurate.pooling import make_plans, sentence_means
    from spplus_nlp.accurate.training import LowerCache
    from spplus_nlp.language import segment_sentences

    model = AccurateModel(base_model=str(tiny_base), top_layers=2, frozen_layers=2, max_length=24, stride=6,
                          epochs=1, batch_tokens=512).fit(make_toy_examples(4))
    assert model.body_.split == 1 and len(model.body_.frozen_tail) == 1
    sentences = list(segment_sentences(TEXTS))
    frozen = model._run(TEXTS, sentences)[3]["frozen_sentences"]
    base = AccurateModel(base_model=str(tiny_base), top_layers=1, frozen_layers=2, max_length=24, stride=6)
    base._build(tiny_base)
    assert torch.allclose(frozen, base._run(TEXTS, sentences)[3]["frozen_sentences"], atol=1e-5)
    # the fine-tuned layer 1 moved, its frozen copy did not: the vectors are not the lower layers' output
    trained, kept = model.body_.top[0], model.body_.frozen_tail[0]
    assert not all(torch.equal(a, b) for a, b in zip(trained.parameters(), kept.parameters()))
    plans = make_plans(model.windower_, TEXTS, sentences)
    cache = LowerCache()
    cache.get(model, TEXTS, plans)
    trained_on = torch.cat([sentence_means(s, p) for s, p in zip(cache.frozen(TEXTS), plans)])
    assert torch.allclose(trained_on, frozen, atol=1e-5)
    model.save(tmp_path / "m")
    loaded = AccurateModel.load(tmp_path / "m")
    assert loaded.frozen_layers == 2
    assert torch.allclose(loaded._run(TEXTS, sentences)[3]["frozen_sentences"], frozen, atol=1e-5)
    assert [a.to_dict() for a in loaded.predict(TEXTS)] == [a.to_dict() for a in model.predict(TEXTS)]
    encoder = base.body_.encoder
    for wrong in (4, -4):  # the tiny base has 3 layers
        with pytest.raises(ValueError, match=f"frozen_layers={wrong}"):
            Body(encoder, top_layers=2, frozen_layers=wrong)


def test_frozen_layers_below_the_fine_tuned_ones_are_an_intermediate_state(tiny_base):
    from transformers import AutoModel

    from spplus_nlp.accurate.body import Body

    encoder = AutoModel.from_pretrained(tiny_base).eval()
    ids, mask = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]]), torch.tensor([[1] * 5, [1, 1, 1, 0, 0]])
    with torch.inference_mode():
        lower, frozen = Body(encoder, top_layers=1, frozen_layers=-2).lower_and_frozen(ids, mask)
        assert torch.allclose(frozen, Body(encoder, top_layers=2).lower(ids, mask))  # after 1 layer of 3
        assert torch.allclose(lower, Body(encoder, top_layers=1).lower(ids, mask))  # after 2
        assert not torch.allclose(lower, frozen)
