"""The one place that defines SP+'s labels: engagements E1–E8, sentiment, polarity and the platform's tags.

Every other module imports from here; nothing else spells out an engagement id or name.
Definitions follow ``shared/annotation/GUIDELINES.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Engagement:
    id: str
    name: str
    wording: str  # the engagement as SP+ words it to citizens
    description: str  # what an experience talks about when it carries the label (guideline §1)


ENGAGEMENTS: tuple[Engagement, ...] = (
    Engagement("E1", "accueil", "Être accueilli avec respect et bienveillance, avec un droit à l'erreur",
               "how the person was treated: courtesy, respect, kindness, rudeness, contempt; the right to make a mistake"),
    Engagement("E2", "contact", "Des services faciles à joindre",
               "how easy it is to reach the service: phone, call-backs, unanswered e-mails, appointments, queues, opening hours"),
    Engagement("E3", "accompagnement", "Un accompagnement adapté à sa situation personnelle",
               "support adapted to the person's situation: follow-up, referent, help through a procedure, special situations"),
    Engagement("E4", "délais", "Des demandes traitées dans les délais annoncés",
               "processing time: waiting for a decision, document, payment or reply; deadlines kept or missed; files stuck"),
    Engagement("E5", "information", "Une information claire, simple et accessible",
               "clear, simple, accessible information: wrong or missing information, incomprehensible forms or websites"),
    Engagement("E6", "résultats", "Un accès aux résultats de qualité de service",
               "transparency on results: published indicators, satisfaction or waiting-time figures"),
    Engagement("E7", "avis", "Votre avis est pris en compte pour améliorer le service",
               "the user's voice being heard: complaints ignored or considered, appeals, feedback taken into account"),
    Engagement("E8", "environnement", "Limiter l'impact environnemental du service",
               "environmental impact: paper waste, needless printing, mail or travel, dematerialisation for ecology"),
)
ENGAGEMENT_IDS: tuple[str, ...] = tuple(e.id for e in ENGAGEMENTS)
ENGAGEMENT_BY_ID: dict[str, Engagement] = {e.id: e for e in ENGAGEMENTS}

#: Overall sentiment of an experience (the export's "Ressenti usager", lower-cased).
SENTIMENTS: tuple[str, ...] = ("positif", "neutre", "négatif")
#: Polarity of one engagement within an experience.
POLARITIES: tuple[str, ...] = ("positif", "mitigé", "négatif")
#: A suggestion that improves no engagement in particular.
OTHER_ENGAGEMENT = "autre"
SUGGESTION_TARGETS: tuple[str, ...] = ENGAGEMENT_IDS + (OTHER_ENGAGEMENT,)


@dataclass(frozen=True)
class PlatformTag:
    id: str
    column: str  # column of the CSV export
    api_column: str  # column of the platform's JSON API export
    closest_engagements: tuple[str, ...]  # how the tag relates to E1–E8 (documentation and evaluation)


#: The platform's five general tags, each Positif / Neutre / Négatif or empty on an experience.
PLATFORM_TAGS: tuple[PlatformTag, ...] = (
    PlatformTag("accessibilite", "Accessibilité", "tag_accessibilite", ("E2",)),
    PlatformTag("information_explication", "Information/Explication", "tag_information_explication", ("E5",)),
    PlatformTag("relation", "Relation", "tag_relation", ("E1",)),
    PlatformTag("reactivite", "Réactivité", "tag_reactivite", ("E4", "E2")),
    PlatformTag("simplicite_complexite", "Simplicité/Complexité", "tag_simplicite_complexite", ("E5", "E3")),
)
PLATFORM_TAG_IDS: tuple[str, ...] = tuple(t.id for t in PLATFORM_TAGS)


def normalise_sentiment(value: object) -> str | None:
    """Map the export's "Positif"/"Neutre"/"Négatif" (any case, with or without accent) to SENTIMENTS."""
    if value is None:
        return None
    key = str(value).strip().lower().replace("é", "e")
    return {"positif": "positif", "neutre": "neutre", "negatif": "négatif"}.get(key)


def engagement_name(engagement_id: str) -> str:
    if engagement_id == OTHER_ENGAGEMENT:
        return OTHER_ENGAGEMENT
    return ENGAGEMENT_BY_ID[engagement_id].name
