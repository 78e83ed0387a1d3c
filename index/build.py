"""The only code that writes an index: chunk, embed what is new, reuse what is not, publish atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.chunk import chunk_article
from corpus.models import Article, Chunk, LoadReport, Skipped
from index.encoder import Encoder, Progress
from index.lexical import BM25
from index.store import ArticleRecord, IndexStore, StoreError, make_ann, write_generation

log = logging.getLogger(__name__)

# Extra artefacts computed from the articles at build time and stored with the index (e.g. the timeline).
ExtraBuilder = Callable[[Sequence[Article]], object]


@dataclass(frozen=True)
class BuildConfig:
    target_words: int = 60
    overlap_sentences: int = 1
    index_type: str = "auto"  # auto | flat | hnsw
    hnsw_threshold: int = 50_000  # auto: exact search below this many chunks

    def chunking(self) -> dict:
        return {"target_words": self.target_words, "overlap_sentences": self.overlap_sentences}

    def ann_kind(self, n: int) -> str:
        if self.index_type != "auto":
            return self.index_type
        return "hnsw" if n >= self.hnsw_threshold else "flat"


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

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        d["warnings"] = [{"path": s.path, "reason": s.reason} for s in self.warnings]
        return d


def staleness(manifest: dict | None, report: LoadReport, model_id: str, config: BuildConfig) -> str | None:
    """Why the index does not match the corpus, model and settings; None when it is up to date."""
    if manifest is None:
        return "no index yet"
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


def build_index(report: LoadReport, encoder: Encoder, store: IndexStore, config: BuildConfig,
                progress: Progress | None = None, extras: Mapping[str, ExtraBuilder] | None = None) -> BuildReport:
    """Build a new generation from the loaded articles and publish it; the old one serves until then."""
    started = time.perf_counter()
    chunks: list[Chunk] = [
        c for a in report.articles for c in chunk_article(a, config.target_words, config.overlap_sentences)
    ]
    keys = [c.key for c in chunks]
    cache = _reusable_vectors(store, encoder.model_id)
    todo = [i for i, k in enumerate(keys) if k not in cache]
    dim = encoder.dim
    vectors = np.empty((len(chunks), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in cache:
            vectors[i] = cache[k]
    if todo:
        fresh = encoder.encode([chunks[i].text for i in todo], progress=progress)
        vectors[todo] = fresh
    elif progress:
        progress(0, 0)
    kind = config.ann_kind(len(chunks))
    ann = make_ann(vectors, kind)
    bm25 = BM25.build([c.text for c in chunks])
    records = [ArticleRecord(a.id, a.sha256, a.meta, len(a.text)) for a in report.articles]
    built_extras = {name: fn(report.articles) for name, fn in (extras or {}).items()}
    with store.writing() as tmp:
        write_generation(tmp, chunks, records, vectors, ann, bm25, built_extras)
        manifest = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": {"id": encoder.model_id, "dim": dim},
            "chunking": config.chunking(),
            "index_type": kind,
            "index_type_setting": config.index_type,
            "corpus": report.fingerprint(),
            "counts": {"articles": len(records), "chunks": len(chunks)},
            "extras": sorted(built_extras),
        }
        final = store.commit(tmp, manifest)
    seconds = time.perf_counter() - started
    log.info("index built: %d articles, %d chunks, %d embedded, %d reused in %.1fs",
             len(records), len(chunks), len(todo), len(chunks) - len(todo), seconds)
    return BuildReport(len(records), len(chunks), len(todo), len(chunks) - len(todo), report.skipped, seconds, kind,
                       final.name, report.warnings)


def _reusable_vectors(store: IndexStore, model_id: str) -> dict[str, np.ndarray]:
    """Chunk hash -> vector from the serving generation, if it was built with the same model."""
    try:
        old = store.load(verify=True)
    except StoreError as exc:
        log.info("no embeddings to reuse: %s", exc)
        return {}
    if old.model_id != model_id:
        return {}
    return dict(zip(old.chunk_keys, old.vectors))
