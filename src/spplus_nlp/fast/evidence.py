"""An engagement's evidence narrowed to a clause, as the guideline defines it: "a short exact substring (a clause, 3
to 25 words) that supports the label".

The evidence sentence is cut into pieces at clause breaks (punctuation, and before conjunctions and relative
pronouns); every run of consecutive pieces of 3 to 25 words is a candidate, and the engagement's n-gram sentence head
picks the one that shows the label best. A candidate's n-gram counts are the sum of its pieces' counts (as a
document's are the sum of its sentences'), so each piece is counted once.

Fast model, 5-fold CV (benchmark folds): evidence within 3-25 words 0.546 -> 0.991 of the predicted engagements,
character-overlap F1 with the gold evidence 0.359 -> 0.390, but evidence sharing text with the gold one
0.575 -> 0.523 (one clause of a long sentence misses more often than the whole sentence); at most 20 words:
0.502 sharing, 0.388 F1.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from ..language.words import WORD, count_words
from .features import NgramTfidf

#: where a clause may begin: after punctuation, or before a conjunction or relative pronoun
_BREAK = re.compile(r"[,;:()«»\"“”]|\s[-–—]\s|\s(?=(?:mais|car|donc|puis|sinon|pourtant|cependant|alors|parce|"
                    r"puisque|lorsque|quand|sauf|et|ou|qui|que|qu'|qu’|où|si|avec|sans|pour|afin)\b)", re.IGNORECASE)
_EDGES = " \t\r\n,;:.!?…-–—()[]«»\"“”'’‘"
_LONGEST_PIECE = 10  # words; a longer piece without a break is cut, so that some run always fits


def clause_pieces(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """``(start, end, words)`` of the pieces of ``text[start:end]`` between clause breaks (absolute offsets)."""
    # finditer's pos/endpos keep the text's own offsets
    cuts = [start] + [m.end() for m in _BREAK.finditer(text, start, end) if start < m.end() < end]
    pieces = []
    for a, b in zip(cuts, cuts[1:] + [end]):
        words = [m.span() for m in WORD.finditer(text, a, b)]
        for k in range(0, len(words), _LONGEST_PIECE):
            chunk = words[k:k + _LONGEST_PIECE]
            pieces.append((a if k == 0 else chunk[0][0], b if k + _LONGEST_PIECE >= len(words) else chunk[-1][1],
                           len(chunk)))
    return [p for p in pieces if p[2]]


def candidate_runs(pieces: Sequence[tuple[int, int, int]], min_words: int, max_words: int) -> list[tuple[int, int]]:
    """``(first, last)`` piece indices of every run of consecutive pieces with ``min_words``–``max_words`` words."""
    runs = []
    for i in range(len(pieces)):
        words = 0
        for j in range(i, len(pieces)):
            words += pieces[j][2]
            if words > max_words:
                break
            if words >= min_words:
                runs.append((i, j))
    return runs


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the punctuation and spaces at its edges."""
    piece = text[start:end]
    if not piece.strip(_EDGES):
        return start, end
    return start + len(piece) - len(piece.lstrip(_EDGES)), start + len(piece.rstrip(_EDGES))


def narrow_evidence(vectorizer: NgramTfidf, heads: Sequence, items: Sequence[tuple[str, int, int, int]],
                    min_words: int = 3, max_words: int = 25, runs_per_call: int = 4096) -> list[tuple[int, int]]:
    """The evidence span of each ``(text, start, end, label index)``: the sentence itself when it has at most
    ``max_words`` words, else its best-scoring clause run under ``heads[label index]`` (a classifier on
    ``vectorizer``'s features with ``predict_proba``). Pieces are counted and runs scored in calls of about
    ``runs_per_call`` runs, which bounds the memory their n-gram rows take."""
    out = [(s, e) for _, s, e, _ in items]
    jobs, in_call = [], 0  # (item, pieces, runs)
    for k, (text, s, e, _) in enumerate(items):
        if count_words(text, s, e) <= max_words:
            continue
        pieces = clause_pieces(text, s, e)
        runs = candidate_runs(pieces, min_words, max_words)
        if not runs:
            continue
        jobs.append((k, pieces, runs))
        in_call += len(runs)
        if in_call >= runs_per_call:
            _pick_best_runs(vectorizer, heads, items, jobs, out)
            jobs, in_call = [], 0
    if jobs:
        _pick_best_runs(vectorizer, heads, items, jobs, out)
    return out


def _pick_best_runs(vectorizer: NgramTfidf, heads: Sequence, items: Sequence[tuple[str, int, int, int]],
                    jobs: list, out: list[tuple[int, int]]) -> None:
    """Write into ``out`` each job's best run, trimmed: one count of the pieces for all jobs."""
    piece_texts = [items[k][0][a:b] for k, pieces, _ in jobs for a, b, _ in pieces]
    counts = vectorizer.count(piece_texts)
    rows, cols, owner, at = [], [], [], 0
    for n, (k, pieces, runs) in enumerate(jobs):
        for i, j in runs:
            rows.extend([len(owner)] * (j - i + 1))
            cols.extend(range(at + i, at + j + 1))
            owner.append(n)
        at += len(pieces)
    to_runs = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(owner), len(piece_texts)))
    blocks = vectorizer.weigh_blocks([to_runs @ c for c in counts])
    labels = np.array([items[jobs[n][0]][3] for n in owner])
    scores = _run_scores(heads, blocks, labels)
    first = 0
    for k, pieces, runs in jobs:
        best = runs[int(np.argmax(scores[first:first + len(runs)]))]
        first += len(runs)
        out[k] = trim(items[k][0], pieces[best[0]][0], pieces[best[1]][1])


def _run_scores(heads: Sequence, blocks: list[sp.csr_matrix], labels: np.ndarray) -> np.ndarray:
    """Each run's score under its label's head, comparable between runs of the same label.

    A binary linear head (the sentence heads are logistic regressions) is read as its decision function, block by
    block: the same order as its probabilities, without joining the blocks into one matrix (a third of the
    narrowing's time). Any other head gives its probability of the label."""
    scores = np.zeros(len(labels))
    present = np.unique(labels)
    coefs = {lab: heads[lab].coef_[0] for lab in present if _is_binary_logistic(heads[lab])}
    if coefs:
        W = np.column_stack(list(coefs.values()))
        S, at = np.zeros((len(labels), len(coefs))), 0
        for B in blocks:
            S += B @ W[at:at + B.shape[1]]
            at += B.shape[1]
        for c, lab in enumerate(coefs):
            picked = labels == lab
            scores[picked] = S[picked, c] + float(heads[lab].intercept_[0])
    for lab in present:
        if lab not in coefs:
            picked = np.flatnonzero(labels == lab)
            X = sp.hstack([B[picked] for B in blocks], format="csr")
            scores[picked] = heads[lab].predict_proba(X)[:, 1]
    return scores


def _is_binary_logistic(head) -> bool:
    return isinstance(head, LogisticRegression) and getattr(head, "coef_", np.empty((0, 0))).shape[0] == 1
