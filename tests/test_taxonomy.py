from spplus_nlp import taxonomy


def test_eight_engagements_in_order():
    assert taxonomy.ENGAGEMENT_IDS == tuple(f"E{i}" for i in range(1, 9))
    assert taxonomy.ENGAGEMENT_BY_ID["E4"].name == "délais"


def test_normalise_sentiment_accepts_export_spellings():
    assert taxonomy.normalise_sentiment("Négatif") == "négatif"
    assert taxonomy.normalise_sentiment("NEGATIF") == "négatif"
    assert taxonomy.normalise_sentiment(" Positif ") == "positif"
    assert taxonomy.normalise_sentiment("") is None
    assert taxonomy.normalise_sentiment(None) is None


def test_platform_tags_map_to_known_engagements():
    for tag in taxonomy.PLATFORM_TAGS:
        assert set(tag.closest_engagements) <= set(taxonomy.ENGAGEMENT_IDS)
