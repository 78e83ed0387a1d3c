"""One index folder, several processes: a second build is refused (or an ask answers from the serving
generation) instead of extending a generation the first build is about to remove; a load that races a
publish follows it; what a kill leaves behind is swept."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import index.store
from bot.service import Service
from index.hashing_encoder import HashingEncoder
from index.store import IndexBusy, IndexStore
from tests.conftest import make_settings
from tests.reliability.common import write_corpus

QUESTION = "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?"


class HeldEncoder(HashingEncoder):
    """Holds the build that uses it inside its embedding step until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()

    def encode(self, texts, progress=None):
        self.inside.set()
        assert self.release.wait(60), "the test never let the build go"
        return super().encode(texts, progress)


def service(tmp_path: Path, corpus: Path, encoder=None) -> Service:
    """Another process's service on the same folders (a separate IndexStore, so a separate lock file handle)."""
    return Service(make_settings(tmp_path, corpus), encoder=encoder or HashingEncoder(), timeline=False)


@pytest.fixture
def served(tmp_path: Path, corpus_dir: Path) -> Path:
    """An index of the shipped articles, then five articles more in the folder: the next build appends them."""
    service(tmp_path, corpus_dir).ensure_index()
    write_corpus(corpus_dir / "new", range(5), "race")
    return IndexStore(tmp_path / "var" / "index").current_path()


def in_thread(fn):
    out: dict[str, object] = {}

    def run():
        try:
            out["result"] = fn()
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_a_second_reindex_is_told_another_is_running_and_the_first_completes(tmp_path, corpus_dir, served) -> None:
    held = HeldEncoder()
    first = service(tmp_path, corpus_dir, held)
    t, out = in_thread(first.reindex_sync)
    assert held.inside.wait(30)  # the first build has read the serving generation and is embedding
    try:
        with pytest.raises(IndexBusy, match="another reindex is already writing this index"):
            service(tmp_path, corpus_dir).reindex_sync()
    finally:
        held.release.set()
        t.join(60)
    assert "error" not in out, out.get("error")
    assert out["result"].articles == 10 and out["result"].appended
    loaded = IndexStore(tmp_path / "var" / "index").load(verify=True)
    assert len(loaded.articles) == 10 and loaded.path != served


def test_an_ask_during_another_build_answers_from_the_serving_generation(tmp_path, corpus_dir, served) -> None:
    held = HeldEncoder()
    builder = service(tmp_path, corpus_dir, held)
    t, out = in_thread(builder.reindex_sync)
    assert held.inside.wait(30)
    notes: list[str] = []
    try:
        asker = service(tmp_path, corpus_dir)  # sees a stale index (five articles more in the folder)
        asker.ensure_index(notify=notes.append)
        answer = asker.ask_sync(QUESTION)
        assert not answer.abstained and asker.index.path == served
        assert "Another process is rebuilding the index" in notes[-1]
    finally:
        held.release.set()
        t.join(60)
    assert "error" not in out, out.get("error")


def test_an_ask_with_no_index_yet_waits_for_the_other_build(tmp_path, corpus_dir) -> None:
    held = HeldEncoder()
    builder = service(tmp_path, corpus_dir, held)
    t, out = in_thread(builder.ensure_index)  # the very first build
    assert held.inside.wait(30)
    asker = service(tmp_path, corpus_dir)
    notes: list[str] = []
    t2, out2 = in_thread(lambda: asker.ensure_index(notify=notes.append))
    t2.join(1.0)
    assert t2.is_alive()  # nothing to answer from: it waits for the build rather than starting its own
    held.release.set()
    t.join(60)
    t2.join(60)
    assert "error" not in out and "error" not in out2, (out, out2)
    assert out2["result"] is None  # it loaded what the other process built
    assert asker.index.path == IndexStore(tmp_path / "var" / "index").current_path()
    assert any("waiting for it" in n for n in notes)


def test_a_load_that_races_a_publish_follows_the_new_generation(tmp_path, corpus_dir, served, monkeypatch) -> None:
    store = IndexStore(tmp_path / "var" / "index")
    real_verify = index.store.verify_files
    calls = {"n": 0}

    def verify_while_another_process_publishes(folder, manifest):
        calls["n"] += 1
        if calls["n"] == 1:  # between reading CURRENT and reading the files, a build publishes and sweeps
            service(tmp_path, corpus_dir).reindex_sync()
        return real_verify(folder, manifest)

    monkeypatch.setattr(index.store, "verify_files", verify_while_another_process_publishes)
    loaded = store.load(verify=True)
    assert loaded.path != served and not served.exists() and len(loaded.articles) == 10


def test_pointer_files_left_by_a_kill_are_swept(tmp_path, corpus_dir, served) -> None:
    root = tmp_path / "var" / "index"
    for name in (".CURRENT.a1b2c3", ".CURRENT.ffffff"):  # a kill between writing the new pointer and renaming it
        (root / name).write_text("gen-20990101T000000-abcdef 00\n", encoding="utf-8")
    service(tmp_path, corpus_dir).reindex_sync()
    assert not [p.name for p in root.iterdir() if p.name.startswith(".CURRENT.")]
    assert IndexStore(root).load(verify=True).path != served
