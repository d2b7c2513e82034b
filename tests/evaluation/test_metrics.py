import numpy as np

from spplus_nlp.evaluation.metrics import evaluate, expected_calibration_error, suggestion_metrics
from spplus_nlp.types import Analysis, Sentiment, Span, Suggestion, ThemeScore

TEXT = "Attente. Mon dossier est bloqué. Il faudrait un suivi."


def _analysis(labels, suggestions, sentiment="négatif"):
    scores = {"positif": 0.1, "neutre": 0.1, "négatif": 0.8} if sentiment == "négatif" else \
        {"positif": 0.8, "neutre": 0.1, "négatif": 0.1}
    return Analysis(TEXT, Sentiment(sentiment, scores),
                    [ThemeScore(lab, lab, 0.9, "négatif", Span(9, 32, TEXT[9:32])) for lab in labels],
                    [Suggestion(TEXT[a:b], a, b, "E4", 0.9) for a, b in suggestions])


GOLD = {"text": TEXT, "sentiment": "négatif", "annotated": True, "tags": {},
        "engagements": [{"id": "E4", "polarity": "négatif", "start": 9, "end": 32}],
        "suggestions": [{"start": 33, "end": 54, "engagement": "E4"}]}


def test_perfect_prediction_scores_one():
    report = evaluate([GOLD], [_analysis(["E4"], [(33, 54)])])
    assert report["engagements"]["micro_f1"] == 1.0
    assert report["engagements"]["polarity_accuracy"] == 1.0
    assert report["suggestions"]["exact"]["f1"] == 1.0
    assert report["sentiment"]["accuracy"] == 1.0


def test_false_positive_and_partial_span():
    report = evaluate([GOLD], [_analysis(["E4", "E1"], [(40, 54)])])
    assert report["engagements"]["micro_f1"] == 2 / 3
    assert report["suggestions"]["exact"]["f1"] == 0.0
    assert report["suggestions"]["overlap"]["f1"] == 1.0


def test_unannotated_rows_count_for_sentiment_only():
    gold = [GOLD, {**GOLD, "annotated": False, "sentiment": "positif"}]
    report = evaluate(gold, [_analysis(["E4"], [(33, 54)]), _analysis(["E1"], [], sentiment="positif")])
    assert report["engagements"]["n"] == 1 and report["sentiment"]["n"] == 2


def test_ece():
    assert expected_calibration_error(np.array([0, 1, 0, 1]), np.array([0.0, 1.0, 0.0, 1.0])) == 0.0
    assert abs(expected_calibration_error(np.array([0, 0, 1, 1]), np.array([0.95] * 4)) - 0.45) < 1e-9


def test_suggestion_counts():
    m = suggestion_metrics([GOLD], [_analysis([], [])])
    assert m["exact"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "gold": 1, "predicted": 0}
