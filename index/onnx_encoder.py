"""The bundled sentence-transformers model run by onnxruntime: exported once, int8-quantised, cached.

On first use the local model folder (`model.path`) is exported with `torch.onnx.export` (mean pooling and
L2 normalisation included in the graph), quantised to int8 weights with onnxruntime's dynamic
quantisation, and kept under `<data dir>/models/<model fingerprint>/` with its SHA-256 beside it. Later
processes check the digest (a damaged file is exported again), load the cached file and never import
torch, which also makes a cold `python -m bot ask` faster.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from index.encoder import EncoderError, Progress, default_model_path, model_fingerprint
from index.onnx_session import cpu_session

log = logging.getLogger(__name__)

EXPORT_VERSION = 2  # bump when the exported graph changes, so old cache entries are not reused
QUANTISATIONS = ("int8", "fp32")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """Sentence embeddings from an ONNX export of a local sentence-transformers model (same vectors, faster)."""

    def __init__(self, model_path: str | None = None, cache_dir: Path | str = "var/models", batch_size: int = 32,
                 threads: int | None = None, quantisation: str = "int8",
                 notify: Callable[[str], None] = log.info) -> None:
        if quantisation not in QUANTISATIONS:
            raise ValueError(f"unknown quantisation {quantisation!r}; expected one of {', '.join(QUANTISATIONS)}")
        self._path = model_path or default_model_path()
        self._cache_dir = Path(cache_dir)
        self._batch_size = batch_size
        self._threads = threads
        self._quant = quantisation
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._fingerprint: str | None = None
        self._dim: int | None = None
        # Told when the one-off export starts and ends (the command line prints it: ~30 s otherwise silent).
        self.notify = notify

    @property
    def model_id(self) -> str:
        # Distinct from the torch encoder's id: vectors from an int8 model differ slightly, so an index
        # built with one backend is rebuilt, not silently reused, when the backend changes.
        return f"{self._fp()}+onnx-{self._quant}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        return int(self._dim)

    def _fp(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self._path)
        return self._fingerprint

    def model_file(self) -> Path:
        """Where the exported (and quantised) model is cached for this model folder."""
        return self._cache_dir / self._fp().replace(":", "-") / f"model-v{EXPORT_VERSION}-{self._quant}.onnx"

    def _load(self):
        with self._lock:
            if self._session is None:
                if not Path(self._path).is_dir():
                    raise EncoderError(f"{self._path}: no model folder there (check model.path in the settings)")
                try:
                    import onnxruntime  # noqa: F401 - here to say what is missing; cpu_session uses it
                    from tokenizers import Tokenizer
                except ImportError as exc:
                    raise EncoderError(f"model.backend = \"onnx\" needs onnxruntime ({exc}); install it or set "
                                       "model.backend = \"torch\"") from exc
                target = self.model_file()
                if not verified(target):
                    if target.is_file():  # one flipped bit changes answers silently: never use it
                        log.warning("%s does not match the digest recorded when it was exported (damaged or "
                                    "changed); exporting the model again", target)
                    export_model(self._path, target, self._quant, self.notify)
                try:
                    session = cpu_session(target, self._threads)
                except Exception as exc:  # a damaged cache file: export again once
                    log.warning("%s cannot be loaded (%s); exporting the model again", target, exc)
                    target.unlink(missing_ok=True)
                    export_model(self._path, target, self._quant, self.notify)
                    session = cpu_session(target, self._threads)
                self._tokenizer = _load_tokenizer(Path(self._path), Tokenizer)
                self._dim = int(session.get_outputs()[0].shape[-1])
                self._input_names = {i.name for i in session.get_inputs()}
                self._session = session
                log.info("loaded ONNX model %s", target)
            return self._session

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        session = self._load()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._tokenizer.encode_batch(list(texts))
        # Sorting by token count keeps padding (wasted work) low inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        for b in range(0, len(order), self._batch_size):
            idx = order[b : b + self._batch_size]
            width = max(len(encs[i].ids) for i in idx)
            feeds = {name: np.zeros((len(idx), width), dtype=np.int64) for name in _INPUTS}
            for r, i in enumerate(idx):
                e = encs[i]
                n = len(e.ids)
                feeds["input_ids"][r, :n] = e.ids
                feeds["attention_mask"][r, :n] = 1
                feeds["token_type_ids"][r, :n] = e.type_ids
            feeds = {k: v for k, v in feeds.items() if k in self._input_names}
            out[idx] = session.run(None, feeds)[0]
            if progress:
                progress(min(b + self._batch_size, len(order)), len(order))
        return out


def _load_tokenizer(folder: Path, tokenizer_cls):
    """The model's fast tokenizer, truncating at the model's max_seq_length, padding done by the caller."""
    try:
        tok = tokenizer_cls.from_file(str(folder / "tokenizer.json"))
    except Exception as exc:
        raise EncoderError(f"{folder}/tokenizer.json: cannot be loaded ({exc})") from exc
    max_len = 256
    with contextlib.suppress(OSError, ValueError, KeyError):
        max_len = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    tok.enable_truncation(max_length=max_len)
    tok.no_padding()
    return tok


def export_model(model_path: str, target: Path, quantisation: str = "int8",
                 notify: Callable[[str], None] = log.info) -> Path:
    """Export the folder's transformer + mean pooling + normalisation to ONNX, quantise, publish atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _export_lock(target.parent):
        if verified(target):  # another process exported it while we waited
            return target
        for stale in target.parent.glob(".export-*"):  # left by a process killed while exporting
            shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        notify(f"Preparing the embedding model for first use: exporting it to ONNX"
               f"{' and quantising it to int8' if quantisation == 'int8' else ''} (about 30 s, done once; kept in "
               f"{target.parent}).")
        work = target.parent / f".export-{secrets.token_hex(4)}"
        work.mkdir()
        try:
            fp32 = work / "model-fp32.onnx"
            _torch_export(model_path, fp32)
            final = fp32
            if quantisation == "int8":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                final = work / "model-int8.onnx"
                logging.disable(logging.WARNING)  # it advises "pre-processing" on the root logger; not needed here
                try:
                    quantize_dynamic(str(fp32), str(final), weight_type=QuantType.QInt8, per_channel=True,
                                     reduce_range=True, op_types_to_quantize=["MatMul"],
                                     nodes_to_exclude=_keep_fp32(fp32))
                finally:
                    logging.disable(logging.NOTSET)
            digest = _sha256(final)
            os.replace(final, target)
            _write_digest(target, digest)
            notify(f"Model ready in {time.monotonic() - started:.0f} s.")
        except EncoderError:
            raise
        except Exception as exc:  # torch, onnx and onnxruntime raise many kinds; all mean the same here
            raise EncoderError(f"{model_path}: the ONNX export failed ({exc}); set model.backend = \"torch\"") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def digest_file(model_file: Path) -> Path:
    """Where the model's SHA-256, recorded at export, is kept (`sha256sum -c` reads it)."""
    return model_file.with_name(model_file.name + ".sha256")


def verified(model_file: Path) -> bool:
    """Whether the cached model is there and has the digest recorded when it was exported."""
    try:
        recorded = digest_file(model_file).read_text(encoding="utf-8").split()[0]
        return _sha256(model_file) == recorded
    except (OSError, IndexError, UnicodeDecodeError):  # no model, no digest (an older cache), or a damaged one
        return False


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _write_digest(model_file: Path, digest: str) -> None:
    """The digest file, replaced atomically (a kill in between leaves a mismatch, so the next load re-exports)."""
    tmp = model_file.with_name(f".{model_file.name}.sha256.{secrets.token_hex(3)}")
    tmp.write_text(f"{digest}  {model_file.name}\n", encoding="utf-8")
    os.replace(tmp, digest_file(model_file))


def _keep_fp32(model_file: Path) -> list[str]:
    """The MatMuls left in fp32: the feed-forward output projections of the first and last layers.

    Measured on the bundled model and real passages: quantising every weight MatMul (per channel) gives
    a per-vector cosine to the fp32 model of 0.988 at worst; keeping these two (11% of the work) in fp32
    lifts the worst case to 0.992 for about a fifth of the int8 speed-up.
    """
    import onnx

    names = [n.name for n in onnx.load(str(model_file), load_external_data=False).graph.node
             if n.op_type == "MatMul" and n.name.endswith("output/dense/MatMul") and "/attention/" not in n.name]
    return [names[0], names[-1]] if len(names) >= 2 else names


def _torch_export(model_path: str, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its "Loading weights" bar says nothing useful here; the caller says more

    # Eager attention traces to plain ops that work for every batch and sequence length.
    model = AutoModel.from_pretrained(model_path, attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS} | {"embedding": {0: "batch"}}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled(model), (sample, sample, torch.zeros_like(sample)), str(out),
                          input_names=list(_INPUTS), output_names=["embedding"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


@contextlib.contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    with open(folder / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # waits: a second process simply uses the first one's export
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
