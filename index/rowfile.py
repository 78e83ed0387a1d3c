"""Rows of large index files read on demand with pread: the file stays in the page cache, not in the process.

`RowFile` reads rows of a .npy file (vectors), `ChunkTable` lines of chunks.jsonl (passages).

A memory map would do the same with less code, but every page fault maps its neighbours too (the
kernel's fault-around, 64 KB), so a few hundred random rows per question leave most of a large file
counted in the serving process's resident memory. A pread costs a system call (~2 us) per row.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus.models import Chunk


class RowFile:
    """Read-only rows of a 1- or 2-dimensional C-ordered .npy file; indexing returns ordinary arrays."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            self._offset = fh.tell()
        if fortran or dtype.hasobject or not 1 <= len(shape) <= 2:
            raise ValueError(f"{path.name}: not a plain row-major array")
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype = dtype
        self._row_bytes = dtype.itemsize * (shape[1] if len(shape) == 2 else 1)
        expected = self._offset + self._row_bytes * shape[0]
        if os.path.getsize(path) != expected:
            raise ValueError(f"{path.name}: {os.path.getsize(path)} bytes, its header implies {expected}")
        self._path = path
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return self._row_bytes * self.shape[0]

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop-1 (clipped to the array), as a new array."""
        start, stop = max(0, start), min(stop, len(self))
        count = max(0, stop - start)
        data = os.pread(self._fd, self._row_bytes * count, self._offset + self._row_bytes * start)
        if len(data) != self._row_bytes * count:
            raise OSError(f"{self._path.name}: short read (the file changed?)")
        return np.frombuffer(data, dtype=self.dtype).reshape((count,) + self.shape[1:])

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            return self.rows(start, stop)[::step] if step != 1 else self.rows(start, stop)
        i = int(key)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(key)
        return self.rows(i, i + 1)[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.load(self._path, allow_pickle=False)
        return whole if dtype is None else whole.astype(dtype)


class ChunkTable(Sequence[Chunk]):
    """chunks.jsonl read row by row on demand: the process holds line offsets, the text stays in the page cache.

    At a million passages this saves about a gigabyte of Python objects; a row costs a pread and a JSON
    parse (~7 us). (pread rather than a memory map: see index/rowfile.py.)
    """

    def __init__(self, path: Path) -> None:
        ends = []
        with open(path, "rb") as fh:
            at = 0
            for block in iter(lambda: fh.read(1 << 24), b""):
                ends.append(np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + at)
                at += len(block)
        ends_all = np.concatenate(ends).astype(np.int64) if ends else np.zeros(0, np.int64)
        self._starts = np.concatenate([[0], ends_all[:-1] + 1]).astype(np.int64)
        self._ends = ends_all
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return len(self._ends)

    def row(self, i: int) -> dict:
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = int(self._starts[i])
        return json.loads(os.pread(self._fd, int(self._ends[i]) - start, start))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        row = self.row(int(i))
        return Chunk(row["article"], row["ordinal"], row["start"], row["end"], row["text"])

    def keys(self) -> Sequence[str]:
        return _KeyColumn(self)


class _KeyColumn(Sequence[str]):
    def __init__(self, table: ChunkTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._table.row(int(i))["key"]
