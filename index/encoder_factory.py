"""The encoder that `model.backend` names, built with its settings."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path

from index.encoder import BACKENDS, Encoder, EncoderError
from index.hashing_encoder import HashingEncoder
from index.onnx_encoder import OnnxEncoder
from index.torch_encoder import SentenceTransformerEncoder

log = logging.getLogger(__name__)


def make_encoder(backend: str = "onnx", model_path: str | None = None, batch_size: int = 32, threads: int | None = None,
                 cache_dir: Path | str = "var/models", quantisation: str = "int8",
                 notify: Callable[[str], None] | None = None) -> Encoder:
    """The encoder that `backend` (one of BACKENDS) names; "onnx" falls back to "torch" when onnxruntime is
    missing. `notify` is told when the one-off ONNX export starts and ends (about 30 s otherwise silent)."""
    if backend not in BACKENDS:
        raise EncoderError(f"model.backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "hashing":
        return HashingEncoder()
    if backend == "onnx":
        if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
            log.warning("onnxruntime or onnx is not installed; embedding with PyTorch instead (slower)")
        else:
            return OnnxEncoder(model_path, cache_dir, batch_size, threads, quantisation, notify or log.info)
    return SentenceTransformerEncoder(model_path, batch_size, threads)
