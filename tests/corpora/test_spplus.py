from collections import Counter

import pytest

from spplus_nlp.corpora import (CorpusError, is_supplement, kfold, load_corpus, read_annotations, shared_data_dir,
                                train_dev_split)
from spplus_nlp.corpora.spplus import ANNOTATIONS, SUPPLEMENT_DIR, read_experiences
from spplus_nlp.corpora.standoff import check_against


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_corpus_joins_all_real_experiences(corpus):
    assert len(corpus) == 1049
    assert Counter(corpus["source"]) == {"experiences_balanced.csv": 901, "experiences_long_with_replies.csv": 148}
    assert set(corpus["sentiment"]) == {"positif", "neutre", "négatif"}
    assert len(set(corpus["id"])) == 1049


def test_every_annotation_span_lies_in_its_text(corpus):
    annotated = corpus.filter(lambda r: r["annotated"])
    assert len(annotated) == len(read_annotations(ANNOTATIONS))
    for r in annotated:
        for span in r["engagements"] + r["suggestions"]:
            assert 0 <= span["start"] < span["end"] <= len(r["text"])


def test_suggestion_spans_follow_the_corpus_end_convention():
    corpus = load_corpus(include_supplement=True).filter(lambda r: r["annotated"])
    ends = [r["text"][s["end"] - 1] for r in corpus for s in r["suggestions"]]
    assert len(ends) > 500
    assert not [c for c in ends if c == "." or c.isspace()]
    assert "?" in ends  # a question's mark stays


def test_splits_are_deterministic_and_disjoint(corpus):
    a, b = train_dev_split(corpus, seed=0), train_dev_split(corpus, seed=0)
    assert a["dev"]["id"] == b["dev"]["id"]
    assert not set(a["dev"]["id"]) & set(a["train"]["id"])
    folds = list(kfold(corpus, k=5))
    assert sorted(i for _, test in folds for i in test) == list(range(len(corpus)))


def test_supplement_is_marked_and_optional(corpus):
    with_supp = load_corpus(include_supplement=True)
    extra = with_supp.filter(is_supplement)
    assert len(with_supp) == len(corpus) + len(extra) and len(extra) > 0
    assert not any(map(is_supplement, corpus))
    assert all(extra["sentiment"])
    annotated = read_annotations(SUPPLEMENT_DIR / "annotations.jsonl")
    # S0001-S0220 carry the guideline's annotation; the sentiment-only rows after them carry the rating alone
    assert [r["annotated"] for r in extra] == [r["id"] in annotated for r in extra]
    assert sum(extra["annotated"]) >= 220 and not any(extra["annotated"][220:])
    assert not any(r["engagements"] or r["suggestions"] for r in extra if not r["annotated"])


def test_second_annotation_of_the_short_supplement_resolves_against_its_texts():
    texts = {r["id"]: r["text"] for r in read_experiences(SUPPLEMENT_DIR / "experiences.csv")}
    second = read_annotations(SUPPLEMENT_DIR / "second_annotation_short.jsonl")
    assert len(second) == 150 and set(second) <= set(texts)
    for record in second.values():
        check_against(record, texts[record["id"]])


def test_missing_export_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("spplus_nlp.corpora.spplus.REPO_ROOT", tmp_path / "repo")
    with pytest.raises(CorpusError, match="not found"):
        shared_data_dir(tmp_path / "nowhere")
