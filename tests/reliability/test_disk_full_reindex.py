"""A reindex on a real full disk (a small filesystem): the admin is told "disk full" and where, never a
traceback or the name of a generation (which reads as if the live index were damaged); the serving index is
untouched, /status records the failure, and the next reindex works once there is room."""

from __future__ import annotations

import subprocess
from pathlib import Path

import faiss
import pytest

import index.store
from bot import cli
from bot.service import Service
from bot.settings import Settings
from index.hashing_encoder import HashingEncoder
from index.store import IndexStore, IndexWriteError
from tests.reliability.common import write_corpus
from tests.smallfs import fill, small_filesystem

QUESTION = "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?"


@pytest.fixture
def small_data(tmp_path: Path):
    with small_filesystem(tmp_path / "data", 2048) as data:
        yield data


def served(tmp_path: Path, corpus: Path, data: Path) -> Service:
    settings = Settings(root=tmp_path, corpus={"path": str(corpus)}, data={"dir": str(data)})
    s = Service(settings, encoder=HashingEncoder())
    s.ensure_index()
    return s


def check_failure(message: str, root: Path) -> None:
    assert message.startswith("disk full: the new index could not be written in ") and str(root) in message
    assert "No space left on device" in message and "the index in use is unchanged" in message
    assert "gen-" not in message


def test_reindex_on_a_full_disk_says_so_and_keeps_serving(tmp_path, corpus_dir, small_data) -> None:
    service = served(tmp_path, corpus_dir, small_data)
    before, answer = service.index.path, service.ask_sync(QUESTION).answer
    write_corpus(corpus_dir / "more", range(100), "full")  # about 10 MB of index: more than the disk holds
    with pytest.raises(IndexWriteError) as caught:
        service.reindex_sync()
    root = service.store.root
    check_failure(str(caught.value), root)
    assert service.last_reindex.error == str(caught.value)
    assert service.index.path == before and service.ask_sync(QUESTION).answer == answer
    assert IndexStore(root).load(verify=True).path == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("gen-")) == [before.name]
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_data)], check=True)  # room again
    assert service.reindex_sync().articles == 105


def test_the_faiss_writer_on_a_full_disk_is_reported_like_any_other(tmp_path, corpus_dir, small_data,
                                                                    monkeypatch) -> None:
    service = served(tmp_path, corpus_dir, small_data)
    write_corpus(corpus_dir / "more", range(3), "faiss")
    real_write = faiss.write_index

    def disk_fills_just_before(ann, path):  # the FAISS writer meets ENOSPC itself and raises RuntimeError
        fill(small_data)
        return real_write(ann, path)

    monkeypatch.setattr(index.store.faiss, "write_index", disk_fills_just_before)
    with pytest.raises(IndexWriteError) as caught:
        service.reindex_sync()
    check_failure(str(caught.value), service.store.root)
    assert isinstance(caught.value.__cause__, RuntimeError)  # it really was FAISS's own error
    assert "No space left on device" in service.last_reindex.error


def test_command_line_reindex_on_a_full_disk_is_one_line(tmp_path, corpus_dir, small_data, monkeypatch,
                                                         capsys) -> None:
    served(tmp_path, corpus_dir, small_data)
    write_corpus(corpus_dir / "more", range(100), "cli")
    monkeypatch.setenv("CITEBOT_DATA__DIR", str(small_data))
    monkeypatch.setenv("CITEBOT_CORPUS__PATH", str(corpus_dir))
    monkeypatch.setenv("CITEBOT_MODEL__BACKEND", "hashing")
    assert cli.main(["reindex"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line and "Embedding passages" not in line]
    assert len(err) == 1 and err[0].startswith("error: disk full: "), err
    check_failure(err[0].removeprefix("error: "), small_data / "index")
