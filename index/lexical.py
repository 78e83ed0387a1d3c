"""BM25 over folded, stemmed terms, held as a sparse matrix of precomputed term weights.

The weights are computed by the index build (`index.build.bm25_append`, which can extend them with added
passages without tokenising the others again); this class scores queries with them and stores them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from corpus.text import terms


class BM25:
    """Okapi BM25; `weights[d, t]` is term t's contribution to document d, so a query sums columns."""

    def __init__(self, vocab: dict[str, int], weights: sparse.csc_matrix, idf: np.ndarray) -> None:
        self.vocab = vocab
        self.weights = weights
        self.idf = idf

    @property
    def size(self) -> int:
        return self.weights.shape[0]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (zeros where no term matches)."""
        return self.scores_for(terms(query))

    def scores_for(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for already normalised terms, each counted once."""
        cols = [self.vocab[t] for t in dict.fromkeys(query_terms) if t in self.vocab]
        if not cols:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.weights[:, cols].sum(axis=1)).ravel()

    def term_idf(self, term: str) -> float:
        """IDF of a normalised term; unseen terms get the highest IDF the corpus could give."""
        i = self.vocab.get(term)
        if i is None:
            return float(np.log1p((self.size + 0.5) / 0.5))
        return float(self.idf[i])

    def save(self, folder: Path) -> list[str]:
        sparse.save_npz(folder / "bm25.npz", self.weights, compressed=False)
        np.save(folder / "bm25_idf.npy", self.idf)
        (folder / "bm25_vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        return ["bm25.npz", "bm25_idf.npy", "bm25_vocab.json"]

    @classmethod
    def load(cls, folder: Path) -> BM25:
        weights = sparse.load_npz(folder / "bm25.npz").tocsc()
        idf = np.load(folder / "bm25_idf.npy", allow_pickle=False)
        vocab = json.loads((folder / "bm25_vocab.json").read_text(encoding="utf-8"))
        return cls(vocab, weights, idf)
