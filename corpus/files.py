"""Files read within a bound and written to last: what the corpus and the index share about the disk."""

from __future__ import annotations

import os
from pathlib import Path

from corpus.errors import CorpusError


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; CorpusError, with the reason in words, when it is larger than `max_bytes` or unreadable."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CorpusError(f"larger than the {max_bytes:,}-byte limit ({size:,} bytes)")
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot be read ({exc.strerror or exc})") from exc


def fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
