"""Fixtures shared by all tests: a small corpus on disk and a service that uses a fast fake encoder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.service import Service  # noqa: E402
from bot.settings import PROJECT_ROOT, Settings  # noqa: E402
from index.hashing_encoder import HashingEncoder  # noqa: E402

SHIPPED = PROJECT_ROOT / "corpus" / "articles"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A copy of the shipped articles that a test may change."""
    folder = tmp_path / "articles"
    shutil.copytree(SHIPPED, folder)
    return folder


class RecordingEncoder(HashingEncoder):
    """The hashing encoder, keeping the texts each encode() call embedded (`calls`)."""

    def __init__(self, dim: int = 256) -> None:
        super().__init__(dim)
        self.calls: list[list[str]] = []

    def encode(self, texts, progress=None):
        self.calls.append(list(texts))
        return super().encode(texts, progress)


def make_settings(tmp_path: Path, corpus: Path, **sections) -> Settings:
    return Settings(root=tmp_path, corpus={"path": str(corpus)}, data={"dir": str(tmp_path / "var")}, **sections)


@pytest.fixture
def fake_service(tmp_path: Path, corpus_dir: Path) -> Service:
    """A service over the copied corpus with the hashing encoder: no model, milliseconds per build."""
    return Service(make_settings(tmp_path, corpus_dir), encoder=HashingEncoder())


@pytest.fixture(scope="session")
def model_encoder(tmp_path_factory):
    """The bundled model as the index runs it (ONNX, int8), exported once per test session."""
    from index.encoder_factory import make_encoder

    return make_encoder("onnx", cache_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def fake():
    """A local fake of the Discord API (tests/fakediscord.py) for the module's bot process, which logs in with
    tests.botproc.TOKEN."""
    from tests.botproc import TOKEN
    from tests.fakediscord import FakeDiscord

    with FakeDiscord(token=TOKEN) as f:
        yield f
