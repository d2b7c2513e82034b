import re
import sys

from spplus_nlp.language import MORPHOLOGY, load_language, segment_sentences


def _sentences(text):
    return [text[s:e] for s, e in next(segment_sentences([text]))]


def test_glued_full_stop_still_ends_a_sentence():
    assert _sentences("J'ai attendu au guichet.Elle a pris mon dossier.") == [
        "J'ai attendu au guichet.", "Elle a pris mon dossier."]


def test_line_breaks_end_sentences():
    text = "Bonjour\nJe voulais un rendez-vous\n\n- pas de réponse\r\nmerci"
    assert _sentences(text) == ["Bonjour", "Je voulais un rendez-vous", "- pas de réponse", "merci"]


def test_line_break_component_matches_a_token_by_token_reading():
    nlp = load_language()
    text = "Un.\nDeux trois\n quatre  \n\ncinq six\tsept\nhuit"
    doc = next(nlp.pipe([text], disable=MORPHOLOGY))
    reference = next(nlp.pipe([text], disable=MORPHOLOGY + ("line_break_and_glued_sentences",)))
    without_rule = sum(bool(t.is_sent_start) for t in reference)
    for token in reference[1:]:  # the rule, read token by token
        if "\n" in reference[token.i - 1].text or "\n" in reference[token.i - 1].whitespace_:
            token.is_sent_start = True
    assert [t.is_sent_start for t in doc] == [t.is_sent_start for t in reference]
    assert sum(bool(t.is_sent_start) for t in doc) > without_rule


def test_offsets_point_into_the_text_and_skip_blank_sentences():
    text = "  Premier point.   \n   Second point !  "
    bounds = next(segment_sentences([text]))
    assert [text[s:e] for s, e in bounds] == ["Premier point.", "Second point !"]
    assert list(segment_sentences(["Rien à dire", ""])) == [[(0, 11)], []]


def test_lost_line_breaks_end_sentences_before_a_glued_opener():
    assert _sentences("Tout est normalNous sommes venus.") == ["Tout est normal", "Nous sommes venus."]
    assert _sentences("BonjourJ'ai attendu trois mois") == ["Bonjour", "J'ai attendu trois mois"]
    assert _sentences("Rien à signalerCordialement") == ["Rien à signaler", "Cordialement"]


def test_brand_names_in_camel_case_stay_whole():
    for text in ("Le site LaPoste et ParcourSup sur iPhone.", "Venu en BlaBlaCar avec DisneyPlus.",
                 "Le module RendezVous et AmeliPlus."):
        assert _sentences(text) == [text]


def test_every_french_token_match_pattern_needs_a_hyphen_or_an_apostrophe():
    """What makes the prefilter exact: each alternative of spaCy's French token_match has, at its top level (not
    optional, not repeated from zero), a character class made only of hyphens and apostrophes."""
    from re import _parser as sre_parse  # the standard library's own reading of a pattern

    from spacy.lang.fr.punctuation import ELISION, HYPHENS
    from spacy.lang.fr.tokenizer_exceptions import _regular_exp

    needed = {ord(c) for c in HYPHENS + ELISION}
    for pattern in _regular_exp:
        top_level = sre_parse.parse(pattern, re.IGNORECASE | re.UNICODE)
        assert any(op is sre_parse.IN and all(kind is sre_parse.LITERAL and value in needed for kind, value in items)
                   for op, items in top_level), pattern


def test_prefiltered_token_match_gives_spacy_s_answers():
    from spacy.lang.fr.tokenizer_exceptions import TOKEN_MATCH

    match = load_language().tokenizer.token_match
    assert match is not TOKEN_MATCH and match.__self__.pattern == TOKEN_MATCH.__self__.pattern
    for s in ("faux-vampire", "Faux-Vampire", "entr'abat", "entr’abat", "saut-de-ski", "pet-en-l'air", "prud'homme",
              "new-york", "burn–out", "bonjour", "rendez-vous", "aujourd'hui", "-", "'", "", "l'", "Saint-Étienne"):
        expected = TOKEN_MATCH(s)
        got = match(s)
        assert (got and got.span()) == (expected and expected.span()), s


def test_tokens_are_spacy_s_own_with_the_prefilter():
    import spacy
    from spacy.lang.fr.tokenizer_exceptions import TOKEN_MATCH

    text = ("Le faux-semblant d'aujourd'hui : l'entr'aide, le saut-de-ski à Saint-Étienne, peut-être ?\n"
            "Rendez-vous pris (prud'hommes) via www.service-public.fr, réponse sous 48h. Merci !")
    reference = spacy.blank("fr").tokenizer
    reference.from_bytes(load_language().tokenizer.to_bytes())  # same rules, spaCy's own token_match
    assert reference.token_match.__self__.pattern == TOKEN_MATCH.__self__.pattern
    assert [t.text for t in load_language().tokenizer(text)] == [t.text for t in reference(text)]


def test_strings_added_while_analysing_are_freed_once_warm(monkeypatch):
    import spplus_nlp.language.pipeline as pipeline

    nlp = load_language()
    monkeypatch.setitem(pipeline._zones, "warm", 0)
    monkeypatch.setattr(pipeline, "WARM_UP_TEXTS", 2)
    with pipeline.transient_vocabulary(1):  # warm-up: outside a zone, what spaCy adds stays
        with pipeline.transient_vocabulary(1):  # nested (the accurate model's fast part): counted once
            list(segment_sentences(["Le dossier zorglubwarm reste bloqué."]))
    assert pipeline._zones["warm"] == 1 and "zorglubwarm" in nlp.vocab.strings
    with pipeline.transient_vocabulary(1):
        pass
    with pipeline.transient_vocabulary(1):
        bounds = list(segment_sentences(["Le dossier zorglubzone reste bloqué. Merci."]))
        with pipeline.transient_vocabulary(1):  # nested: no second zone
            assert pipeline._zones["inside"] and pipeline._zones["depth"] == 2
        assert "zorglubzone" in nlp.vocab.strings
    assert not pipeline._zones["inside"] and pipeline._zones["depth"] == 0
    assert "zorglubzone" not in nlp.vocab.strings  # freed with the zone
    assert bounds == [[(0, 36), (37, 43)]]  # plain values taken out of the zone stay valid


def test_threads_sharing_a_model_get_their_own_answers(monkeypatch):
    """A zone is the process's: without the lock, one thread's zone freed the words another thread was reading."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    import spplus_nlp
    import spplus_nlp.language.pipeline as pipeline

    monkeypatch.setattr(pipeline, "WARM_UP_TEXTS", 0)
    model = spplus_nlp.load("fast").model
    rng = random.Random(0)
    batches = [[f"Dossier {''.join(rng.choice('bcdfgklmnprstvz') for _ in range(9))} en attente depuis {i} mois, "
                f"il faudrait un suivi {''.join(rng.choice('aeiou') for _ in range(6))}." for i in range(8)]
               for _ in range(64)]
    expected = [[a.to_dict() for a in model.predict(b)] for b in batches]
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often, as under load
    try:
        with ThreadPoolExecutor(3) as pool:
            got = list(pool.map(lambda b: [a.to_dict() for a in model.predict(b)], batches))
    finally:
        sys.setswitchinterval(before)
    assert got == expected



def test_the_pipeline_still_pickles():
    import pickle

    nlp = load_language()
    text = "Le rendez-vous d'aujourd'hui, pris en ligne.Merci"
    restored = pickle.loads(pickle.dumps(nlp))
    assert [t.text for t in restored.tokenizer(text)] == [t.text for t in nlp.tokenizer(text)]
