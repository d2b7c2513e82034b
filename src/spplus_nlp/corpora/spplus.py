"""The project's SP+ corpus: the shared real export joined with the repository's stand-off annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np
from datasets import Dataset, DatasetDict, Features, Sequence, Value
from sklearn.model_selection import StratifiedKFold, train_test_split

from ..io.exports import read_export
from ..taxonomy import PLATFORM_TAGS, normalise_sentiment
from .standoff import check_against

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS_DIR = REPO_ROOT / "corpora" / "spplus"
ANNOTATIONS = CORPUS_DIR / "annotations.jsonl"
SUPPLEMENT_DIR = REPO_ROOT / "corpora" / "supplement"
#: the ``source`` of the team-written rows: they train, they never count in a figure reported as real data
SUPPLEMENT_SOURCE = "supplement"
#: the real export files of ``shared/data/spplus`` the corpus annotates
SHARED_FILES = ("experiences_balanced.csv", "experiences_long_with_replies.csv")
DATA_DIR_ENV = "SPPLUS_DATA_DIR"

FEATURES = Features({
    "id": Value("string"),
    "source": Value("string"),
    "text": Value("string"),
    "sentiment": Value("string"),
    "service": Value("string"),
    "annotated": Value("bool"),
    "engagements": [{"id": Value("string"), "polarity": Value("string"), "start": Value("int32"),
                     "end": Value("int32")}],
    "suggestions": [{"start": Value("int32"), "end": Value("int32"), "engagement": Value("string")}],
    "tags": {t.id: Value("string") for t in PLATFORM_TAGS},
})


class CorpusError(FileNotFoundError):
    pass


def shared_data_dir(path: str | os.PathLike | None = None) -> Path:
    """Where the real SP+ export lives: ``path``, else ``$SPPLUS_DATA_DIR``, else ``../shared/data/spplus``."""
    candidates = [Path(p) for p in (path, os.environ.get(DATA_DIR_ENV)) if p]
    candidates += [REPO_ROOT.parent / "shared" / "data" / "spplus", Path.cwd().parent / "shared" / "data" / "spplus"]
    for c in candidates:
        if all((c / f).exists() for f in SHARED_FILES):
            return c
    raise CorpusError(
        f"the shared SP+ export ({', '.join(SHARED_FILES)}) was not found in {[str(c) for c in candidates]}; "
        f"pass data_dir= or set {DATA_DIR_ENV}")


def read_experiences(path: Path, source: str | None = None) -> Iterator[dict]:
    """The experiences of one export with their gold sentiment and platform tags (no annotations)."""
    for row in read_export(path):
        if row.error:
            raise CorpusError(f"{path.name}: {row.error}")
        f = row.fields
        tags = {t.id: (normalise_sentiment(f.get(t.column, f.get(t.api_column))) or "") for t in PLATFORM_TAGS}
        yield {"id": row.id, "source": source or path.name, "text": row.text, "service": row.service or "",
               "sentiment": normalise_sentiment(f.get("Ressenti usager", f.get("ressenti_usager"))) or "",
               "tags": tags}


def read_annotations(path: str | os.PathLike) -> dict[str, dict]:
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                rec = json.loads(line)
                if rec["id"] in out:
                    raise CorpusError(f"{path}: line {n}: experience {rec['id']} annotated twice")
                out[str(rec["id"])] = rec
    return out


def is_supplement(record: dict) -> bool:
    """Whether a corpus row is team-written (training only) rather than real SP+ data."""
    return record.get("source") == SUPPLEMENT_SOURCE


def load_corpus(data_dir: str | os.PathLike | None = None, annotations: str | os.PathLike | None = ANNOTATIONS,
                include_unannotated: bool = True, include_supplement: bool = False) -> Dataset:
    """The real SP+ experiences as a ``datasets.Dataset``, joined with the stand-off annotations.

    Rows without an annotation keep ``annotated=False`` (they still carry the author's sentiment). The team-written
    supplement (``corpora/supplement``) is added only on request and is marked ``source="supplement"``: it never
    counts in a figure reported as real data.
    """
    root = shared_data_dir(data_dir)
    rows = [r for f in SHARED_FILES for r in read_experiences(root / f)]
    if include_supplement:
        rows += list(read_experiences(SUPPLEMENT_DIR / "experiences.csv", source=SUPPLEMENT_SOURCE))
    ann = read_annotations(annotations) if annotations and Path(annotations).exists() else {}
    if include_supplement:
        ann.update(read_annotations(SUPPLEMENT_DIR / "annotations.jsonl"))
    out = []
    for r in rows:
        a = ann.get(r["id"])
        if a is not None:
            check_against(a, r["text"])
        elif not include_unannotated:
            continue
        out.append({**r, "annotated": a is not None,
                    "engagements": a["engagements"] if a else [], "suggestions": a["suggestions"] if a else []})
    return Dataset.from_list(out, features=FEATURES)


def train_dev_split(corpus: Dataset, dev_fraction: float = 0.2, seed: int = 0) -> DatasetDict:
    """A deterministic split, stratified on sentiment."""
    idx = np.arange(len(corpus))
    train, dev = train_test_split(idx, test_size=dev_fraction, random_state=seed, stratify=corpus["sentiment"])
    return DatasetDict(train=corpus.select(sorted(train)), dev=corpus.select(sorted(dev)))


def kfold(corpus: Dataset, k: int = 5, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Deterministic k folds (train indices, test indices), stratified on sentiment."""
    folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    yield from folds.split(np.zeros(len(corpus)), corpus["sentiment"])
