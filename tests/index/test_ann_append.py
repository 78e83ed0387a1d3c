"""Vector index choice, tuning and appending: adding articles extends the index instead of rebuilding it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from corpus.chunk import chunk_article
from corpus.load import load_articles
from corpus.models import LoadReport
from index.ann import build_ann, exact_top, ivf_lists, recall_at, tuning_queries
from index.build import BuildConfig, bm25_append, build_index, staleness
from index.hashing_encoder import HashingEncoder
from index.rowfile import RowFile
from index.sentences import sentence_texts
from index.store import IndexStore
from tests.conftest import RecordingEncoder

ARTICLES = Path(__file__).resolve().parents[2] / "corpus" / "articles"


@pytest.fixture(scope="module")
def corpus() -> LoadReport:
    return load_articles(ARTICLES, 2_000_000)


def _without(report: LoadReport, n: int) -> LoadReport:
    return replace(report, articles=report.articles[:n])


def _clustered(n: int, dim: int = 64, centres: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dim))
    v = c[rng.integers(0, centres, n)] + 0.6 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_index_is_tuned_to_target_recall(kind):
    vectors = _clustered(4000)
    ann, info = build_ann(vectors, kind, target_recall=0.95)
    assert info.kind == kind and info.recall_at_10 >= 0.95
    queries = tuning_queries(vectors, 100, seed=7)
    assert recall_at(ann, queries, exact_top(vectors, queries, 10)) >= 0.9
    if kind == "ivf":
        assert info.params["nlist"] == ivf_lists(4000)


def test_adding_an_article_appends_and_matches_a_full_build(corpus, tmp_path):
    enc = RecordingEncoder()
    store = IndexStore(tmp_path / "a")
    first = build_index(_without(corpus, 4), enc, store, BuildConfig())
    assert not first.appended
    enc.calls.clear()
    second = build_index(corpus, enc, store, BuildConfig())
    added = chunk_article(corpus.articles[4])
    assert second.appended and second.embedded == len(added) and len(enc.calls) == 2
    # the timeline's mention contexts: only the new article's; the others' vectors are the previous generation's
    new_text = " ".join(corpus.articles[4].text.split())
    assert enc.calls[1] and all(context in new_text for context in enc.calls[1])
    # one pass over its passages, then its sentences, each distinct sentence once
    encoded = enc.calls[0]
    assert encoded[: len(added)] == [c.text for c in added]
    sentences = encoded[len(added):]
    assert sorted(sentences) == sorted({s for c in added for s in sentence_texts(c)})
    loaded = store.load()
    assert loaded.ann.ntotal == len(loaded.chunks) == first.chunks + len(added)
    assert [c.key for c in loaded.chunks[-len(added):]] == [c.key for c in added]
    # the lexical index equals one built from scratch over the same passages in the same order
    want, _ = bm25_append(None, {}, [c.text for c in loaded.chunks])
    assert loaded.bm25.vocab == want.vocab
    np.testing.assert_allclose(loaded.bm25.weights.toarray(), want.weights.toarray(), rtol=1e-5, atol=1e-6)
    # and dense search finds the same passages as a full build
    full = IndexStore(tmp_path / "b")
    build_index(corpus, HashingEncoder(), full, BuildConfig(append=False))
    fresh = full.load()
    q = enc.encode(["cluster munitions convention withdrawal"])
    a_ids = loaded.ann.search(q, 5)[1][0]
    b_ids = fresh.ann.search(q, 5)[1][0]
    assert [loaded.chunks[i].key for i in a_ids] == [fresh.chunks[i].key for i in b_ids]
    assert staleness(store.read_manifest(), corpus, enc.model_id, BuildConfig()) is None


def test_a_changed_article_rebuilds_but_reuses_embeddings(corpus, tmp_path):
    enc = RecordingEncoder()
    store = IndexStore(tmp_path)
    build_index(corpus, enc, store, BuildConfig())
    first = corpus.articles[0]
    changed = replace(first, text=first.text + "\n\nA new closing sentence about the treaty.")
    report = replace(corpus, articles=(changed,) + corpus.articles[1:])
    enc.calls.clear()
    out = build_index(report, enc, store, BuildConfig())
    assert not out.appended
    assert 0 < out.embedded <= 2 and out.reused == out.chunks - out.embedded
    # sentence vectors too: only the changed passage's sentences are embedded
    encoded = [t for call in enc.calls for t in call]
    assert "A new closing sentence about the treaty." in encoded
    assert len(encoded) <= 6


def test_large_corpus_gets_a_tuned_ivf_index_recorded_in_the_manifest(corpus, tmp_path):
    store = IndexStore(tmp_path)
    report = build_index(corpus, HashingEncoder(), store, BuildConfig(approximate_above=10))
    assert report.index_type == "ivf"
    manifest = json.loads((store.current_path() / "manifest.json").read_text())
    assert manifest["index_type"] == "ivf" and manifest["ann"]["params"]["nprobe"] >= 1
    assert manifest["vectors_dtype"] == "float16"
    loaded = store.load()
    assert faiss.extract_index_ivf(loaded.ann).nprobe == manifest["ann"]["params"]["nprobe"]
    assert loaded.vectors.dtype == np.float16


def test_forced_flat_index_is_exact(corpus, tmp_path):
    store = IndexStore(tmp_path)
    report = build_index(corpus, HashingEncoder(), store, BuildConfig(index_type="flat", approximate_above=10))
    assert report.index_type == "flat"
    assert isinstance(store.load().ann, faiss.IndexFlatIP)


def test_large_index_is_memory_mapped_and_still_appends(corpus, tmp_path, monkeypatch):
    import index.store as store_module

    store = IndexStore(tmp_path)
    build_index(_without(corpus, 4), HashingEncoder(), store, BuildConfig())
    eager = store.load()
    monkeypatch.setattr(store_module, "LARGE_INDEX", 10)
    lazy = store.load()
    assert isinstance(lazy.chunks, store_module.ChunkTable) and isinstance(lazy.vectors, RowFile)
    assert list(lazy.chunks) == eager.chunks and list(lazy.chunk_keys) == eager.chunk_keys
    assert lazy.chunks[-1] == eager.chunks[-1] and lazy.chunks[1:3] == eager.chunks[1:3]
    np.testing.assert_array_equal(lazy.vectors[3], eager.vectors[3])
    np.testing.assert_array_equal(lazy.vectors[-2:], eager.vectors[-2:])
    np.testing.assert_array_equal(np.asarray(lazy.vectors), eager.vectors)
    for row in (0, len(eager.chunks) - 1):
        np.testing.assert_array_equal(lazy.sentences.of(row), eager.sentences.of(row))
    out = build_index(corpus, HashingEncoder(), store, BuildConfig())
    assert out.appended and store.load().ann.ntotal == out.chunks
