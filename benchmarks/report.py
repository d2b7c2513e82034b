"""Write benchmarks/RESULTS.md from the JSON files that accuracy.py, throughput.py and memory.py wrote.

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
        f"evidence overlapping the gold evidence {e['evidence_overlap_rate']:.3f} (character F1 with it "
        f"{e.get('evidence_char_f1', float('nan')):.3f}; evidence within the guideline's 3-25 words "
        f"{e.get('evidence_within_3_25_words', float('nan')):.3f}), engagement-score ECE "
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
              f"R {g['overlap']['recall']:.3f}."
              + (f" The engagement a found suggestion is tied to (spans overlapping a gold one): accuracy "
                 f"{fast['suggestion_engagements']['accuracy']:.3f} (n={fast['suggestion_engagements']['n']})."
                 if fast.get("suggestion_engagements") else ""), ""]
    spans = _load("span_boundaries")
    if spans:
        a, b, r = spans["learnt"], spans["learnt_without_length_prior"], spans["rule"]
        lines += ["Suggestion boundaries alone (`python benchmarks/span_boundaries.py`: the gold suggestions that lie "
                  f"inside one sentence, that sentence given, 5 folds grouped by experience; n={a['n']}): cut exactly "
                  f"{a['exact']:.3f} (right start {a['start']:.3f}, right end {a['end']:.3f}); without the length "
                  f"prior {b['exact']:.3f} ({b['start']:.3f}, {b['end']:.3f}); the fixed rule {r['exact']:.3f}.", ""]
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
                       ("score_workers_2_distinct", "`spplus-nlp score --workers 2`, 10,000 distinct rows "
                                                    "(`distinct.py`: one word in twelve made up)"),
                       ("fr_core_news_sm_alone", "fr_core_news_sm alone (`nlp.pipe`, full pipeline)")):
        if key in tp:
            lines.append(f"| {label} | {tp[key]['reviews_per_s']:.0f} | {tp[key]['peak_rss_mib']:.0f} |")
    lines.append("")
    if "fast_model_first_seen" in tp:
        f = tp["fast_model_first_seen"]
        lines += [f"The rows cycle {f['texts'] + 20} distinct texts, and caches (spaCy's tokenizer, the fast model's "
                  "words) make a text seen before cheaper: in one process the fast model takes "
                  f"{f['first_seen_ms_per_text']:.2f} ms per text seen for the first time and "
                  f"{f['seen_before_ms_per_text']:.2f} ms seen before ({f['texts']} distinct texts, calls of 1,024; "
                  "start-up not included). An export of distinct reviews scores slower than the table says, by up "
                  "to that ratio on the model's share of the time.", ""]
    return lines


def memory_section(mem: dict) -> list[str]:
    on, off = mem["zones_on"], mem["zones_off"]
    lines = ["### Memory over a long run of distinct reviews", "",
             f"Command: `python benchmarks/memory.py`. The fast model in one process on {on['rows']} distinct rows "
             "(the real texts, cycled, one word in twelve replaced by a made-up one, as names and typos would be), "
             "calls of 1,024; resident memory after the first call and at the end. Without memory zones every new "
             "word stayed in spaCy's vocabulary for good.", "",
             "| spaCy memory zones | resident memory (MiB) | spaCy strings | CPU ms per row |", "|---|---|---|---|"]
    for label, r in (("on (the default)", on), ("off (before)", off)):
        a, b = r["after_first_call"], r["at_end"]
        lines.append(f"| {label} | {a['resident_mib']:.0f} → {b['resident_mib']:.0f} "
                     f"({b['resident_mib'] - a['resident_mib']:+.0f}) | {a['strings']} → {b['strings']} | "
                     f"{r['cpu_ms_per_row']:.2f} |")
    return lines + [""]


def _figure(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def accurate_section(acc: dict | None, cv: dict, speed: dict | None, gpu: dict | None,
                     tp: dict | None, stacked: bool = False, top_layers: int = 2) -> list[str]:
    """The accurate model next to the fast one: cross-validated accuracy, CPU speed (fp32, int8), GPU speed."""
    lines = ["## The accurate model next to the fast model", "",
             "Accuracy: 5-fold cross-validation on the same real rows and folds (supplement rows in training folds "
             "only). Fast: `python benchmarks/accuracy.py`; accurate: `spplus-nlp train --kind accurate --out "
             "models/accurate --folds 5` (writes `models/accurate/cv_report.json`; each fold calibrates and tunes "
             "its thresholds on a dev split of its training part).", "",
             "| | sentiment macro-F1 | engagements micro-F1 | polarity accuracy | evidence overlap | "
             "evidence character F1 | evidence of 3-25 words | suggestions exact F1 | suggestions overlap F1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    rows = [(f"accurate (e5-small, top {top_layers} layers fine-tuned"
             + (", stacked with a fast model)" if stacked else ")"), cv)]
    if acc:
        rows.insert(0, ("fast (TF-IDF + linear heads)", acc["fast"]))
    for name, r in rows:
        s, e, g = r["sentiment"], r["engagements"], r["suggestions"]
        lines.append(f"| {name} | {s['macro_f1']:.3f} | {e['micro_f1']:.3f} | {e['polarity_accuracy']:.3f} | "
                     f"{e['evidence_overlap_rate']:.3f} | {_figure(e.get('evidence_char_f1'))} | "
                     f"{_figure(e.get('evidence_within_3_25_words'))} | {g['exact']['f1']:.3f} | "
                     f"{g['overlap']['f1']:.3f} |")
    lines += ["", "Evidence: an evidence sentence longer than 25 words is cut down to its best clause of 3 to 25 words "
              "(the guideline's evidence) where the column of 3-25 words is near 1; a model measured before that "
              "(a dash, or a low share) gives whole sentences, which hit the gold clause more often (evidence "
              "overlap) but match it less closely (character F1)."]
    if acc:
        lines += ["", "| engagement F1 | " + " | ".join(cv["engagements"]["per_label"]) + " |",
                  "|---|" + "---|" * len(cv["engagements"]["per_label"])]
        for name, r in rows:
            lines.append(f"| {name.split(' ')[0]} | " + " | ".join(
                f"{m['f1']:.3f}" for m in r["engagements"]["per_label"].values()) + " |")
    lines.append("")
    if speed:
        lines += ["### CPU speed: fp32, int8 and bf16", "",
                  f"Command: `python benchmarks/accurate_speed.py`: `AccurateModel.predict` end to end (spaCy "
                  f"sentences, windows, encoder, heads) on the first {speed['rows']} real texts (mean "
                  f"{speed['mean_chars']:.0f} characters), {speed['torch_threads']} torch threads, one process; F1 on "
                  "the model's dev split (real rows the encoder was not trained on" + (
                      "; the stacked fast part trained on them, so its engagements and suggestions are in-sample "
                      "there and only the differences between rows mean something" if speed.get("stacked") else "")
                  + ").", "",
                  "| | reviews/s | sentiment macro-F1 | engagements micro-F1 | suggestions exact / overlap F1 |",
                  "|---|---|---|---|---|"]
        for key in ("fp32", "int8", "bf16"):
            if key not in speed:
                continue
            options = speed.get("options", {}).get(key, {"quantize": True} if key == "int8" else {})
            call = ", ".join(['"accurate"'] + [f"{k}={v!r}".replace("'", '"') for k, v in options.items()])
            label = f"{key} (`load({call})`)"
            r, d = speed[key], speed[key]["dev"]
            lines.append(f"| {label} | {r['reviews_per_s']:.1f} | {d['sentiment_macro_f1']:.3f} | "
                         f"{d['engagements_micro_f1']:.3f} | {d['suggestions_exact_f1']:.3f} / "
                         f"{d['suggestions_overlap_f1']:.3f} |")
        lines.append("")
        for key in ("int8", "bf16"):
            if f"{key}_speedup" in speed:
                lost = speed[f"{key}_f1_lost"]
                lines.append(f"{key} is {speed[f'{key}_speedup']:.2f}× fp32 and loses "
                             f"{lost['sentiment_macro_f1']:+.3f} sentiment macro-F1, "
                             f"{lost['engagements_micro_f1']:+.3f} engagements micro-F1"
                             + (f", {lost['polarity_accuracy']:+.3f} polarity accuracy" if "polarity_accuracy" in lost
                                else "") + " (positive = lost).")
        if speed.get("cpu_flags") is not None:
            lines.append(f"This CPU's matrix-unit flags: {', '.join(speed['cpu_flags']) or 'none'} (bf16 is fast "
                         "only with amx_bf16 or avx512_bf16).")
        if tp and "score_workers_1" in tp:
            lines.append(f"For scale: the fast model scores {tp['score_workers_1']['reviews_per_s']:.0f} reviews/s "
                         "in one process (throughput table above, start-up included).")
        lines.append("")
    if gpu:
        lines += ["### GPU speed", "",
                  f"Command: `python benchmarks/accurate_gpu.py prepare` here, then `python benchmarks/accurate_gpu.py "
                  f"run` on a lent {gpu['device']} (torch {gpu['torch']}): {gpu['rows']} rows (the "
                  f"{gpu['distinct_texts']} real texts cycled, mean {gpu['mean_chars']:.0f} characters), from token "
                  "ids to calibrated decisions (encoder, pooling, heads, calibration, thresholds) in length-sorted "
                  "batches" + (f", with the base layers up to layer {gpu['frozen_layers']} whose sentence means the "
                               "stacked fast part reads (copied back to the CPU)" if gpu.get("frozen_layers", 0)
                               > gpu.get("fine_tuned_from", 0) else "")
                  + ". Agreement: decisions on 300 real texts against the CPU fp32 model.", "",
                  "| precision | tokens per batch | reviews/s | sentiment label agreement | engagement decision "
                  "agreement |", "|---|---|---|---|---|"]
        lines += [f"| {r['precision']} | {r['batch_tokens']:,} | {r['reviews_per_s']:,.0f} | "
                  f"{r['sentiment_label_agreement']:.3f} | {r['engagement_decision_agreement']:.3f} |"
                  for r in gpu["runs"]]
        if stacked:
            lines += ["", "These runs time the encoder path with the encoder's own engagement heads and thresholds. The "
                      "shipped model is stacked: its engagements, evidence and suggestions come from its fast part on "
                      "the CPU (about 1.5 ms per review, not in these figures), and agreement on engagements here is "
                      "for the encoder's heads."]
        lines += ["", "Not in these figures: the CPU preprocessing (spaCy sentences, tokenisation into windows, cue "
                  "features), about 1.4 ms per review in one process once spaCy is loaded (profiled on 300 texts on "
                  "an idle machine; the `cpu_preprocess_here` figure in the JSON includes loading spaCy, on a busy "
                  "machine); a GPU run at these speeds needs that work spread over about ten CPU processes.", "",
                  "`prepare` writes `.gpu/carry.pkl` (git-ignored): the real texts as token ids, which travel to the "
                  "lent machine and are not kept there.", ""]
    return lines


def tags_section(tags: dict) -> list[str]:
    """The accurate model's tag head against its engagements mapped to tags, on its dev split."""
    lines = ["## The platform's tags read by the accurate model", "",
             "Command: `HF_HUB_OFFLINE=1 python benchmarks/accurate_tags.py`. The shipped accurate model on its dev "
             f"split ({tags['n_dev']} real rows its encoder never trained on; the tag head's decision is its own "
             "arg-max, nothing tuned on them). Gold: the tags users set on their own experiences. `tags` in each "
             "analysis (`Analysis.tags`, the `\"tags\"` field of `score`'s records) is the tag head; the "
             "right-hand columns read the same analyses' engagements as tags (the mapping the CV reports above "
             "use), and are optimistic: those engagements come from the stacked fast part, which trained on these "
             "rows too. Tag head micro-F1 over the five tags: "
             f"{tags['tag_head']['micro_f1']:.3f}.", "",
             "| tag | support | tag head P | R | F1 | polarity agreement | engagements mapped F1 | polarity agreement |",
             "|---|---|---|---|---|---|---|---|"]
    for tag, h in tags["tag_head"]["per_tag"].items():
        m = tags["engagements_mapped"][tag]
        lines.append(f"| {tag} | {h['support']} | {h['precision']:.3f} | {h['recall']:.3f} | {h['f1']:.3f} | "
                     f"{_figure(h['polarity_agreement'])} | {m['f1']:.3f} | {_figure(m['polarity_agreement'])} |")
    return lines + [""]


def short_texts_section(acc: dict | None, probe: dict | None) -> list[str]:
    """Sentiment on short texts: real rows under 200 characters (fast CV) and the team-written probe set."""
    lines = ["## Sentiment on short texts", "",
             "In the real export short texts are mostly positive, long ones mostly negative: a model can learn length "
             "as a cue and read a short complaint as positive."]
    short = (acc or {}).get("fast_short_texts")
    if short:
        lines += ["", f"Real rows under {short['max_chars']} characters, fast model, from the 5-fold CV above "
                  f"(`python benchmarks/accuracy.py`; n={short['n']}): sentiment macro-F1 {short['macro_f1']:.3f}, "
                  "confusion (rows gold, columns predicted: positif, neutre, négatif) "
                  + "; ".join(str(row) for row in short["confusion_matrix"]) + "."]
    if probe:
        lines += ["", f"Team-written probe set (`{probe['probe']}`: 150 experiences under 200 characters, 50 per "
                  "rating, written for this benchmark by someone who saw neither the training supplement nor any "
                  "model output; synthetic, never trained on). Command: "
                  "`HF_HUB_OFFLINE=1 python benchmarks/short_texts.py`.", "",
                  "| model | sentiment macro-F1 | accuracy | confusion (rows gold, columns predicted: positif, neutre, "
                  "négatif) |", "|---|---|---|---|"]
        lines += [f"| {name} | {m['macro_f1']:.3f} | {m['accuracy']:.3f} | "
                  + "; ".join(str(row) for row in m["confusion_matrix"]) + " |" for name, m in probe["models"].items()]
    return lines + [""]


def main() -> None:
    lines = ["# Benchmark results", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}. Regenerate with `make benchmark`.", ""]
    acc, tp = _load("accuracy"), _load("throughput")
    if acc:
        lines += accuracy_section(acc)
    if tp:
        lines += throughput_section(tp)
    probe = _load("short_texts")
    if probe or (acc or {}).get("fast_short_texts"):
        lines += short_texts_section(acc, probe)
    mem = _load("memory")
    if mem:
        lines += memory_section(mem)
    cv = HERE.parent / "models" / "accurate" / "cv_report.json"
    if cv.exists():
        config = json.loads((cv.parent / "config.json").read_text(encoding="utf-8"))
        lines += accurate_section(acc, json.loads(cv.read_text(encoding="utf-8")), _load("accurate_speed"),
                                  _load("accurate_gpu"), tp, stacked=bool(config["params"].get("stack_fast")),
                                  top_layers=len(config["top_layers"]))
    tags = _load("accurate_tags")
    if tags:
        lines += tags_section(tags)
    extra = HERE / "NOTES.md"
    if extra.exists():
        lines += [extra.read_text(encoding="utf-8")]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
