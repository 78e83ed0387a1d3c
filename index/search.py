"""Candidate passages: dense (FAISS) and lexical (BM25) retrieval fused by reciprocal rank.

Search only gathers candidates and the evidence about them; which sentence answers is for the learned
ranker in `index/answer.py` to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus.text import terms
from index.encoder import Encoder
from index.evidence import PassageHit, analysed, name_share, term_share
from index.query import Query, parse_query
from index.store import LoadedIndex


@dataclass(frozen=True)
class SearchConfig:
    candidates: int = 40  # from each retriever before fusion
    rrf_k: int = 60
    passages: int = 16  # fused passages whose sentences become answer candidates


class Searcher:
    """Searches one loaded index; safe to share between threads (it holds no per-query state)."""

    def __init__(self, index: LoadedIndex, encoder: Encoder, config: SearchConfig | None = None) -> None:
        self.index = index
        self.encoder = encoder
        self.config = config or SearchConfig()
        self._meta_terms: dict[str, frozenset[str]] = {}

    def parse(self, question: str) -> Query:
        """The question parsed once, with its vector and its terms weighed by this corpus."""
        return parse_query(question, self.encoder.encode([question])[0], self.index.bm25)

    def passages(self, query: Query, n: int | None = None) -> list[PassageHit]:
        """The `n` best passages by reciprocal-rank fusion of dense and lexical retrieval, best first."""
        if not self.index.chunks:
            return []
        cfg = self.config
        n = cfg.passages if n is None else n
        pool = min(cfg.candidates, len(self.index.chunks))
        _, ids = self.index.ann.search(query.vector[None, :], pool)
        dense_ids = [int(i) for i in ids[0] if i >= 0]
        bm25 = self.index.bm25
        lex_all = bm25.scores_for(list(query.weights))
        lex_ids = [int(i) for i in top_positive(lex_all, pool)]
        fused: dict[int, float] = {}
        for ranking in (dense_ids, lex_ids):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
        rows = sorted(fused, key=lambda r: (-fused[r], r))[:n]
        # BM25 relative to the sum of the question's IDFs (what a passage holding each term once scores), not
        # to the best passage: when the question's words are rare in the articles (a paraphrase), a passage
        # sharing one common word should not get full lexical credit.
        possible = sum(bm25.term_idf(t) for t in query.weights)
        out = []
        sentences = self.index.sentences
        for rank, row in enumerate(rows):
            chunk = self.index.chunks[row]
            found = set().union(*(frozenset(t) for _, _, t, _ in analysed(chunk.text))) | self._article_terms(
                chunk.article_id)
            out.append(PassageHit(
                row, rank, float(self.index.vectors[row] @ query.vector),
                float(lex_all[row]) / possible if possible > 0 else 0.0,
                term_share(query, found), name_share(query, found), chunk.article_id, chunk.start, chunk.end,
                chunk.text, sentences.of(row), frozenset(found)))
        return out

    def top_cosine(self, query: Query) -> float:
        """The dense retriever's best cosine to the question (what a plain threshold would decline on)."""
        if not self.index.chunks:
            return -1.0
        scores, _ = self.index.ann.search(query.vector[None, :], 1)
        return float(scores[0][0])

    def sentence_vectors(self, hit: PassageHit) -> np.ndarray:
        """A passage's sentence vectors as the index stores them; embedded here only when the stored rows are not
        its sentences (an index assembled outside build_index, as benchmarks/bench_scale.py does)."""
        if hit.sentence_vectors is not None and len(hit.sentence_vectors) == len(analysed(hit.text)):
            return hit.sentence_vectors
        return self.encoder.encode([hit.text[s:e] for s, e, _, _ in analysed(hit.text)])

    def _article_terms(self, article_id: str) -> frozenset[str]:
        """Terms of an article's title, outlet and author: a passage is about what its article is about."""
        cached = self._meta_terms.get(article_id)
        if cached is None:
            record = self.index.articles.get(article_id)
            meta = record.meta if record else None
            text = " ".join(x for x in (meta.title, meta.outlet, meta.author) if x) if meta else ""
            cached = self._meta_terms[article_id] = frozenset(terms(text))
        return cached


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest positive scores, best first."""
    top = float(scores.max()) if len(scores) else 0.0
    # Exact and cheap: when k scores pass a quarter of the best, the k best are among them.
    hits = np.flatnonzero(scores > 0.25 * top) if top > 0 else np.empty(0, dtype=np.int64)
    if len(hits) < k:
        hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    return hits[np.argsort(-scores[hits], kind="stable")]
