"""Candidate answer sentences and the evidence features a learned ranker scores them on.

Search returns passages; an answer quotes sentences. Every sentence of the best passages becomes a
candidate, described by numbers the ranker was fitted on (`FEATURES`): how close it is in meaning to the
question, how much of the question's term weight it holds (alone, with its neighbours, in its passage),
whether it states what the question asks for, and how its passage ranked. Features are computed the
same way at training time (`training/`) and when answering, by this module only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.text import sentence_spans, word_terms, words
from index.qtype import answer_types_in
from index.query import Query

FEATURES = (
    "s_dense", "s_dense_gap", "p_dense", "p_dense_gap", "p_lex", "p_lex_gap", "p_rrf",
    "s_cov", "s_cov_gap", "ctx_cov", "p_cov", "s_share", "s_pairs", "s_new", "s_len",
    "has_kind", "kind_match", "s_names", "p_names", "position",
)


@dataclass(frozen=True)
class Quote:
    """A slice of an article, as an answer cites it or an evaluation ranks it."""

    source: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class PassageHit:
    """A passage from the fused dense + lexical candidates."""

    row: int
    rank: int  # 0-based rank after fusion
    dense: float  # cosine of question and passage
    lexical: float  # BM25 as a share of what the question's terms could score
    coverage: float  # share of the question's term weight found in the passage (its article's title included)
    names: float  # share of the question's names found in the passage or its article's metadata
    article_id: str
    start: int
    end: int
    text: str
    sentence_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)
    terms: frozenset[str] = field(default=frozenset(), compare=False, repr=False)  # its and its article's meta's


@dataclass(frozen=True)
class Candidate:
    """A sentence that may answer the question; offsets are into its article's text."""

    article_id: str
    start: int
    end: int
    text: str
    passage: PassageHit  # the best-ranked passage holding it
    features: np.ndarray = field(compare=False, repr=False)


@functools.lru_cache(maxsize=50_000)
def analysed(text: str) -> tuple[tuple[int, int, tuple[str, ...], frozenset[str]], ...]:
    """Each sentence of a passage as (start, end, its terms in order, the answer types it holds); cached."""
    out = []
    for s, e in sentence_spans(text):
        folded = words(text[s:e])
        out.append((s, e, tuple(word_terms(folded)), answer_types_in(text[s:e], folded)))
    return tuple(out)


def term_share(query: Query, found: set[str] | frozenset[str]) -> float:
    total = query.total_weight
    return sum(w for t, w in query.weights.items() if t in found) / total if total else 0.0


def name_share(query: Query, found: set[str] | frozenset[str]) -> float:
    if not query.names:
        return 1.0
    return sum(1 for t in query.names if t in found or _demonym_of(t, found)) / len(query.names)


# A place's adjective names the place: "Lithuanian" in a question finds "Lithuania" (stems: lithuanian, lithuania).
_DEMONYM_ENDINGS = ("n", "an", "ian")


def _demonym_of(name: str, found: set[str] | frozenset[str]) -> bool:
    return any((w.startswith(name) and w[len(name):] in _DEMONYM_ENDINGS)
               or (name.startswith(w) and name[len(w):] in _DEMONYM_ENDINGS) for w in found if w[:3] == name[:3])


def candidates(query: Query, passages: Sequence[PassageHit], vectors_of) -> list[Candidate]:
    """Every distinct sentence of the passages with its features; `vectors_of(hit)` gives a passage's
    sentence vectors (rows in the order of `sentence_spans(hit.text)`)."""
    q_pairs = _pairs(_question_terms(query))
    seen: dict[tuple[str, int, int], int] = {}
    rows: list[tuple[PassageHit, int, int, str, list[float]]] = []
    for hit in passages:
        sentences = analysed(hit.text)
        vecs = vectors_of(hit)
        for i, (s, e, sent_terms, types) in enumerate(sentences):
            key = (hit.article_id, hit.start + s, hit.start + e)
            if key in seen:
                continue
            seen[key] = len(rows)
            tset = frozenset(sent_terms)
            ctx = set(tset)
            for j in (i - 1, i + 1):
                if 0 <= j < len(sentences):
                    ctx.update(sentences[j][2])
            n_words = max(len(sent_terms), 1)
            new = sum(1 for t in tset if t not in query.weights) / max(len(tset), 1)
            row = [
                float(vecs[i] @ query.vector) if vecs is not None else hit.dense,  # s_dense
                0.0, hit.dense, 0.0, hit.lexical, 0.0, 1.0 / (1.0 + hit.rank),
                term_share(query, tset), 0.0, term_share(query, ctx), hit.coverage,
                sum(1 for t in query.weights if t in tset) / max(len(query.weights), 1),
                len(q_pairs & _pairs(sent_terms)) / len(q_pairs) if q_pairs else 0.0,
                new, math.log1p(n_words),
                1.0 if query.answer_type else 0.0, 1.0 if query.answer_type and query.answer_type in types else 0.0,
                name_share(query, tset), hit.names, math.log1p((hit.start + s) / 200.0),
            ]
            rows.append((hit, hit.start + s, hit.start + e, hit.text[s:e], row))
    if not rows:
        return []
    x = np.asarray([r[4] for r in rows], dtype=np.float32)
    for col, gap in ((0, 1), (2, 3), (4, 5), (7, 8)):  # how far each is from the best candidate
        x[:, gap] = x[:, col] - x[:, col].max()
    return [Candidate(hit.article_id, s, e, text, hit, x[i]) for i, (hit, s, e, text, _) in enumerate(rows)]


def _question_terms(query: Query) -> list[str]:
    return [t for t in word_terms(words(query.text)) if t in query.weights]


def _pairs(seq: Sequence[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(seq, seq[1:]) if a != b}
