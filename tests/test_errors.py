"""One error base: every error a user can cause or fix is a CitebotError, and each edge says it in one line."""

from __future__ import annotations

import importlib
import inspect

import pytest

from bot import cli
from bot.fetch import FetchError
from bot.service import DataDirError, QuestionError, ReindexRunning
from bot.settings import SettingsError
from corpus.errors import CitebotError, CorpusError
from index.encoder import EncoderError
from index.evaluate import QuestionFileError
from index.ranker import ModelFileError
from index.reader import ReaderError
from index.store import IndexCorrupt, IndexWriteError, StoreError
from index.timeline import TimelineError
from tests.test_structure import modules

# Exceptions that are signals between parts of the code, never shown to a user as they are.
INTERNAL = {"bot.limits.Busy", "bot.ingest._Undo", "bot.fetch.AddressRefused", "index.build.BuildCancelled"}


def test_every_exception_class_of_the_project_is_a_citebot_error_or_an_internal_signal() -> None:
    found = set()
    for name in modules():
        if name.endswith("__main__"):
            continue
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                found.add(cls)
                if f"{name}.{cls.__name__}" not in INTERNAL:
                    assert issubclass(cls, CitebotError), f"{name}.{cls.__name__}"
    assert len(found) >= 15


@pytest.mark.parametrize("error", [
    SettingsError("config/settings.toml: invalid setting(s): index.type: must be one of auto, flat, ivf, hnsw"),
    CorpusError("corpus/articles: the corpus folder does not exist"), QuestionError("The question is empty."),
    ReindexRunning("A reindex is already running."), DataDirError("var: the data folder cannot be written"),
    EncoderError("models/x: no model folder there"), ModelFileError("models/answer-model.json: not valid JSON"),
    ReaderError("models/reader-int8.onnx: the reader model is damaged"), StoreError("var/index: damaged"),
    IndexCorrupt("gen-1/vectors.npy: checksum mismatch"), IndexWriteError("disk full", 28),
    QuestionFileError("q.jsonl: no usable questions in it"), FetchError("https://x: 404 Not Found"),
    TimelineError("--from 2025 is after --to 2024"),
])
def test_the_command_line_prints_a_user_error_once_and_exits_with_its_status(error, monkeypatch, capsys) -> None:
    def fails(args, settings):
        raise error

    monkeypatch.setattr(cli, "cmd_reindex", fails)
    assert cli.main(["reindex"]) == error.exit_status == (2 if isinstance(error, TimelineError) else 1)
    assert capsys.readouterr().err == f"error: {error}\n"
