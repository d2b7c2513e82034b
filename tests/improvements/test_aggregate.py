from spplus_nlp.improvements import aggregate, to_markdown
from spplus_nlp.io.exports import ExportRow


def _rec(rid, engagements=(), suggestions=(), error=None):
    return {"id": rid, "error": error,
            "engagements": [{"id": e, "polarity": p} for e, p in engagements],
            "suggestions": [{"text": t, "engagement": e, "score": s} for t, e, s in suggestions]}


def test_per_service_ranking_and_suggestions():
    rows = [ExportRow(1, "a", "x", service="CAF"), ExportRow(2, "b", "x", service="CAF"),
            ExportRow(3, "c", "x", service="Préfecture"), ExportRow(4, "d", "x")]
    records = [
        _rec("a", [("E2", "négatif")], [("Il faudrait un numéro direct", "E2", 0.9)]),
        _rec("b", [("E2", "négatif"), ("E1", "positif")], [("il faudrait un numéro  direct", "E2", 0.8),
                                                          ("Ouvrir le samedi", "E2", 0.7)]),
        _rec("c", [("E4", "positif")]),
        _rec("d", [], error="row 4: empty text"),
    ]
    services = aggregate(records, rows)
    assert [s["service"] for s in services] == ["CAF", "Préfecture"]  # errors are skipped
    caf = services[0]
    assert caf["experiences"] == 2
    assert caf["engagements"][0] == {"id": "E2", "name": "contact", "mentions": 2, "negative": 2}
    assert [s["text"] for s in caf["suggestions"]["E2"]] == ["Il faudrait un numéro direct", "Ouvrir le samedi"]
    md = to_markdown(services)
    assert "## CAF" in md and "« Ouvrir le samedi » (expérience b)" in md


def test_rows_without_service_are_grouped():
    services = aggregate([_rec("z", [("E5", "négatif")])], [ExportRow(1, "z", "x")])
    assert services[0]["service"] == "(service inconnu)"


def test_rows_that_share_an_id_keep_their_own_service_and_a_foreign_scored_file_is_refused():
    import pytest

    rows = [ExportRow(1, "1", "x", service="CAF Lyon"), ExportRow(2, "1", "x", service="Mairie Paris")]
    records = [_rec("1", [("E4", "négatif")], [("Il faudrait plus de personnel", "E4", 0.9)]), _rec("1")]
    by_service = {s["service"]: s for s in aggregate(records, rows)}
    assert by_service["CAF Lyon"]["n_suggestions"] == 1 and by_service["Mairie Paris"]["n_suggestions"] == 0
    with pytest.raises(ValueError, match="row 2: id 'x'"):
        aggregate([records[0], _rec("x")], rows)
    with pytest.raises(ValueError, match="differ in length"):
        aggregate(records[:1], rows)
