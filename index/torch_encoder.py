"""The bundled sentence-transformers model run by PyTorch (model.backend = "torch")."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoder import EncoderError, Progress, default_model_path, model_fingerprint

log = logging.getLogger(__name__)


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
