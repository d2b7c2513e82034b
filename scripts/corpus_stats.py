"""Print the corpus figures the datasheet reports: counts per label and inter-annotator agreement.

Usage: python scripts/corpus_stats.py
"""
import json
from collections import Counter

from spplus_nlp.corpora import load_corpus, read_annotations, suggestion_end
from spplus_nlp.corpora.agreement import agreement
from spplus_nlp.corpora.spplus import CORPUS_DIR, SUPPLEMENT_DIR
from spplus_nlp.taxonomy import ENGAGEMENT_IDS, SUGGESTION_TARGETS


def counts(rows) -> dict:
    eng, pol, sugg, n_eng = Counter(), Counter(), Counter(), Counter()
    for r in rows:
        n_eng[len(r["engagements"])] += 1
        for e in r["engagements"]:
            eng[e["id"]] += 1
            pol[(e["id"], e["polarity"])] += 1
        for s in r["suggestions"]:
            sugg[s["engagement"]] += 1
    return {"experiences": len(rows), "with_suggestion": sum(bool(r["suggestions"]) for r in rows),
            "engagements_per_experience": dict(sorted(n_eng.items())),
            "engagements": {lab: {"n": eng[lab], **{p: pol[(lab, p)] for p in ("positif", "mitigé", "négatif")}}
                            for lab in ENGAGEMENT_IDS},
            "suggestions": {lab: sugg[lab] for lab in SUGGESTION_TARGETS}, "suggestions_total": sum(sugg.values())}


def with_suggestion_ends(annotations: dict, texts: dict) -> dict:
    """The annotations with the corpus's suggestion-end convention applied (no closing full stop)."""
    return {i: {**r, "suggestions": [{**s, "end": suggestion_end(texts[i], s["start"], s["end"])}
                                     for s in r["suggestions"]]} for i, r in annotations.items()}


def main() -> None:
    corpus = load_corpus(include_supplement=True)
    real = [r for r in corpus.to_list() if r["source"] != "supplement"]
    supp = [r for r in corpus.to_list() if r["source"] == "supplement"]
    by_source = {src: counts([r for r in real if r["source"] == src]) for src in sorted({r["source"] for r in real})}
    second = read_annotations(CORPUS_DIR / "second_annotation.jsonl")
    first = read_annotations(CORPUS_DIR / "first_annotation_of_double.jsonl")
    sentiment_only = [r for r in supp if not r["annotated"]]  # S0221-S0720: the rating, no annotation
    out = {"real": counts(real), "by_source": by_source, "supplement": counts([r for r in supp if r["annotated"]]),
           "supplement_sentiment_only": dict(Counter(r["sentiment"] for r in sentiment_only)),
           "agreement_before_adjudication": agreement(first, second),
           "agreement_adjudicated_vs_second": agreement(read_annotations(CORPUS_DIR / "annotations.jsonl"), second)}
    texts = {r["id"]: r["text"] for r in real}
    out["agreement_before_adjudication_suggestion_ends"] = agreement(with_suggestion_ends(first, texts),
                                                                     with_suggestion_ends(second, texts))
    # the short supplement rows (S0071-S0220) were annotated twice, blind; the first annotation is the one used
    short_second = read_annotations(SUPPLEMENT_DIR / "second_annotation_short.jsonl")
    out["agreement_supplement_short"] = agreement(read_annotations(SUPPLEMENT_DIR / "annotations.jsonl"),
                                                  short_second)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
