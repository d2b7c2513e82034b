"""Write benchmarks/RESULTS.md from the JSON files that accuracy.py and throughput.py wrote.

Usage: python benchmarks/report.py
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def accuracy_section(acc: dict) -> list[str]:
    fast, tfidf, lex = acc["fast"], acc["tfidf_lr"], acc["lexicon"]
    s, e, g = fast["sentiment"], fast["engagements"], fast["suggestions"]
    cue = acc["cue_only_suggestions"]
    lines = [
        "## Accuracy (5-fold cross-validation on the real SP+ data)",
        "",
        f"Command: `make benchmark` (`python benchmarks/accuracy.py`). {acc['n_real']} real experiences; the "
        f"{acc['n_supplement']} team-written supplement rows only ever sit in training folds. Same folds "
        "(`spplus_nlp.corpora.kfold`, seed 0) for every system.",
        "",
        "| system | sentiment macro-F1 | engagements micro-F1 | suggestion span F1 (exact / overlap) |",
        "|---|---|---|---|",
        f"| **fast model** | **{s['macro_f1']:.3f}** | **{e['micro_f1']:.3f}** | "
        f"**{g['exact']['f1']:.3f} / {g['overlap']['f1']:.3f}** |",
        f"| TF-IDF + logistic regression (scikit-learn defaults) | {tfidf['sentiment_macro_f1']:.3f} | "
        f"{tfidf['engagements_micro_f1']:.3f} | – |",
        f"| vaderSentiment-fr compound rule | {lex['vader_rule_macro_f1']:.3f} | – | – |",
        f"| vaderSentiment-fr scores + logistic regression | {lex['vader_lr_macro_f1']:.3f} | – | – |",
        f"| phrase cues alone (sentence with a cue) | – | – | {cue['exact']['f1']:.3f} / {cue['overlap']['f1']:.3f} |",
        "",
        f"Fast model, more: sentiment accuracy {s['accuracy']:.3f}, sentiment ECE {s['ece']:.3f}; engagements "
        f"macro-F1 {e['macro_f1']:.3f}, polarity accuracy on correctly found labels {e['polarity_accuracy']:.3f}, "
        f"evidence overlapping the gold evidence {e['evidence_overlap_rate']:.3f}, engagement-score ECE "
        f"{e['ece']:.3f}. Cross-validation took {acc['fast_cv_seconds']:.0f} s.",
        "",
        "Sentiment confusion matrix (rows gold, columns predicted: " + ", ".join(s["labels"]) + "): "
        + "; ".join(f"{lab} {row}" for lab, row in zip(s["labels"], s["confusion_matrix"])),
        "",
        "| engagement | P | R | F1 | support | TF-IDF+LR F1 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {lab} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} | "
              f"{tfidf['engagements_per_label_f1'][lab]:.3f} |" for lab, m in e["per_label"].items()]
    lines += ["", "E6 has 3 real positives: its row measures nothing (see corpora/spplus/DATASHEET.md).", "",
              f"Suggestion spans: {g['exact']['gold']} gold, {g['exact']['predicted']} predicted; exact P "
              f"{g['exact']['precision']:.3f} R {g['exact']['recall']:.3f}; overlap P {g['overlap']['precision']:.3f} "
              f"R {g['overlap']['recall']:.3f}.", ""]
    tags = fast.get("platform_tags")
    if tags:
        lines += ["Platform tags (real gold) against the engagements they relate to (taxonomy.PLATFORM_TAGS):", "",
                  "| tag | engagements | support | P | R | F1 | polarity agreement |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {k} | {'+'.join(m['engagements'])} | {m['support']} | {m['precision']:.3f} | "
                  f"{m['recall']:.3f} | {m['f1']:.3f} | "
                  f"{'n/a' if m['polarity_agreement'] is None else format(m['polarity_agreement'], '.3f')} |"
                  for k, m in tags.items()]
        lines.append("")
    return lines


def throughput_section(tp: dict) -> list[str]:
    lines = ["## Throughput and memory", "",
             f"Command: `python benchmarks/throughput.py`. {tp['rows']} rows of real SP+ text (mean "
             f"{tp['mean_chars']:.0f} characters), {tp['cpus']} CPU cores, CPU only; each run in a fresh process, "
             "start-up and model loading included; peak memory = largest process's max RSS.", "",
             "| run | reviews/s | peak memory (MiB) |", "|---|---|---|"]
    for key, label in (("score_workers_1", "`spplus-nlp score` (1 process)"),
                       ("score_workers_2", "`spplus-nlp score --workers 2`"),
                       ("fr_core_news_sm_alone", "fr_core_news_sm alone (`nlp.pipe`, full pipeline)")):
        if key in tp:
            lines.append(f"| {label} | {tp[key]['reviews_per_s']:.0f} | {tp[key]['peak_rss_mib']:.0f} |")
    lines.append("")
    return lines


def main() -> None:
    lines = ["# Benchmark results", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}. Regenerate with `make benchmark`.", ""]
    acc, tp = _load("accuracy"), _load("throughput")
    if acc:
        lines += accuracy_section(acc)
    if tp:
        lines += throughput_section(tp)
    extra = HERE / "NOTES.md"
    if extra.exists():
        lines += [extra.read_text(encoding="utf-8")]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
