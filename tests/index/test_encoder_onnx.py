"""The ONNX encoder gives the torch encoder's vectors (within int8 rounding) from the bundled model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus.chunk import chunk_article
from corpus.load import load_articles
from index.encoder_factory import make_encoder
from index.hashing_encoder import HashingEncoder
from index.torch_encoder import SentenceTransformerEncoder

ARTICLES = Path(__file__).resolve().parents[2] / "corpus" / "articles"

pytestmark = pytest.mark.model
pytest.importorskip("onnxruntime")
OnnxEncoder = pytest.importorskip("index.onnx_encoder").OnnxEncoder


@pytest.fixture(scope="module")
def passages() -> list[str]:
    report = load_articles(ARTICLES, 2_000_000)
    chunks = [c.text for a in report.articles for c in chunk_article(a, 80, 1)]
    return chunks[::3][:10] + ["When did Lithuania leave the Convention on Cluster Munitions?", "Who is Sakaliene?"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def reference(passages) -> np.ndarray:
    return SentenceTransformerEncoder().encode(passages)


@pytest.mark.parametrize("quantisation, floor", [("int8", 0.99), ("fp32", 0.9999)])
def test_vectors_match_torch(passages, reference, cache, quantisation, floor):
    enc = OnnxEncoder(cache_dir=cache, quantisation=quantisation)
    vecs = enc.encode(passages)
    assert vecs.dtype == np.float32 and vecs.shape == reference.shape
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    cos = (vecs * reference).sum(axis=1)
    assert cos.min() >= floor, f"worst cosine {cos.min():.4f}"
    assert enc.model_file().is_file()


def test_padding_does_not_change_vectors(passages, cache):
    enc = OnnxEncoder(cache_dir=cache, batch_size=4, quantisation="fp32")
    together = enc.encode(passages)
    alone = np.stack([enc.encode([p])[0] for p in passages])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_int8_vectors_barely_depend_on_batch_mates(passages, cache):
    # Dynamic quantisation scales activations per batch, so a text's vector moves a little with its batch.
    enc = OnnxEncoder(cache_dir=cache, batch_size=4)
    together = enc.encode(passages)
    alone = np.stack([enc.encode([p])[0] for p in passages])
    assert (together * alone).sum(axis=1).min() >= 0.99


def test_model_id_names_backend_and_quantisation(cache):
    torch_id = SentenceTransformerEncoder().model_id
    int8 = OnnxEncoder(cache_dir=cache).model_id
    fp32 = OnnxEncoder(cache_dir=cache, quantisation="fp32").model_id
    assert len({torch_id, int8, fp32}) == 3
    assert int8.startswith(torch_id)


def test_empty_input(cache):
    assert OnnxEncoder(cache_dir=cache).encode([]).shape == (0, 384)


def test_make_encoder_selects_backend(cache):
    assert isinstance(make_encoder("onnx", cache_dir=cache), OnnxEncoder)
    assert isinstance(make_encoder("torch"), SentenceTransformerEncoder)
    assert not isinstance(make_encoder("torch"), HashingEncoder)


def test_a_second_encoder_reuses_the_cached_export(cache):
    first = OnnxEncoder(cache_dir=cache)
    first.encode(["warm"])
    stamp = first.model_file().stat().st_mtime_ns
    OnnxEncoder(cache_dir=cache).encode(["again"])
    assert first.model_file().stat().st_mtime_ns == stamp



def test_one_flipped_bit_in_the_cached_model_is_caught_and_the_model_exported_again(passages, cache, caplog):
    import onnx

    enc = OnnxEncoder(cache_dir=cache)
    good = enc.encode(passages)
    target = enc.model_file()
    weights = max((t for t in onnx.load(str(target)).graph.initializer if t.name.endswith("_quantized")),
                  key=lambda t: len(t.raw_data)).raw_data
    raw = bytearray(target.read_bytes())
    at = raw.find(weights[:256]) + len(weights) // 2
    raw[at] ^= 0x40  # one bit of one int8 weight of a feed-forward layer: the file still loads
    target.write_bytes(bytes(raw))
    again = OnnxEncoder(cache_dir=cache).encode(passages)  # a new process must not use the damaged file
    np.testing.assert_allclose(again, good, atol=1e-5)
    assert "does not match the digest recorded when it was exported" in caplog.text
    assert target.read_bytes() != bytes(raw)
