from spplus_nlp.suggestions import cue_features, cue_names, find_cues


def test_phrase_cues():
    assert "il_faudrait" in find_cues("Il faudrait un numéro direct.")
    assert "pourquoi_ne_pas" in find_cues("Pourquoi ne pas ouvrir le samedi ?")
    assert "dommage_que" in find_cues("Dommage qu'on ne puisse pas prendre rendez-vous en ligne.")
    assert find_cues("Le guichet était fermé.") == []


def test_conditional_mood_comes_from_the_morphologizer():
    names = cue_names()
    feats = cue_features(["On pourrait avoir des créneaux le samedi.", "Le guichet était fermé."])
    assert feats.shape == (2, len(names))
    assert feats[0, names.index("conditionnel")] == 1.0
    assert feats[1].sum() == 0.0
