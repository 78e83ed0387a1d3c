"""The reader: a cross-encoder that reads the question and a candidate sentence together and scores how
well the sentence answers it.

It is MiniLM (the bundled all-MiniLM-L6-v2's weights) fine-tuned on SQuAD questions by
`training/train_reader.py`, exported to int8 ONNX by `training/export_reader.py`, and shipped in
`models/` (the tokenizer beside it). It runs by onnxruntime; torch is not needed to answer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.errors import CitebotError
from index.onnx_session import cpu_session

log = logging.getLogger(__name__)

MAX_TOKENS = 128  # question and sentence together; longer pairs lose the end of the sentence


class ReaderError(CitebotError):
    """The reader model cannot be loaded; the message names the file."""


class Reader(Protocol):
    @property
    def model_id(self) -> str: ...

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One logit per sentence: higher means it answers the question."""


class OnnxReader:
    """The shipped reader; loads on first use, safe to share between threads."""

    def __init__(self, model_file: Path, tokenizer_file: Path, threads: int | None = None,
                 sha256: str | None = None) -> None:
        self.model_file = Path(model_file)
        self.tokenizer_file = Path(tokenizer_file)
        self._threads = threads
        self._sha256 = sha256  # recorded when the model was fitted: a damaged file is refused, never used
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._id: str | None = None

    @property
    def model_id(self) -> str:
        if self._id is None:
            self._id = f"{self.model_file.name}:{self._digest()[:16]}"
        return self._id

    def _digest(self) -> str:
        try:
            with open(self.model_file, "rb") as fh:
                return hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError as exc:
            raise ReaderError(f"{self.model_file}: the reader model cannot be read ({exc.strerror})") from None

    def _load(self):
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime  # noqa: F401 - here to say what is missing; cpu_session uses it
                    from tokenizers import Tokenizer
                except ImportError as exc:  # pragma: no cover - a broken install
                    raise ReaderError(f"the reader needs onnxruntime and tokenizers ({exc})") from exc
                try:
                    tok = Tokenizer.from_file(str(self.tokenizer_file))
                except Exception as exc:
                    raise ReaderError(f"{self.tokenizer_file}: the reader's tokenizer cannot be loaded ({exc})") from None
                try:
                    session = cpu_session(self.model_file, self._threads)
                except Exception as exc:
                    raise ReaderError(f"{self.model_file}: the reader model cannot be loaded ({exc})") from None
                if self._sha256 and self._digest() != self._sha256:
                    raise ReaderError(f"{self.model_file}: the reader model is damaged or was replaced (its SHA-256 "
                                      "differs from the one recorded in the answer model); restore it with "
                                      "`git checkout -- models/` or refit with `make models`")
                tok.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
                tok.no_padding()
                self._inputs = {i.name for i in session.get_inputs()}
                self._tokenizer, self._session = tok, session
                log.info("loaded reader %s", self.model_file)
            return self._session

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        session = self._load()
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        encs = self._tokenizer.encode_batch([(question, s) for s in sentences])
        width = max(len(e.ids) for e in encs)
        feeds = {name: np.zeros((len(encs), width), dtype=np.int64)
                 for name in ("input_ids", "attention_mask", "token_type_ids")}
        for r, e in enumerate(encs):
            n = len(e.ids)
            feeds["input_ids"][r, :n] = e.ids
            feeds["attention_mask"][r, :n] = 1
            feeds["token_type_ids"][r, :n] = e.type_ids
        feeds = {k: v for k, v in feeds.items() if k in self._inputs}
        return session.run(None, feeds)[0].reshape(-1).astype(np.float32)
