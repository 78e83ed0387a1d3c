"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused by rank, re-scored on evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus.models import Chunk
from corpus.text import sentence_spans, terms
from index.encoder import Encoder
from index.store import LoadedIndex


@dataclass(frozen=True)
class SearchConfig:
    candidates: int = 40  # from each retriever before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    coverage_weight: float = 1.0  # best sentence's share of the question's term weight


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the evidence behind its score."""

    row: int
    chunk: Chunk
    score: float
    dense: float  # cosine of question and chunk
    lexical: float  # BM25 relative to the best BM25 score for this question
    coverage: float  # share of the question's IDF weight found in the chunk's best sentence
    chunk_coverage: float  # share of the question's IDF weight found anywhere in the chunk


class Searcher:
    """Searches one loaded index; safe to share between threads (it holds no per-query state)."""

    def __init__(self, index: LoadedIndex, encoder: Encoder, config: SearchConfig | None = None) -> None:
        self.index = index
        self.encoder = encoder
        self.config = config or SearchConfig()

    def embed(self, question: str) -> np.ndarray:
        return self.encoder.encode([question])[0]

    def search(self, question: str, k: int = 5, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best chunks for the question, best first."""
        if not self.index.chunks:
            return []
        cfg = self.config
        qv = self.embed(question) if query_vector is None else query_vector
        n = min(cfg.candidates, len(self.index.chunks))
        sims, ids = self.index.ann.search(qv[None, :].astype(np.float32), n)
        dense_ids = [int(i) for i in ids[0] if i >= 0]
        lex_ids, lex_scores = self.index.bm25.top(question, n)
        fused: dict[int, float] = {}
        for ranking in (dense_ids, [int(i) for i in lex_ids]):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
        top_lex = float(lex_scores[0]) if len(lex_scores) else 0.0
        lex_all = self.index.bm25.scores(question) if top_lex > 0 else None
        weights = self.term_weights(question)
        hits = []
        for row in fused:
            chunk = self.index.chunks[row]
            dense = float(self.index.vectors[row] @ qv)
            lexical = float(lex_all[row] / top_lex) if lex_all is not None else 0.0
            coverage, chunk_cov = sentence_coverage(chunk.text, weights)
            score = cfg.dense_weight * dense + cfg.lexical_weight * lexical + cfg.coverage_weight * coverage
            hits.append(Hit(row, chunk, score, dense, lexical, coverage, chunk_cov))
        hits.sort(key=lambda h: (-h.score, h.row))
        return hits[:k]

    def term_weights(self, question: str) -> dict[str, float]:
        """The question's content terms, weighted by IDF."""
        return {t: self.index.bm25.term_idf(t) for t in dict.fromkeys(terms(question))}


def sentence_coverage(text: str, weights: dict[str, float]) -> tuple[float, float]:
    """(best sentence's share, whole text's share) of the question's term weight."""
    total = sum(weights.values())
    if not total:
        return 0.0, 0.0
    best = 0.0
    seen: set[str] = set()
    for s, e in sentence_spans(text):
        present = set(terms(text[s:e])) & weights.keys()
        seen |= present
        best = max(best, sum(weights[t] for t in present) / total)
    return best, sum(weights[t] for t in seen) / total
