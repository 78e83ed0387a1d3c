"""Vectors of every passage's sentences, computed at build time so that answering only looks them up.

A passage's sentences are `sentence_spans(chunk.text)`, in order; passage i owns rows
`ptr[i]:ptr[i+1]`. Vectors are stored as int8 with one scale per row (a quarter of float32; the
cosine to the float32 vector stays above 0.9999), read from disk on demand for large indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from corpus.models import Chunk
from corpus.text import sentence_spans
from index.rowfile import RowFile

PTR, CODES, SCALES = "sentences_ptr.npy", "sentences_int8.npy", "sentences_scale.npy"


class SentenceVectors:
    """Per-passage sentence vectors: `of(row)` gives passage `row`'s sentences as float32 rows."""

    def __init__(self, ptr: np.ndarray, codes: np.ndarray, scales: np.ndarray) -> None:
        if len(ptr) == 0 or ptr[0] != 0 or ptr[-1] != len(codes) or len(scales) != len(codes):
            raise ValueError("sentence vector files disagree")
        self.ptr, self.codes, self.scales = ptr, codes, scales

    def __len__(self) -> int:
        """Number of passages."""
        return len(self.ptr) - 1

    def of(self, row: int) -> np.ndarray:
        a, b = int(self.ptr[row]), int(self.ptr[row + 1])
        return self.codes[a:b].astype(np.float32) * self.scales[a:b][:, None]

    def raw(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Passage `row`'s (int8 codes, scales), for copying into a new generation unchanged."""
        a, b = int(self.ptr[row]), int(self.ptr[row + 1])
        return self.codes[a:b], self.scales[a:b]

    def extended(self, other: SentenceVectors) -> SentenceVectors:
        """These passages followed by `other`'s."""
        return SentenceVectors(np.concatenate([self.ptr, other.ptr[1:] + self.ptr[-1]]),
                               np.concatenate([self.codes, other.codes]), np.concatenate([self.scales, other.scales]))

    def save(self, folder: Path) -> None:
        np.save(folder / PTR, self.ptr, allow_pickle=False)
        np.save(folder / CODES, np.ascontiguousarray(self.codes), allow_pickle=False)
        np.save(folder / SCALES, self.scales, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, lazy: bool = False) -> SentenceVectors:
        """With `lazy`, vectors are read from disk as passages need them (large indexes)."""
        if lazy:
            return cls(np.load(folder / PTR, allow_pickle=False), RowFile(folder / CODES), RowFile(folder / SCALES))
        return cls(np.load(folder / PTR, allow_pickle=False), np.load(folder / CODES, allow_pickle=False),
                   np.load(folder / SCALES, allow_pickle=False))


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and per-row scales with codes * scale ~= vectors."""
    vectors = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(vectors).max(axis=1, initial=0.0)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def sentence_texts(chunk: Chunk) -> list[str]:
    return [chunk.text[s:e] for s, e in sentence_spans(chunk.text)]


class SentencePlan:
    """What embedding some chunks' sentences takes: `texts` to encode (each distinct sentence once;
    overlapping chunks share sentences), then `finish` with their vectors.

    `reuse(chunk)` may give a chunk's stored (codes, scales) when its text is unchanged.
    """

    def __init__(self, chunks: Sequence[Chunk],
                 reuse: Callable[[Chunk], tuple[np.ndarray, np.ndarray] | None] = lambda c: None) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray] | list[str]] = []
        todo: dict[str, int] = {}
        for chunk in chunks:
            stored = reuse(chunk)
            if stored is None:
                stored = sentence_texts(chunk)
                for t in stored:
                    todo.setdefault(t, len(todo))
            self._parts.append(stored)
        self._todo = todo
        self.texts = list(todo)

    def finish(self, vectors: np.ndarray) -> SentenceVectors:
        """The chunks' sentence vectors, given `vectors` (len(texts) x dim) for `texts`."""
        fresh_codes, fresh_scales = quantize(vectors)
        counts = [len(p) if isinstance(p, list) else len(p[0]) for p in self._parts]
        codes = np.empty((sum(counts), fresh_codes.shape[1]), dtype=np.int8)
        scales = np.empty(sum(counts), dtype=np.float32)
        at = 0
        for part, n in zip(self._parts, counts):
            if isinstance(part, list):
                rows = [self._todo[t] for t in part]
                codes[at:at + n], scales[at:at + n] = fresh_codes[rows], fresh_scales[rows]
            else:
                codes[at:at + n], scales[at:at + n] = part
            at += n
        return SentenceVectors(np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64), codes, scales)
