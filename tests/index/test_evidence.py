"""Candidate sentences from passages: each once, offsets into the article, features as the ranker reads them."""

import numpy as np
import pytest

from index.evidence import FEATURES, PassageHit, candidates
from index.build import bm25_append
from index.query import parse_query

ARTICLE = ("The council met on Monday. It voted 29 to 16 to ban cars from the centre. "
           "The ban starts on 1 January 2025. Shops were worried.")
F = {n: i for i, n in enumerate(FEATURES)}


def hit(rank: int, start: int, end: int, dense: float = 0.5) -> PassageHit:
    return PassageHit(rank, rank, dense, 0.3, 0.5, 1.0, "a.txt", start, end, ARTICLE[start:end])


def vectors(h: PassageHit) -> np.ndarray:
    from index.evidence import analysed
    n = len(analysed(h.text))
    return np.eye(n, 4, dtype=np.float32)


def query(text: str):
    return parse_query(text, np.array([1, 0, 0, 0], np.float32), bm25_append(None, {}, [ARTICLE])[0])


def test_overlapping_passages_give_each_sentence_once_with_article_offsets():
    second = ARTICLE.index("It voted")
    cands = candidates(query("When does the ban start?"), [hit(0, 0, len(ARTICLE)), hit(1, second, len(ARTICLE))],
                       vectors)
    assert len(cands) == 4
    for c in cands:
        assert ARTICLE[c.start:c.end] == c.text and c.features.shape == (len(FEATURES),)
    assert all(c.passage.rank == 0 for c in cands)  # the best-ranked passage holding it


def test_features_describe_term_cover_kind_and_gaps():
    cands = candidates(query("When does the ban start?"), [hit(0, 0, len(ARTICLE))], vectors)
    by_text = {c.text: c.features for c in cands}
    starts = by_text["The ban starts on 1 January 2025."]
    assert starts[F["s_cov"]] == pytest.approx(1.0) and starts[F["kind_match"]] == 1.0
    assert by_text["Shops were worried."][F["s_cov"]] == 0.0
    for gap in ("s_dense_gap", "p_dense_gap", "p_lex_gap", "s_cov_gap"):
        assert max(f[F[gap]] for f in by_text.values()) == pytest.approx(0.0)
    assert by_text["The council met on Monday."][F["s_dense"]] == pytest.approx(1.0)  # its vector is the query's
