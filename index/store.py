"""The index on disk: generations of plain files, checksummed in a manifest, swapped in atomically.

Layout under the index folder::

    CURRENT              name of the generation being served (replaced atomically)
    gen-<time>-<rand>/   manifest.json, chunks.jsonl, articles.json, vectors.npy, vectors.faiss, bm25.*,
                         sentences_* (the passages' sentence vectors), timeline.json and timeline_vectors.npz
                         (the dated events, and the vectors of what their mentions say)
    .lock                held while a build writes

A generation is written in full, fsynced and checksummed before CURRENT names it, so a crash at any
point leaves the previous generation serving. Nothing is pickled.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np
from scipy import sparse

from corpus.errors import CitebotError
from corpus.files import fsync
from corpus.models import ArticleMeta, Chunk
from index.ann import apply_search_params
from index.lexical import BM25
from index.rowfile import ChunkTable, RowFile
from index.sentences import SentenceVectors

log = logging.getLogger(__name__)

FORMAT = 1
CURRENT = "CURRENT"
LARGE_INDEX = 100_000  # passages from which chunks and vectors are read from disk on demand, not loaded
TERM_COUNTS = "bm25_counts.npz"  # read by the next build only, never when serving
TIMELINE = "timeline.json"
TIMELINE_VECTORS = "timeline_vectors.npz"  # the timeline's context vectors: read by the next build only


class StoreError(CitebotError):
    """Base for index problems; the message is fit to show a user."""


class IndexMissing(StoreError):
    pass


class IndexCorrupt(StoreError):
    pass


class IndexBusy(StoreError):
    pass


class IndexWriteError(StoreError, OSError):
    """A new generation could not be written (a full or read-only disk); the serving one is untouched."""

    def __init__(self, message: str, errno_: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_


@dataclass(frozen=True)
class ArticleRecord:
    """What the index keeps of an article: enough to cite it without the corpus folder."""

    id: str
    sha256: str
    meta: ArticleMeta


@dataclass
class LoadedIndex:
    """A generation in memory, ready to search (large ones read passages and vectors from disk on demand)."""

    path: Path
    manifest: dict
    chunks: Sequence[Chunk]  # a list, or a ChunkTable for large indexes
    chunk_keys: Sequence[str]
    articles: dict[str, ArticleRecord]
    vectors: np.ndarray | RowFile
    ann: faiss.Index
    bm25: BM25
    sentences: SentenceVectors
    timeline: dict | None  # the dated events (index.timeline), None when the build was told to skip it

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]


class IndexStore:
    """Reads and writes index generations in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._holder: int | None = None  # the thread holding the build lock through this store

    def _pointer(self) -> tuple[str, str | None] | None:
        """(generation name, SHA-256 of its manifest) from CURRENT, or None when there is no index yet."""
        try:
            fields = (self.root / CURRENT).read_text(encoding="utf-8").split()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexCorrupt(f"{self.root / CURRENT}: cannot be read ({exc})") from exc
        if not 1 <= len(fields) <= 2 or not fields[0].startswith("gen-") or "/" in fields[0]:
            raise IndexCorrupt(f"{self.root / CURRENT}: does not name an index generation")
        return fields[0], (fields[1] if len(fields) == 2 else None)

    def current_path(self) -> Path | None:
        pointer = self._pointer()
        return self.root / pointer[0] if pointer else None

    def read_manifest(self, pointer: tuple[str, str | None] | None = None) -> dict | None:
        """The serving generation's manifest, checked against the digest in CURRENT; None without an index."""
        pointer = pointer or self._pointer()
        if pointer is None:
            return None
        path = self.root / pointer[0]
        try:
            raw = (path / "manifest.json").read_bytes()
        except OSError as exc:
            raise IndexCorrupt(f"{path.name}/manifest.json: missing or unreadable") from exc
        if pointer[1] is not None and hashlib.sha256(raw).hexdigest() != pointer[1]:
            raise IndexCorrupt(f"{path.name}/manifest.json: checksum mismatch (the file was changed or damaged)")
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise IndexCorrupt(f"{path.name}/manifest.json: not valid JSON") from exc

    def load(self, verify: bool = True) -> LoadedIndex:
        """The serving generation; raises IndexMissing or IndexCorrupt, never returns a damaged index."""
        pointer, moves = self._pointer(), 0
        while True:
            if pointer is None:
                raise IndexMissing(f"{self.root}: no index has been built yet")
            try:
                return self._load(pointer, verify)
            except IndexCorrupt:
                # Another process published a new generation meanwhile and removed this one: load that one.
                moved, moves = self._pointer(), moves + 1
                if moved == pointer or moves > 3:
                    raise
                pointer = moved

    def _load(self, pointer: tuple[str, str | None], verify: bool) -> LoadedIndex:
        path = self.root / pointer[0]
        manifest = self.read_manifest(pointer)
        if manifest.get("format") != FORMAT:
            raise IndexCorrupt(f"{path.name}: index format {manifest.get('format')!r}, expected {FORMAT}")
        if verify:
            verify_files(path, manifest)
        large = manifest.get("counts", {}).get("chunks", 0) >= LARGE_INDEX
        try:
            if large:  # passages and vectors stay in the page cache, not in this process's heap
                table = ChunkTable(path / "chunks.jsonl")
                chunks, keys = table, table.keys()
            else:
                chunks, keys = [], []
                with open(path / "chunks.jsonl", encoding="utf-8") as fh:
                    for line in fh:
                        row = json.loads(line)
                        chunks.append(Chunk(row["article"], row["ordinal"], row["start"], row["end"], row["text"]))
                        keys.append(row["key"])
            raw_articles = json.loads((path / "articles.json").read_text(encoding="utf-8"))
            articles = {
                a["id"]: ArticleRecord(a["id"], a["sha256"], ArticleMeta(**a["meta"])) for a in raw_articles
            }
            vectors = RowFile(path / "vectors.npy") if large else np.load(path / "vectors.npy", allow_pickle=False)
            ann = faiss.read_index(str(path / "vectors.faiss"))
            apply_search_params(ann, manifest.get("ann", {}).get("params", {}))
            bm25 = BM25.load(path)
            sentences = SentenceVectors.load(path, lazy=large)
            timeline = (json.loads((path / TIMELINE).read_text(encoding="utf-8")) if manifest.get("timeline")
                        else None)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorrupt(f"{path.name}: index files cannot be read ({exc})") from exc
        if (len(chunks) != len(vectors) or ann.ntotal != len(chunks) or bm25.size != len(chunks)
                or len(sentences) != len(chunks)):
            raise IndexCorrupt(f"{path.name}: chunk, vector and lexical counts disagree")
        return LoadedIndex(path, manifest, chunks, keys, articles, vectors, ann, bm25, sentences, timeline)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """A fresh generation folder to fill; it is served only once `commit` names it.

        A failure to write it (OSError, or the RuntimeError FAISS raises) becomes IndexWriteError, which says
        "disk full" when it is and names the index folder, never the half-written generation.
        """
        with self.locked():
            self._sweep()
            path = self.root / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}.tmp"
            try:
                path.mkdir()
                yield path
            except (OSError, RuntimeError) as exc:
                if isinstance(exc, StoreError):
                    raise
                log.warning("writing a new index generation in %s failed: %s", self.root, exc)
                raise write_error(self.root, exc) from exc
            finally:
                if path.exists():  # not committed: a failed build leaves nothing behind
                    shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def locked(self, wait: bool = False) -> Iterator[None]:
        """Hold the build lock: one build at a time per index folder, across processes, from reading the
        previous generation to publishing the new one. IndexBusy when another holds it (unless `wait`)."""
        me = threading.get_ident()
        if self._holder == me:  # re-entered by the same build: it holds the lock already
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise IndexBusy("another reindex is already writing this index; try again when it ends") from exc
            self._holder = me
            try:
                yield
            finally:
                self._holder = None
                fcntl.flock(fh, fcntl.LOCK_UN)

    def commit(self, tmp: Path, manifest: dict) -> Path:
        """Checksum, fsync and publish a filled generation folder, then drop the older ones."""
        manifest = dict(manifest, format=FORMAT, files=checksums(tmp))
        text = json.dumps(manifest, indent=2, ensure_ascii=False)
        _write_durably(tmp / "manifest.json", text)
        final = tmp.with_name(tmp.name.removesuffix(".tmp"))
        os.rename(tmp, final)
        fsync(self.root)
        try:  # the manifest's own digest goes in the pointer, so a damaged manifest is caught too
            _write_durably(self.root / CURRENT, f"{final.name} {hashlib.sha256(text.encode()).hexdigest()}\n")
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)  # unpublished: do not leave it on a full disk
            raise
        self._sweep(keep=final.name)
        return final

    def _sweep(self, keep: str | None = None) -> None:
        """Remove unfinished builds, generations other than the serving one, and half-written pointers left
        by a kill (only ever written under the build lock, which the caller holds)."""
        try:
            serving = keep or (self.current_path() or Path("")).name
        except IndexCorrupt:
            serving = None
        for child in self.root.iterdir():
            if child.name.startswith("gen-") and child.name != serving and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith(f".{CURRENT}.") and child.is_file():
                child.unlink(missing_ok=True)


def write_error(root: Path, exc: BaseException) -> IndexWriteError:
    """What a failed write of a new generation means to an admin: disk full (and where), or why else."""
    err = getattr(exc, "errno", None)
    if isinstance(exc, OSError):
        reason = exc.strerror or exc.__class__.__name__
    else:  # FAISS: "Error in ... write error in <path>: 1 != 2 (No space left on device)": keep the last part
        found = re.search(r"\(([^()]+)\)\s*$", str(exc))
        reason = found.group(1) if found else exc.__class__.__name__
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        free = None
    if err in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc) or (free is not None and free < 1 << 20):
        room = f"{free / 2**20:.1f} MB free" if free is not None else "no room"
        return IndexWriteError(f"disk full: the new index could not be written in {root} ({room}; "
                               f"{os.strerror(errno.ENOSPC)}); the index in use is unchanged", errno.ENOSPC)
    return IndexWriteError(f"the new index could not be written in {root} ({reason}); the index in use is "
                           "unchanged", err)


def write_generation(folder: Path, chunks: list[Chunk], articles: list[ArticleRecord], vectors: np.ndarray,
                     ann: faiss.Index, bm25: BM25, sentences: SentenceVectors, timeline: dict | None,
                     term_counts: sparse.spmatrix | None = None, chunks_prefix: Path | None = None) -> None:
    """Write a generation's data files (not its manifest).

    `term_counts` (passage x term counts, columns as in the BM25 vocabulary) lets the next build append
    passages to the lexical index without tokenising the unchanged ones again. With `chunks_prefix` (the
    previous generation's chunks.jsonl) `chunks` are only the added passages, written after a copy of it.
    """
    if chunks_prefix is not None:
        shutil.copyfile(chunks_prefix, folder / "chunks.jsonl")
    with open(folder / "chunks.jsonl", "a" if chunks_prefix is not None else "w", encoding="utf-8") as fh:
        for c in chunks:
            row = {"article": c.article_id, "ordinal": c.ordinal, "start": c.start, "end": c.end, "key": c.key,
                   "text": c.text}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (folder / "articles.json").write_text(
        json.dumps([asdict(a) for a in articles], ensure_ascii=False, indent=1), encoding="utf-8")
    dtype = np.float16 if vectors.dtype == np.float16 else np.float32  # float16 halves memory for large indexes
    np.save(folder / "vectors.npy", np.ascontiguousarray(vectors, dtype=dtype), allow_pickle=False)
    if term_counts is not None:
        sparse.save_npz(folder / TERM_COUNTS, sparse.csr_matrix(term_counts), compressed=False)
    faiss.write_index(ann, str(folder / "vectors.faiss"))
    bm25.save(folder)
    sentences.save(folder)
    if timeline is not None:
        (folder / TIMELINE).write_text(json.dumps(timeline, ensure_ascii=False), encoding="utf-8")


def checksums(folder: Path) -> dict[str, dict]:
    files = [f for f in sorted(folder.iterdir()) if f.is_file() and f.name != "manifest.json"]

    def sync_and_hash(f: Path) -> str:
        fsync(f)
        return _file_sha256(f)

    digests = _in_parallel(sync_and_hash, files)
    return {f.name: {"bytes": f.stat().st_size, "sha256": d} for f, d in zip(files, digests)}


def verify_files(folder: Path, manifest: dict) -> None:
    """Raise IndexCorrupt unless every file the manifest lists is there with its size and hash."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"{folder.name}: manifest lists no files")
    for name, want in files.items():
        try:
            size = (folder / name).stat().st_size
        except OSError:
            raise IndexCorrupt(f"{folder.name}/{name}: missing") from None
        if size != want.get("bytes"):
            raise IndexCorrupt(f"{folder.name}/{name}: {size} bytes, the manifest says {want.get('bytes')} (truncated?)")
    names = list(files)
    for name, digest in zip(names, _in_parallel(_file_sha256, [folder / n for n in names])):
        if digest != files[name].get("sha256"):
            raise IndexCorrupt(f"{folder.name}/{name}: checksum mismatch (the file was changed or damaged)")


def _in_parallel(fn, items: list) -> list:
    """fn over items on a few threads: hashing and fsync release the GIL, so the cores share the work."""
    if len(items) < 2:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(items))) as pool:
        return list(pool.map(fn, items))


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_durably(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(3)}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync(path.parent)

