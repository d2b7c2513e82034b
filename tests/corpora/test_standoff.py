import pytest

from spplus_nlp.corpora import AnnotationError, suggestion_end, text_hash, to_standoff
from spplus_nlp.corpora.standoff import check_against

TEXT = "Attente. Mon dossier est bloqué depuis trois mois. Il faudrait un suivi."


def test_guideline_record_becomes_offsets():
    rec = {"id": 5, "engagements": [{"id": "E4", "polarity": "négatif", "evidence": "bloqué depuis trois mois"}],
           "suggestions": [{"text": "Il faudrait un suivi.", "engagement": "E4"}]}
    out = to_standoff(rec, TEXT, "x.csv")
    [e] = out["engagements"]
    assert TEXT[e["start"]:e["end"]] == "bloqué depuis trois mois"
    [s] = out["suggestions"]
    assert TEXT[s["start"]:s["end"]] == "Il faudrait un suivi"  # the closing full stop is not part of it
    assert out["id"] == "5" and out["text_sha1"] == text_hash(TEXT)
    assert "evidence" not in e and "text" not in s  # stand-off: no review text in the repository
    check_against(out, TEXT)


def test_spans_that_are_not_substrings_are_refused():
    with pytest.raises(AnnotationError, match="not an exact substring"):
        to_standoff({"id": 1, "engagements": [{"id": "E4", "polarity": "négatif", "evidence": "absent"}]}, TEXT, "x")


def test_changed_text_is_detected():
    out = to_standoff({"id": 1, "engagements": []}, TEXT, "x")
    with pytest.raises(AnnotationError, match="changed"):
        check_against(out, TEXT + " ")


@pytest.mark.parametrize("span, kept", [
    ("il faudrait un suivi.", "il faudrait un suivi"),
    ("il faudrait un suivi .", "il faudrait un suivi"),
    ("pourquoi ne pas ouvrir le samedi ?", "pourquoi ne pas ouvrir le samedi ?"),
    ("ouvrez le samedi !", "ouvrez le samedi !"),
    ("il faudrait un suivi", "il faudrait un suivi"),
    ("il faudrait un suivi...", "il faudrait un suivi"),
    ("il faudrait un suivi…", "il faudrait un suivi…"),
    (".", "."),
])
def test_a_suggestion_drops_its_closing_full_stop_only(span, kept):
    text = "Attente. " + span + " Merci."
    start = text.index(span)
    assert text[start:suggestion_end(text, start, start + len(span))] == kept
