"""The disk full (ENOSPC) or read-only (EROFS) while a reindex writes: the old index keeps serving, nothing
half-written is left, and the admin is told why, through Service.reindex and through /reindex.

The tests run as any user (root ignores chmod), so the failures are injected where the bytes are written:
a data file of the new generation, its manifest, the CURRENT pointer, and the data folder probe.
"""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

import index.store
from bot.client import CiteBot
from bot.cogs.admin import Admin
from bot.feedback import FeedbackStore
from bot.service import Service
from index.hashing_encoder import HashingEncoder
from index.store import IndexStore
from tests.conftest import make_settings
from tests.helpers import bot_user, invoke, make_interaction
from tests.reliability.common import FIGURES, write_corpus

MANAGE_GUILD = 1 << 5
QUESTION = "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?"


def failing(err: int, real, after: int = 0):
    """A stand-in for `real` that works `after` times, then raises OSError(err) as a full or read-only disk does."""
    calls = {"n": 0}

    def f(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(err, errno.errorcode[err] and {errno.ENOSPC: "No space left on device",
                                                          errno.EROFS: "Read-only file system"}[err])
        return real(*args, **kwargs)
    return f


POINTS = {
    # the vectors of the new generation (a data file, mid-build)
    "data file": lambda mp, err: mp.setattr(np, "save", failing(err, np.save)),
    # the manifest, once every data file is written
    "manifest": lambda mp, err: mp.setattr(index.store, "_write_durably", failing(err, index.store._write_durably)),
    # the CURRENT pointer, once the generation folder is complete
    "CURRENT pointer": lambda mp, err: mp.setattr(index.store, "_write_durably",
                                                  failing(err, index.store._write_durably, after=1)),
    # the data folder itself cannot be written (the service's probe)
    "data folder": lambda mp, err: mp.setattr(Path, "write_bytes", failing(err, Path.write_bytes)),
}
TEXT = {errno.ENOSPC: "No space left on device", errno.EROFS: "Read-only file system"}


@pytest.fixture
def served(tmp_path: Path, corpus_dir: Path) -> Service:
    service = Service(make_settings(tmp_path, corpus_dir), encoder=HashingEncoder(),
                      timeline=False)
    service.ensure_index()
    write_corpus(corpus_dir / "new", range(5), "disk")  # something to reindex
    return service


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
@pytest.mark.parametrize("point", list(POINTS))
async def test_reindex_on_a_full_or_read_only_disk_keeps_the_old_index(served, monkeypatch, point, err) -> None:
    root = served.store.root
    before = served.index.path
    before_answer = served.ask_sync(QUESTION).answer
    with monkeypatch.context() as mp:
        POINTS[point](mp, err)
        with pytest.raises(OSError) as caught:
            await served.reindex()
    assert TEXT[err] in str(caught.value)
    assert served.index.path == before and served.ask_sync(QUESTION).answer == before_answer
    assert served.last_reindex.error and TEXT[err] in served.last_reindex.error
    assert IndexStore(root).current_path() == before
    assert IndexStore(root).load(verify=True).path == before  # a restart serves the old one, intact
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("gen-")) == [before.name]
    assert not [p for p in root.iterdir() if p.name.startswith(".CURRENT.")], "a half-written pointer is left"
    report = await served.reindex()  # the disk has room again: the reindex works
    assert report.articles == 10 and served.index.path != before
    FIGURES["disk full / read-only"]["kept serving"] = FIGURES["disk full / read-only"].get("kept serving", 0) + 1


async def test_a_failed_publish_leaves_no_unpublished_generation(served, monkeypatch) -> None:
    root = served.store.root
    before = served.index.path
    with monkeypatch.context() as mp:
        POINTS["CURRENT pointer"](mp, errno.ENOSPC)
        with pytest.raises(OSError):
            await served.reindex()
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("gen-")) == [before.name]


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
async def test_reindex_command_tells_the_admin_why(served, monkeypatch, tmp_path, err) -> None:
    bot = CiteBot(served.settings, served, FeedbackStore(tmp_path / "fb.sqlite3"))
    bot_user(bot)
    try:
        cog = Admin(bot)
        it = make_interaction(bot, permissions=MANAGE_GUILD)
        before = served.index.path
        with monkeypatch.context() as mp:
            POINTS["data file"](mp, err)
            await invoke(cog.reindex, cog, it)
        final = it.sent.last()["content"]
        assert "Reindex failed" in final and TEXT[err] in final and "previous index is still in use" in final
        assert served.index.path == before
        assert not cog.reindex_accepted and not served.reindexing  # a later /reindex may run
        st = make_interaction(bot, permissions=MANAGE_GUILD)
        await invoke(cog.status, cog, st)
        fields = {f.name: f.value for f in st.sent.last()["embed"].fields}
        assert "failed" in fields["Last reindex"] and TEXT[err] in fields["Last reindex"]
    finally:
        bot.feedback.close()


def test_command_line_reindex_into_an_unusable_data_folder_is_one_line(tmp_path, corpus_dir) -> None:
    """The data folder cannot be created (a file is in the way; root ignores chmod, so this stands in for a
    read-only disk): exit 1 and one line naming the folder, no traceback."""
    import subprocess
    import sys

    from tests.botproc import ROOT, bot_env

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    r = subprocess.run([sys.executable, "-m", "bot", "reindex"], cwd=ROOT, env=bot_env(blocker / "data", corpus_dir),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(blocker / "data") in lines[0] and "cannot be written" in lines[0], r.stderr
