from spplus_nlp.io.text import compose_text, stable_id


def test_compose_text_joins_title_and_description():
    assert compose_text("Titre", "Description") == "Titre. Description"
    assert compose_text("", "Description") == "Description"
    assert compose_text("Titre", None) == "Titre"
    assert compose_text(float("nan"), " x ") == "x"


def test_stable_id_depends_on_description_only():
    assert stable_id("abc") == stable_id(" abc ")
    assert stable_id("abc") != stable_id("abd")
    assert stable_id("abc").startswith("h") and len(stable_id("abc")) == 17
