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
