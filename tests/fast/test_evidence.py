import numpy as np

from spplus_nlp.fast.evidence import candidate_runs, clause_pieces, narrow_evidence, trim
from spplus_nlp.fast.features import NgramTfidf

LONG = ("Je suis allé trois fois au guichet de la préfecture pour mon titre de séjour, on m'a chaque fois demandé "
        "un papier différent et personne n'a su me dire quels documents apporter, mais l'agent du dernier jour "
        "était très aimable.")


def test_pieces_cut_at_clause_breaks_and_keep_offsets():
    pieces = clause_pieces(LONG, 0, len(LONG))
    texts = [LONG[a:b] for a, b, _ in pieces]
    assert any(t.startswith("mais l'agent") for t in texts)
    assert all(n == len(LONG[a:b].split()) or n <= 10 for a, b, n in pieces)
    assert [t.strip(" ,.") for t in texts if t.strip(" ,.")] and all(b > a for a, b, _ in pieces)


def test_runs_respect_the_word_limits():
    pieces = [(0, 1, 2), (1, 2, 4), (2, 3, 20), (3, 4, 3)]
    runs = candidate_runs(pieces, 3, 25)
    assert (0, 0) not in runs  # 2 words
    assert (0, 1) in runs and (1, 2) in runs and (2, 3) in runs
    assert (0, 2) not in runs and (1, 3) not in runs  # 26 and 27 words
    assert all(3 <= sum(p[2] for p in pieces[i:j + 1]) <= 25 for i, j in runs)


def test_a_piece_without_breaks_is_cut_so_a_run_fits():
    text = " ".join(["mot"] * 40)
    pieces = clause_pieces(text, 0, len(text))
    assert max(n for _, _, n in pieces) <= 10 and sum(n for _, _, n in pieces) == 40
    assert candidate_runs(pieces, 3, 25)


def test_trim_drops_punctuation_at_the_edges():
    text = "x, « un accueil froid », y"
    assert text[slice(*trim(text, 1, 24))] == "un accueil froid"


class WordHead:
    """A head that scores a candidate by the weight of one word's n-grams (stands in for a sentence head)."""

    def __init__(self, vectorizer, word):
        self.weights = vectorizer.transform([word]).toarray()[0]

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-10 * (X @ self.weights)))
        return np.column_stack([1 - p, p])


def test_a_long_sentence_is_narrowed_to_the_clause_its_head_prefers_and_a_short_one_is_kept():
    vectorizer = NgramTfidf(min_df=1).fit([LONG, "documents apporter aimable"])
    heads = [WordHead(vectorizer, "documents"), WordHead(vectorizer, "aimable")]
    short = "Accueil très aimable."
    text = short + " " + LONG
    s = len(short) + 1
    spans = narrow_evidence(vectorizer, heads, [(text, s, len(text), 0), (text, s, len(text), 1), (text, 0, len(short), 1)])
    documents, kind, kept = (text[a:b] for a, b in spans)
    assert "documents" in documents and 3 <= len(documents.split()) <= 25
    assert "aimable" in kind and 3 <= len(kind.split()) <= 25
    assert kept == short
    assert documents == documents.strip(" ,.")


def test_pieces_of_a_sentence_inside_a_text_never_cut_a_word():
    first = "Bonjour tout le monde. "
    text = first + LONG
    pieces = clause_pieces(text, len(first), len(text))
    assert [(a - len(first), b - len(first), n) for a, b, n in pieces] == clause_pieces(LONG, 0, len(LONG))
    for a, b, _ in pieces:
        assert not (text[a - 1].isalnum() and text[a].isalnum()), text[a - 1:a + 5]
        assert not (text[b - 1].isalnum() and b < len(text) and text[b].isalnum()), text[b - 5:b + 1]
    vectorizer = NgramTfidf(min_df=1).fit([LONG])
    [(s, e)] = narrow_evidence(vectorizer, [WordHead(vectorizer, "aimable")], [(text, len(first), len(text), 0)])
    assert text[s:e] == "mais l'agent du dernier jour était très aimable"  # whole words, no closing full stop


class ProbaOnly:
    """The same head seen only through ``predict_proba`` (the path for heads that are not logistic regressions)."""

    def __init__(self, head):
        self.head = head

    def predict_proba(self, X):
        return self.head.predict_proba(X)


def _logistic_head(vectorizer, word):
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression().fit(vectorizer.transform(["a b", "c d"]), [0, 1])
    head.coef_ = 10 * vectorizer.transform([word]).toarray()
    head.intercept_ = np.array([-1.0])
    return head


def test_logistic_heads_read_block_by_block_pick_what_their_probabilities_pick():
    vectorizer = NgramTfidf(min_df=1).fit([LONG, "documents apporter aimable a b c d"])
    heads = [_logistic_head(vectorizer, "documents"), _logistic_head(vectorizer, "aimable")]
    texts = [LONG, "Bonjour. " + LONG + " " + LONG.replace("aimable", "désagréable")]
    items = [(t, s, len(t), j) for t in texts for s in (0, 9) if s < len(t) for j in (0, 1)]
    spans = narrow_evidence(vectorizer, heads, items)
    assert spans == narrow_evidence(vectorizer, [ProbaOnly(h) for h in heads], items)
    assert spans == narrow_evidence(vectorizer, heads, items, runs_per_call=7)  # in several calls
    for (text, _, _, j), (a, b) in zip(items, spans):
        assert ("documents", "aimable")[j] in text[a:b]
