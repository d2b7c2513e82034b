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
    assert report["engagements"]["evidence_char_f1"] == 1.0
    assert report["engagements"]["evidence_within_3_25_words"] == 1.0  # "Mon dossier est bloqué." is 4 words
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


def test_suggestion_engagement_is_scored_on_the_spans_found():
    from spplus_nlp.evaluation.metrics import suggestion_engagement_metrics
    from spplus_nlp.types import Analysis, Sentiment, Suggestion

    sentiment = Sentiment("négatif", {"positif": 0.1, "neutre": 0.1, "négatif": 0.8})
    gold = {"suggestions": [{"start": 0, "end": 10, "engagement": "E4"}, {"start": 20, "end": 30, "engagement": "E2"}]}
    found = [Suggestion("x", 2, 12, "E4", 0.9), Suggestion("x", 8, 25, "E4", 0.9), Suggestion("x", 40, 45, "E5", 0.9)]
    m = suggestion_engagement_metrics([gold], [Analysis("t" * 50, sentiment, [], found)])
    # the first is right; the second shares more text with the E2 span, so E4 is wrong; the third found nothing
    assert m == {"accuracy": 0.5, "n": 2}
    assert suggestion_engagement_metrics([gold], [Analysis("t" * 50, sentiment, [], [])]) == {"accuracy": None, "n": 0}
    # a span sharing as much text with two gold spans is right with either engagement, whatever their order
    tied = [{"start": 0, "end": 10, "engagement": "E4"}, {"start": 10, "end": 20, "engagement": "E2"}]
    for order in (tied, tied[::-1]):
        m = suggestion_engagement_metrics([{"suggestions": order}],
                                          [Analysis("t" * 50, sentiment, [], [Suggestion("x", 5, 15, "E2", 0.9)])])
        assert m == {"accuracy": 1.0, "n": 1}
    # evaluate() reports it and to_markdown prints it
    from spplus_nlp.evaluation import to_markdown

    report = evaluate([{**GOLD, "annotated": True}], [_analysis([], [(33, 54)])])
    assert report["suggestion_engagements"] == {"accuracy": 1.0, "n": 1}
    assert "accuracy 1.000 (n=1)" in to_markdown(report)


def test_evidence_character_f1_and_length():
    half = Analysis(TEXT, Sentiment("négatif", {"positif": 0.1, "neutre": 0.1, "négatif": 0.8}),
                    [ThemeScore("E4", "délais", 0.9, "négatif", Span(9, 20, TEXT[9:20]))], [])
    e = evaluate([GOLD], [half])["engagements"]
    # all 11 predicted characters are gold (P = 1), 11 of the 23 gold ones are found
    assert abs(e["evidence_char_f1"] - 2 * (11 / 23) / (1 + 11 / 23)) < 1e-12
    assert e["evidence_overlap_rate"] == 1.0
    assert e["evidence_within_3_25_words"] == 0.0  # "Mon dossier" is 2 words
