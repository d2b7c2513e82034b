import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pytest  # noqa: E402

from spplus_nlp.fast.model import FastModel  # noqa: E402
from spplus_nlp.pipeline import Analyzer  # noqa: E402

# Team-written toy experiences: (text, sentiment, [(engagement, polarity, evidence)], [(suggestion, engagement)])
_TOY = [
    ("Accueil parfait. L'agent était très aimable et souriant.", "positif", [("E1", "positif", "L'agent était très aimable")], []),
    ("Personne ne décroche. Impossible de joindre la caisse par téléphone.", "négatif", [("E2", "négatif", "Impossible de joindre la caisse par téléphone")], []),
    ("Toujours en attente. Mon dossier est bloqué depuis trois mois. Il faudrait un suivi en ligne du dossier.", "négatif", [("E4", "négatif", "Mon dossier est bloqué depuis trois mois")], [("Il faudrait un suivi en ligne du dossier.", "E4")]),
    ("Site incompréhensible. Les informations sont contradictoires et le formulaire est compliqué.", "négatif", [("E5", "négatif", "Les informations sont contradictoires")], []),
    ("Merci beaucoup. Ma demande a été traitée en 48h, bravo pour la rapidité.", "positif", [("E4", "positif", "Ma demande a été traitée en 48h")], []),
    ("Conseillère formidable. Elle a pris le temps de m'accompagner dans ma démarche.", "positif", [("E3", "positif", "Elle a pris le temps de m'accompagner")], []),
    ("Agent désagréable. On m'a crié dessus au guichet, quel mépris.", "négatif", [("E1", "négatif", "On m'a crié dessus au guichet")], []),
    ("Rendez-vous. Pas de rendez-vous disponible avant deux mois. Pourquoi ne pas ouvrir plus de créneaux le samedi ?", "négatif", [("E2", "négatif", "Pas de rendez-vous disponible avant deux mois")], [("Pourquoi ne pas ouvrir plus de créneaux le samedi ?", "E2")]),
    ("Démarche correcte. J'ai obtenu mon document, rien de particulier à signaler.", "neutre", [], []),
    ("Information. On m'a donné une réponse, je ne sais pas encore si elle est juste.", "neutre", [("E5", "mitigé", "On m'a donné une réponse")], []),
    ("Papier. Il a fallu imprimer vingt pages et faire 80 km pour un document. Ce serait bien de pouvoir tout envoyer en ligne.", "négatif", [("E8", "négatif", "faire 80 km pour un document")], [("Ce serait bien de pouvoir tout envoyer en ligne.", "E8")]),
    ("Réclamation. Ma réclamation est restée sans suite, personne ne m'écoute.", "négatif", [("E7", "négatif", "Ma réclamation est restée sans suite")], []),
    ("Bonne expérience. Le site est clair et simple, tout est bien expliqué.", "positif", [("E5", "positif", "Le site est clair et simple")], []),
    ("Attente moyenne. J'ai attendu une heure au guichet mais l'agent était correct.", "neutre", [("E2", "mitigé", "J'ai attendu une heure au guichet")], []),
    ("Indicateurs. Les délais moyens sont affichés, c'est transparent. Je suggère de publier aussi le taux de satisfaction.", "positif", [("E6", "positif", "Les délais moyens sont affichés")], [("Je suggère de publier aussi le taux de satisfaction.", "E6")]),
    ("Sans avis. Dossier déposé, on verra bien la suite.", "neutre", [], []),
]


def toy_examples(repeat: int = 3) -> list[dict]:
    out = []
    for r in range(repeat):
        for k, (text, sentiment, engagements, suggestions) in enumerate(_TOY):
            out.append({
                "id": f"toy{r}-{k}", "source": "toy", "text": text, "sentiment": sentiment, "annotated": True,
                "engagements": [{"id": e, "polarity": p, "start": text.index(ev), "end": text.index(ev) + len(ev)}
                                for e, p, ev in engagements],
                "suggestions": [{"start": text.index(s), "end": text.index(s) + len(s), "engagement": t}
                                for s, t in suggestions],
                "tags": {},
            })
    return out


@pytest.fixture(scope="session")
def toy_model() -> FastModel:
    return FastModel().fit(toy_examples())


@pytest.fixture(scope="session")
def toy_analyzer(toy_model) -> Analyzer:
    return Analyzer(toy_model)


@pytest.fixture(scope="session")
def make_toy_examples():
    """``toy_examples`` for tests in sub-folders (test modules are imported by path, not as a package)."""
    return toy_examples
