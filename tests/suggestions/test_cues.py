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


def test_imperative_addressed_to_the_service():
    names = cue_names()
    feats = cue_features(["Veuillez rappeler les usagers qui attendent."])
    assert feats[0, names.index("imperatif")] == 1.0


def test_nouns_ending_like_verbs_are_not_sent_to_the_morphologizer():
    from spplus_nlp.suggestions.cues import _candidate_windows

    assert _candidate_windows(0, "J'ai pris rendez-vous chez le médecin, assez vite.") == []
    windows = _candidate_windows(3, "Vous pourriez prévenir avant le rendez vous.")
    assert [(i, text[at:at + 8]) for i, text, at in windows] == [(3, "pourriez")]


def test_mood_read_in_a_window_equals_the_mood_read_in_the_whole_sentence():
    from spplus_nlp.language import load_language

    sentence = ("Après trois mois d'attente et de nombreux appels sans réponse au service des cartes grises de la "
                "préfecture, on pourrait vraiment imaginer un suivi en ligne du dossier pour éviter tout cela, "
                "mais personne ne répond jamais aux courriels envoyés depuis le début de la procédure.")
    doc = load_language()(sentence)
    whole = next(t for t in doc if t.text == "pourrait")
    assert "Cnd" in whole.morph.get("Mood")
    assert cue_features([sentence])[0, cue_names().index("conditionnel")] == 1.0
