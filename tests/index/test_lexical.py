"""The lexical index's BM25 against a reference implementation, bm25s, on the shipped passages.

bm25s's "lucene" variant has the same idf, ln(1 + (N - df + 0.5) / (df + 0.5)), and the same length
normalisation; ours keeps Okapi's (k1 + 1) in the numerator, which scales every score by the same factor and
changes no ranking. Both are given the same terms (corpus.text.terms), so only the formulas are compared.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.chunk import chunk_article
from corpus.load import load_articles
from corpus.text import terms
from index.build import bm25_append
from tests.conftest import SHIPPED

bm25s = pytest.importorskip("bm25s")

K1, B = 1.2, 0.75


@pytest.fixture(scope="module")
def passages() -> list[str]:
    return [c.text for a in load_articles(SHIPPED).articles for c in chunk_article(a)]


def questions() -> list[str]:
    path = SHIPPED.parents[1] / "benchmarks" / "questions" / "dev.jsonl"
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_scores_are_bm25s_lucene_scores_times_k1_plus_1(passages) -> None:
    ours, _ = bm25_append(None, {}, passages)
    reference = bm25s.BM25(k1=K1, b=B, method="lucene")
    reference.index([terms(p) for p in passages], show_progress=False)
    compared = 0
    for question in questions():
        q = list(dict.fromkeys(t for t in terms(question) if t in ours.vocab))  # each term once, as ours counts
        if not q:  # bm25s refuses an empty query; ours scores it all zero
            assert not ours.scores_for(terms(question)).any()
            continue
        compared += 1
        want = (K1 + 1) * np.asarray(reference.get_scores(q), dtype=np.float64)
        got = ours.scores_for(q)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=question)
        assert np.count_nonzero(got) > 0, question
    assert compared >= 10


def test_appending_passages_gives_the_scores_of_building_them_all_at_once(passages) -> None:
    half = len(passages) // 2
    vocab: dict[str, int] = {}
    _, counts = bm25_append(None, vocab, passages[:half])
    appended, _ = bm25_append(counts, vocab, passages[half:])
    whole, _ = bm25_append(None, {}, passages)
    for question in questions():
        q = terms(question)
        np.testing.assert_allclose(appended.scores_for(q), whole.scores_for(q), rtol=1e-5, atol=1e-6)
