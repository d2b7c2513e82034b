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
    from spplus_nlp.language import SENTENCES, load_language
    from spplus_nlp.suggestions.cues import _candidate_windows

    nlp = load_language()
    sentences = [
        "Après trois mois d'attente et de nombreux appels sans réponse au service des cartes grises de la préfecture, "
        "on pourrait vraiment imaginer un suivi en ligne du dossier pour éviter tout cela, mais personne ne répond.",
        "Vous devriez, s'il vous plaît, rappeler les usagers : veuillez nous répondre, nous aimerions savoir où en est "
        "le dossier (pourriez-vous indiquer un délai ?) et vous seriez gentils de prévenir avant de fermer.",
        "Il faudrait que vous preniez le temps d'expliquer ; vous recevrez sinon des réclamations que vous ignorerez.",
    ]
    read = 0
    for sentence in sentences:
        whole = {t.idx: (t.pos_, str(t.morph.get("Mood"))) for t in next(nlp.pipe([sentence], disable=SENTENCES))}
        windows = _candidate_windows(0, sentence)
        docs = nlp.pipe([text for _, text, _ in windows], disable=SENTENCES)
        for (_, text, at), doc in zip(windows, docs):
            tok = doc.char_span(at, at + 1, alignment_mode="expand")[0]
            begin = sentence.index(text)
            assert (tok.pos_, str(tok.morph.get("Mood"))) == whole[begin + tok.idx], text
            read += 1
    assert read >= 10
    assert cue_features(sentences[:1])[0, cue_names().index("conditionnel")] == 1.0
