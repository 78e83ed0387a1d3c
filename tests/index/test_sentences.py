"""Sentence vectors stored at build time: what they hold, how they survive appends and rebuilds, who reads them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.service import Service
from corpus.load import load_articles
from corpus.models import LoadReport
from index.answer import Composer
from index.build import BuildConfig, build_index, staleness
from index.hashing_encoder import HashingEncoder
from index.search import Searcher
from index.sentences import CODES, PTR, SCALES, SentenceVectors, quantize, sentence_texts
from index.store import IndexCorrupt, IndexStore

ARTICLES = Path(__file__).resolve().parents[2] / "corpus" / "articles"


@pytest.fixture(scope="module")
def corpus() -> LoadReport:
    return load_articles(ARTICLES, 2_000_000)


def test_int8_codes_keep_the_vectors_direction():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    codes, scales = quantize(vectors)
    back = codes.astype(np.float32) * scales[:, None]
    cosine = (back * vectors).sum(axis=1) / np.linalg.norm(back, axis=1)
    assert codes.dtype == np.int8 and cosine.min() > 0.9999
    assert quantize(np.zeros((0, 384), np.float32))[0].shape == (0, 384)


def test_every_passage_has_the_vectors_of_its_sentences(corpus, tmp_path):
    enc = HashingEncoder()
    store = IndexStore(tmp_path)
    build_index(corpus, enc, store, BuildConfig())
    loaded = store.load()
    assert loaded.sentences is not None and len(loaded.sentences) == len(loaded.chunks)
    for row in (0, len(loaded.chunks) // 2, len(loaded.chunks) - 1):
        texts = sentence_texts(loaded.chunks[row])
        stored = loaded.sentences.of(row)
        want = enc.encode(texts)
        assert stored.shape == want.shape
        cosine = (stored * want).sum(axis=1) / np.linalg.norm(stored, axis=1)
        assert cosine.min() > 0.999
    manifest = json.loads((loaded.path / "manifest.json").read_text())
    assert manifest["sentences"]["rows"] == int(loaded.sentences.ptr[-1])
    assert {PTR, CODES, SCALES} <= set(manifest["files"])  # checksummed like every other file


def test_appended_sentence_vectors_equal_a_full_builds(corpus, tmp_path):
    store, full = IndexStore(tmp_path / "a"), IndexStore(tmp_path / "b")
    build_index(replace(corpus, articles=corpus.articles[:3]), HashingEncoder(), store, BuildConfig())
    assert build_index(corpus, HashingEncoder(), store, BuildConfig()).appended
    build_index(corpus, HashingEncoder(), full, BuildConfig(append=False))
    a, b = store.load().sentences, full.load().sentences
    np.testing.assert_array_equal(a.ptr, b.ptr)
    np.testing.assert_array_equal(a.codes, b.codes)


def test_an_index_without_sentence_vectors_is_stale_and_rebuilt(corpus, tmp_path):
    enc = HashingEncoder()
    store = IndexStore(tmp_path)
    build_index(corpus, enc, store, BuildConfig())
    manifest = store.read_manifest()
    del manifest["sentences"]
    assert "sentence vectors" in staleness(manifest, corpus, enc.model_id, BuildConfig())


def test_sentence_vectors_that_disagree_with_the_passages_are_corrupt(corpus, tmp_path):
    store = IndexStore(tmp_path)
    build_index(corpus, HashingEncoder(), store, BuildConfig())
    loaded = store.load()
    s = loaded.sentences
    with pytest.raises(ValueError):
        SentenceVectors(s.ptr, s.codes[:-1], s.scales[:-1])
    np.save(loaded.path / "sentences_ptr.npy", s.ptr[:-1])  # one passage fewer than the index has
    with pytest.raises(IndexCorrupt):
        store.load(verify=False)


def test_answering_reads_sentence_vectors_instead_of_embedding_sentences(tmp_path: Path, corpus_dir: Path):
    from tests.conftest import RecordingEncoder, make_settings

    enc = RecordingEncoder()
    service = Service(make_settings(tmp_path, corpus_dir), encoder=enc)
    service.ensure_index()
    composer = Composer(Searcher(service.store.load(), enc), service.answer_model, service.reader)
    enc.calls.clear()
    answer = composer.answer("What does the Convention on Cluster Munitions prohibit?")
    assert answer.ranked
    assert enc.calls == [["What does the Convention on Cluster Munitions prohibit?"]]
