"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused by rank, re-scored on evidence."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from corpus.models import Chunk
from corpus.text import sentence_spans, terms, word_terms, words
from index.qtype import answer_kinds, answer_type
from index.encoder import Encoder
from index.store import LoadedIndex


@dataclass(frozen=True)
class SearchConfig:
    candidates: int = 40  # from each retriever before fusion
    rrf_k: int = 60
    rescore: int = 30  # fused candidates whose sentences are read for evidence
    dense_weight: float = 2.0  # cosine differences are small but telling; weighed up against term matches
    sentence_dense_weight: float = 2.0  # the passage's sentence closest in meaning to the question
    lexical_weight: float = 1.0  # BM25 as a share of what the question's terms could score (see `search`)
    coverage_weight: float = 1.0  # best sentence's share of the question's term weight
    answer_type_weight: float = 0.2  # bonus when that sentence holds what the question asks for (a date, a name)
    subordinate_weight: float = 0.6  # terms of a 'when/after/...' clause count less than the main clause's
    same_article_penalty: float = 0.2  # spreads the top results over articles that report the same thing


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the evidence behind its score."""

    row: int
    chunk: Chunk
    score: float
    dense: float  # cosine of question and chunk
    lexical: float  # BM25 relative to the sum of the question's term IDFs
    coverage: float  # share of the question's IDF weight found in the chunk's best sentence
    chunk_coverage: float  # share of the question's IDF weight found anywhere in the chunk
    sentence_dense: float = 0.0  # cosine of the question and the chunk's closest sentence
    # the chunk's stored sentence vectors, read once for scoring and reused to pick the answer sentences
    sentence_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)


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
        _, ids = self.index.ann.search(qv[None, :].astype(np.float32), n)
        dense_ids = [int(i) for i in ids[0] if i >= 0]
        lex_all = self.index.bm25.scores(question)  # once: the top ids and every candidate's score come from it
        lex_ids = top_positive(lex_all, n)
        fused: dict[int, float] = {}
        for ranking in (dense_ids, [int(i) for i in lex_ids]):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
        # BM25 relative to the sum of the question's IDFs (what a passage holding each term once scores), not
        # to the best passage: when the question's own words are rare in the articles (a paraphrase), the
        # passage that happens to share one common word should not get full lexical credit.
        possible = sum(self.index.bm25.term_idf(t) for t in dict.fromkeys(terms(question)))
        dense = {row: float(self.index.vectors[row] @ qv) for row in fused}
        lexical = {row: float(lex_all[row]) / possible if possible > 0 else 0.0 for row in fused}
        # Sentence-level evidence costs most: read it only for the best candidates by meaning and terms.
        rows = sorted(fused, key=lambda r: (-(cfg.dense_weight * dense[r] + cfg.lexical_weight * lexical[r]), r))
        weights = self.term_weights(question)
        kind = answer_type(question)
        hits = []
        sentences = self.index.sentences
        for row in rows[: cfg.rescore]:
            chunk = self.index.chunks[row]
            coverage, chunk_cov, typed = sentence_coverage(chunk.text, weights, kind)
            # an index built without sentence vectors counts the passage as one sentence
            vectors = sentences.of(row) if sentences is not None else None
            closest = float((vectors @ qv).max(initial=-1.0)) if vectors is not None else dense[row]
            score = (cfg.dense_weight * dense[row] + cfg.sentence_dense_weight * closest
                     + cfg.lexical_weight * lexical[row] + cfg.coverage_weight * coverage
                     + cfg.answer_type_weight * typed)
            hits.append(Hit(row, chunk, score, dense[row], lexical[row], coverage, chunk_cov, closest, vectors))
        return self._diversify(hits, k)

    def _diversify(self, hits: list[Hit], k: int) -> list[Hit]:
        """Best first, but a further passage from an article already listed must beat the others by a margin."""
        left = sorted(hits, key=lambda h: (-h.score, h.row))
        out: list[Hit] = []
        per_article: dict[str, int] = {}
        while left and len(out) < k:
            best = max(left, key=lambda h: h.score - self.config.same_article_penalty
                       * per_article.get(h.chunk.article_id, 0))
            left.remove(best)
            out.append(best)
            per_article[best.chunk.article_id] = per_article.get(best.chunk.article_id, 0) + 1
        return out

    def term_weights(self, question: str) -> dict[str, float]:
        """The question's content terms weighted by IDF, terms of a subordinate clause weighing less."""
        main, sub = split_clauses(question)
        weights = {t: self.index.bm25.term_idf(t) * self.config.subordinate_weight for t in terms(sub)}
        weights.update({t: self.index.bm25.term_idf(t) for t in terms(main)})
        return weights


_SUBORDINATE = re.compile(r"\s(when|while|after|before|because|since|until|once|if|as)\s", re.IGNORECASE)


def split_clauses(question: str) -> tuple[str, str]:
    """(main clause, subordinate clause) of a question like 'Who was minister when parliament voted?'."""
    m = _SUBORDINATE.search(question, 4)
    return (question[: m.start()], question[m.start():]) if m else (question, "")


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


@functools.lru_cache(maxsize=50_000)
def analysed_sentences(text: str) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Each sentence of a passage as (its terms, the answer kinds it holds); cached, passages recur."""
    out = []
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        folded = words(sentence)
        out.append((frozenset(word_terms(folded)), answer_kinds(sentence, folded)))
    return tuple(out)


def sentence_coverage(text: str, weights: dict[str, float], kind: str | None = None) -> tuple[float, float, bool]:
    """Best sentence's share of the question's term weight, the whole text's share, and whether that
    best sentence holds the kind of answer asked for."""
    total = sum(weights.values())
    if not total:
        return 0.0, 0.0, False
    best, typed = -1.0, False
    seen: set[str] = set()
    for sentence_terms, kinds in analysed_sentences(text):
        present = sentence_terms & weights.keys()
        seen |= present
        share = sum(weights[t] for t in present) / total
        if share > best:
            best, typed = share, kind in kinds
    return max(best, 0.0), sum(weights[t] for t in seen) / total, typed
