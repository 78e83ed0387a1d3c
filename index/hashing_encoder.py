"""A model-free encoder (model.backend = "hashing"): signed hashed term counts, for tests and trying the pipeline."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from corpus.text import terms
from index.encoder import Progress


class HashingEncoder:
    """Deterministic bag-of-terms vectors: fast and model-free, for tests and for trying the pipeline."""

    BATCH = 256

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim

    @property
    def model_id(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            if progress and row and row % self.BATCH == 0:  # in batches, as the model encoders report
                progress(row, len(texts))
            for term in terms(text):
                digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0 if digest[4] & 1 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            out[row, 0] = out[row, 0] if norm else 1.0
        if progress:
            progress(len(texts), len(texts))
        return out
