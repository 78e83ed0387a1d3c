"""The only code that writes an index: chunk, embed what is new, reuse what is not, publish atomically.

About 410 lines, on purpose: every step that makes a generation (passages, their embeddings and what is reused,
the vector, lexical and timeline indexes, staleness, publishing) is in this one writer of an index.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from corpus.chunk import chunk_article
from corpus.models import Article, Chunk, LoadReport, Skipped, sha256_text
from corpus.text import ANALYZER_VERSION, terms
from index.encoder import Encoder, Progress
from index.lexical import BM25
from index.ann import build_ann, choose_kind, probe_questions
from index.sentences import SentencePlan, SentenceVectors
from index.store import (TERM_COUNTS, TIMELINE_VECTORS, ArticleRecord, IndexStore, LoadedIndex, StoreError,
                         write_generation)
from index.timeline import TIMELINE_VERSION, build_timeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildConfig:
    target_words: int = 60
    overlap_sentences: int = 1
    index_type: str = "auto"  # auto | flat | ivf | hnsw
    approximate_above: int = 50_000  # auto: exact search below this many chunks, an approximate index from it on
    target_recall: float = 0.98  # approximate indexes: recall@10 against exact search that tuning aims for
    ivf_codec: str = "SQfp16"  # how IVF stores vectors: SQfp16 (2 bytes a dimension), SQ8 (1), Flat (4)
    append: bool = True  # when articles were only added, embed and append just theirs
    timeline: bool = True  # build the timeline of dated events with the index (tests may skip it)

    def chunking(self) -> dict:
        return {"target_words": self.target_words, "overlap_sentences": self.overlap_sentences}

    def ann_kind(self, n: int) -> str:
        return choose_kind(n, self.index_type, self.approximate_above)


@dataclass(frozen=True)
class BuildReport:
    articles: int
    chunks: int
    embedded: int
    reused: int
    skipped: tuple[Skipped, ...]
    seconds: float
    index_type: str
    generation: str
    warnings: tuple[Skipped, ...] = field(default=())
    appended: bool = False  # True when the previous generation was extended rather than rebuilt
    timings: dict = field(default_factory=dict, compare=False)  # seconds per step
    up_to_date: bool = False  # True when nothing had changed: the serving generation was kept as it is

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        d["warnings"] = [{"path": s.path, "reason": s.reason} for s in self.warnings]
        return d


def staleness(manifest: dict | None, report: LoadReport, model_id: str, config: BuildConfig) -> str | None:
    """Why the index does not match the corpus, model, settings and code; None when it is up to date."""
    if manifest is None:
        return "no index yet"
    if manifest.get("analyzer") != ANALYZER_VERSION:
        return "the text analysis changed (new version)"
    if config.timeline and manifest.get("timeline") != TIMELINE_VERSION:
        return "it lacks the timeline" if not manifest.get("timeline") else "the timeline changed (new version)"
    if "sentences" not in manifest:
        return "it lacks sentence vectors (built by an older version)"
    if manifest.get("model", {}).get("id") != model_id:
        return f"the model changed ({manifest.get('model', {}).get('id')} -> {model_id})"
    if manifest.get("chunking") != config.chunking():
        return "the chunking settings changed"
    built, now = manifest.get("corpus", {}), report.fingerprint()
    if built != now:
        added = len(set(now) - set(built))
        removed = len(set(built) - set(now))
        changed = sum(1 for k in set(now) & set(built) if now[k] != built[k])
        return f"the corpus changed ({added} added, {removed} removed, {changed} changed)"
    if manifest.get("index_type_setting", "auto") != config.index_type:
        return "the index type setting changed"
    return None


class BuildCancelled(Exception):
    """The build was asked to stop (the process is shutting down); nothing was published."""


def build_index(report: LoadReport, encoder: Encoder, store: IndexStore, config: BuildConfig,
                progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> BuildReport:
    """Build a new generation from the loaded articles and publish it; the old one serves until then.

    When the serving generation already matches the articles (texts and metadata), model, settings and code,
    nothing is written: the report says so (`up_to_date`) and names that generation.

    When the serving generation was built with the same model and settings and every article in it is
    unchanged, only the added articles are chunked, embedded and appended (vector index and lexical
    counts); otherwise everything is rebuilt, still reusing the embeddings of unchanged passages.

    The store's build lock is held throughout, so a second build of the same folder (another process) gets
    IndexBusy at once instead of extending a generation the first one is about to remove. `cancelled` is
    asked between steps and between embedding batches; when it says yes the build stops with BuildCancelled.
    """
    with store.locked():
        return _build(report, encoder, store, config, _Checked(progress, cancelled))


class _Checked:
    """The progress callback, which also stops the build when it has been cancelled."""

    def __init__(self, progress: Progress | None, cancelled: Callable[[], bool] | None) -> None:
        self.progress = progress
        self.cancelled = cancelled

    def check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise BuildCancelled("the build was cancelled; the index in use is unchanged")

    def __call__(self, done: int, total: int) -> None:
        self.check()
        if self.progress is not None:
            self.progress(done, total)


class _Watched(Sequence[Article]):
    """The articles, with `check` asked before each is handed out: the timeline (seconds per hundred articles)
    then stops between articles when the build is cancelled."""

    def __init__(self, articles: Sequence[Article], check: Callable[[], None]) -> None:
        self._articles = articles
        self._check = check

    def __len__(self) -> int:
        return len(self._articles)

    def __getitem__(self, i):
        self._check()
        return self._articles[i]

    def __iter__(self) -> Iterator[Article]:
        for article in self._articles:
            self._check()
            yield article


def _build(report: LoadReport, encoder: Encoder, store: IndexStore, config: BuildConfig,
           progress: _Checked) -> BuildReport:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    clock = _Clock(timings, progress.check)
    old = _previous(store, encoder.model_id)
    clock("load previous")
    if old is not None and staleness(old.manifest, report, encoder.model_id, config) is None:
        n = len(old.chunks)
        log.info("index %s is up to date: %d articles, %d chunks", old.path.name, len(old.articles), n)
        return BuildReport(len(report.articles), n, 0, n, report.skipped, time.perf_counter() - started,
                           old.manifest["index_type"], old.path.name, report.warnings, up_to_date=True,
                           timings=timings)
    plan = _append_plan(old, report, config) if config.append else None
    dim = encoder.dim
    if plan is not None:
        new_chunks = plan
        n_chunks = len(old.chunks) + len(new_chunks)
        clock("chunk")
        fresh, added_sentences = _embed(new_chunks, {}, None, encoder, dim, progress)
        sentences = old.sentences.extended(added_sentences)
        clock("embed")
        kind = old.manifest["index_type"]
        vectors = np.concatenate([old.vectors, fresh.astype(old.vectors.dtype)])
        ann = old.ann
        ann.add(np.ascontiguousarray(fresh, dtype=np.float32))
        ann_info = dict(old.manifest.get("ann", {"kind": kind, "params": {}}))
        ann_info["appended"] = ann_info.get("appended", 0) + len(new_chunks)
        clock("vector index")
        counts, vocab = _previous_counts(old)
        bm25, counts = bm25_append(counts, vocab, [c.text for c in new_chunks])
        clock("lexical index")
        todo = len(new_chunks)
        # the old passages' records are copied as bytes, not parsed and written again
        chunks, chunks_prefix = new_chunks, old.path / "chunks.jsonl"
    else:
        chunks = [c for a in report.articles for c in chunk_article(a, config.target_words, config.overlap_sentences)]
        keys = [c.key for c in chunks]
        n_chunks, chunks_prefix = len(chunks), None
        rows = {k: r for r, k in enumerate(old.chunk_keys)} if old is not None else {}
        old_vectors = np.asarray(old.vectors) if old is not None else None
        cache = {k: old_vectors[r] for k, r in rows.items()}
        clock("chunk")
        todo = sum(1 for k in keys if k not in cache)
        vectors, sentences = _embed(chunks, cache, (old.sentences, rows) if old is not None else None,
                                    encoder, dim, progress)
        clock("embed")
        kind = config.ann_kind(len(chunks))
        probes = encoder.encode(probe_questions([c.text for c in chunks])) if kind != "flat" else None
        ann, info = build_ann(vectors, kind, config.target_recall, config.ivf_codec, queries=probes)
        ann_info = dict(info.as_dict(), trained_on=len(chunks), appended=0)
        if kind != "flat":
            vectors = vectors.astype(np.float16)  # exact enough to re-score candidates; half the memory
        clock("vector index")
        bm25, counts = bm25_append(None, {}, [c.text for c in chunks])
        clock("lexical index")
    records = [ArticleRecord(a.id, a.sha256, a.meta) for a in report.articles]
    timeline, contexts = None, None
    if config.timeline:
        contexts = ContextVectors(encoder, ContextVectors.stored(old), progress.check)
        timeline = build_timeline(_Watched(report.articles, progress.check), contexts)
    clock("timeline")
    with store.writing() as tmp:
        write_generation(tmp, chunks, records, vectors, ann, bm25, sentences, timeline, term_counts=counts,
                         chunks_prefix=chunks_prefix)
        if contexts is not None:
            contexts.save(tmp / TIMELINE_VECTORS)
        clock("write")
        manifest = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": {"id": encoder.model_id, "dim": dim},
            "chunking": config.chunking(),
            "analyzer": ANALYZER_VERSION,
            "index_type": kind,
            "index_type_setting": config.index_type,
            "ann": ann_info,
            "vectors_dtype": str(vectors.dtype),
            "sentences": {"rows": int(sentences.ptr[-1]), "dtype": "int8"},
            "corpus": report.fingerprint(),
            "counts": {"articles": len(records), "chunks": n_chunks},
            "timeline": TIMELINE_VERSION if timeline is not None else None,
        }
        final = store.commit(tmp, manifest)
        clock("checksum and publish", last=True)
    seconds = time.perf_counter() - started
    log.info("index %s: %d articles, %d chunks, %d embedded, %d reused in %.1fs (%s)",
             "appended" if plan is not None else "built", len(records), n_chunks, todo, n_chunks - todo,
             seconds, ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    return BuildReport(len(records), n_chunks, todo, n_chunks - todo, report.skipped, seconds, kind,
                       final.name, report.warnings, plan is not None, timings)


class _Clock:
    """Times the steps of a build; between steps, `check` may stop it."""

    def __init__(self, into: dict[str, float], check: Callable[[], None] = lambda: None) -> None:
        self.into = into
        self.check = check
        self.last = time.perf_counter()

    def __call__(self, step: str, last: bool = False) -> None:
        now = time.perf_counter()
        self.into[step] = self.into.get(step, 0.0) + now - self.last
        self.last = now
        if not last:  # once published, the build is done: too late to cancel
            self.check()


def _embed(chunks: list[Chunk], cache: Mapping[str, np.ndarray],
           stored: tuple[SentenceVectors, Mapping[str, int]] | None, encoder: Encoder, dim: int,
           progress: Progress | None) -> tuple[np.ndarray, SentenceVectors]:
    """float32 passage vectors and the passages' sentence vectors: stored ones where the passage's text is
    unchanged (`cache` by chunk key; `stored` sentence vectors with the old row of each key), the rest
    from the encoder in one pass, so the progress shown covers all of it."""
    vectors = np.empty((len(chunks), dim), dtype=np.float32)
    todo = []
    for i, c in enumerate(chunks):
        v = cache.get(c.key)
        if v is None:
            todo.append(i)
        else:
            vectors[i] = v

    def reuse(chunk: Chunk):
        if stored is None or chunk.key not in stored[1]:
            return None
        return stored[0].raw(stored[1][chunk.key])

    plan = SentencePlan(chunks, reuse)
    texts = [chunks[i].text for i in todo] + plan.texts
    if texts:
        fresh = encoder.encode(texts, progress=progress)
    else:
        fresh = np.zeros((0, dim), dtype=np.float32)
        if progress:
            progress(0, 0)
    vectors[todo] = fresh[: len(todo)]
    return vectors, plan.finish(fresh[len(todo):])


class ContextVectors:
    """The encoder, for the timeline's mention contexts: texts the previous generation embedded are looked up by
    their hash instead of embedded again (else every build, an append of one article too, would embed every
    dated clause of the corpus). Vectors are kept as float16, fresh ones rounded the same way, so a timeline
    comes out the same whichever of them were reused."""

    def __init__(self, encoder: Encoder, known: dict[bytes, np.ndarray], check: Callable[[], None]) -> None:
        self.encoder = encoder
        self.known = known
        self.check = check
        self.used: dict[bytes, np.ndarray] = {}

    @staticmethod
    def stored(old: LoadedIndex | None) -> dict[bytes, np.ndarray]:
        """Hash -> vector, as the previous generation (same model) kept them; empty when it kept none."""
        if old is None or not (old.path / TIMELINE_VECTORS).is_file():
            return {}
        with np.load(old.path / TIMELINE_VECTORS, allow_pickle=False) as kept:
            return dict(zip(kept["keys"].tolist(), kept["vectors"]))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        keys = [sha256_text(t).encode("ascii") for t in texts]
        todo = {k: t for k, t in zip(keys, texts) if k not in self.known}
        if todo:
            fresh = self.encoder.encode(list(todo.values()), progress=lambda done, total: self.check())
            self.known.update(zip(todo, fresh.astype(np.float16)))
        self.used.update((k, self.known[k]) for k in keys)
        return np.stack([self.known[k] for k in keys]).astype(np.float32)

    def save(self, path: Path) -> None:
        """The vectors this build used, for the next one."""
        keys = np.asarray(list(self.used), dtype="S64")
        vectors = np.stack(list(self.used.values())) if self.used else np.zeros((0, 0), dtype=np.float16)
        with open(path, "wb") as fh:
            np.savez(fh, keys=keys, vectors=vectors)


def _previous(store: IndexStore, model_id: str) -> LoadedIndex | None:
    """The serving generation if it was built with the same model (its embeddings can be reused)."""
    try:
        old = store.load(verify=True)
    except StoreError as exc:
        log.info("no embeddings to reuse: %s", exc)
        return None
    return old if old.model_id == model_id else None


def _append_plan(old: LoadedIndex | None, report: LoadReport, config: BuildConfig) -> list[Chunk] | None:
    """The added articles' chunks, when the previous generation can simply be extended with them; else None."""
    if old is None or old.manifest.get("chunking") != config.chunking():
        return None
    if old.manifest.get("analyzer") != ANALYZER_VERSION:
        return None
    if old.manifest.get("index_type_setting", "auto") != config.index_type:
        return None
    built, now = old.manifest.get("corpus", {}), report.fingerprint()
    if any(now.get(k) != v for k, v in built.items()):  # an article was changed or removed
        return None
    added = [a for a in report.articles if a.id not in built]
    if not added:
        return None
    chunks = [c for a in added for c in chunk_article(a, config.target_words, config.overlap_sentences)]
    kind = old.manifest.get("index_type")
    if kind != config.ann_kind(len(old.chunks) + len(chunks)):
        return None  # crossing the threshold: build the other kind from scratch
    ann = old.manifest.get("ann", {})
    if kind != "flat" and ann.get("appended", 0) + len(chunks) > 0.2 * ann.get("trained_on", 0):
        return None  # many vectors added since training: retrain and retune
    return chunks


def _previous_counts(old: LoadedIndex) -> tuple[sparse.csr_matrix, dict[str, int]]:
    counts = sparse.load_npz(old.path / TERM_COUNTS).tocsr()
    return counts, dict(old.bm25.vocab)


def count_terms(texts: Sequence[str], vocab: dict[str, int]) -> sparse.csr_matrix:
    """Passage x term counts; terms not yet in `vocab` are added to it, in order of first use."""
    indptr, cols, counts = [0], [], []
    for text in texts:
        for term, n in Counter(terms(text)).items():
            cols.append(vocab.setdefault(term, len(vocab)))
            counts.append(n)
        indptr.append(len(cols))
    return sparse.csr_matrix((np.asarray(counts, np.float32), np.asarray(cols, np.int64), np.asarray(indptr, np.int64)),
                             shape=(len(texts), len(vocab)))


def bm25_from_counts(vocab: dict[str, int], counts: sparse.spmatrix, k1: float = 1.2, b: float = 0.75) -> BM25:
    """Okapi BM25 over the passages' term counts: idf = ln(1 + (N - df + 0.5) / (df + 0.5)) and the (k1 + 1)
    numerator, i.e. (k1 + 1) times the "lucene" variant of bm25s, which a test checks it against."""
    counts = sparse.csr_matrix(counts, dtype=np.float32)
    n = counts.shape[0]
    lengths = np.asarray(counts.sum(axis=1), dtype=np.float32).ravel()
    df = np.bincount(counts.indices.astype(np.int64), minlength=len(vocab)).astype(np.float32)
    idf = np.log1p((max(n, 1) - df + 0.5) / (df + 0.5)).astype(np.float32)
    avg = float(lengths.mean()) if n else 1.0
    norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
    tf = counts.tocoo()
    data = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
    weights = sparse.csc_matrix((data.astype(np.float32), (tf.row, tf.col)), shape=(n, len(vocab)))
    return BM25(vocab, weights, idf)


def bm25_append(counts: sparse.csr_matrix | None, vocab: dict[str, int],
                texts: Sequence[str]) -> tuple[BM25, sparse.csr_matrix]:
    """BM25 over the old passages' counts (None: there are none) plus the new texts, tokenising only those; and
    the counts of all of them. `vocab` (term -> column) is extended with the new texts' terms."""
    fresh = count_terms(texts, vocab)
    if counts is None:
        counts = fresh
    else:
        counts = counts.copy()
        counts.resize((counts.shape[0], len(vocab)))
        counts = sparse.vstack([counts, fresh], format="csr")
    return bm25_from_counts(vocab, counts), counts

