"""SIGTERM while a reindex runs: the build stops at its next batch, the previous generation keeps serving (and
stays the one on disk), and the process exits within seconds instead of waiting for the whole build."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.service import Service
from index.build import BuildCancelled
from index.hashing_encoder import HashingEncoder
from index.store import IndexStore
from tests.conftest import make_settings
from tests.fakediscord import FakeDiscord
from tests.botproc import MANAGE_GUILD, QUESTION, BotProcess, answered
from tests.reliability.common import FIGURES, ROOT, write_corpus



class SlowEncoder(HashingEncoder):
    """Embeds in batches of 8 at a fifth of a second each: a build of minutes, like a large corpus's."""

    BATCH = 8

    def encode(self, texts, progress=None):
        def slowly(done: int, total: int) -> None:
            time.sleep(0.2)
            if progress:
                progress(done, total)

        return super().encode(texts, slowly)


async def test_stop_cancels_a_reindex_between_batches_and_the_old_index_serves(tmp_path, corpus_dir) -> None:
    settings = make_settings(tmp_path, corpus_dir)
    Service(settings, encoder=HashingEncoder(), timeline=False).ensure_index()
    service = Service(settings, encoder=SlowEncoder(), timeline=False)
    service.ensure_index()
    before, answer = service.index.path, service.ask_sync(QUESTION).answer
    write_corpus(corpus_dir / "more", range(50), "stop")  # ~2,500 texts: a minute at this encoder's pace
    embedding = threading.Event()
    task = asyncio.create_task(service.reindex(lambda done, total: embedding.set()))
    assert await asyncio.to_thread(embedding.wait, 30)
    assert service.ask_sync(QUESTION).answer == answer  # served meanwhile
    await service.stop(grace=10)
    assert not any(t.is_alive() for t in service._build_threads), "the build did not stop at a batch boundary"
    with pytest.raises(BuildCancelled):
        await task
    assert "cancelled" in service.last_reindex.error and not service.reindexing
    root = service.store.root
    assert service.index.path == before and IndexStore(root).load(verify=True).path == before
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")], "the cancelled build left files"
    with pytest.raises(BuildCancelled):  # and no new build starts once stopping
        await service.reindex()


@pytest.mark.e2e
@pytest.mark.slow
def test_sigterm_during_reindex_exits_within_seconds_and_keeps_the_old_index(tmp_path: Path) -> None:
    token = "shutdown-token-Q4"
    with FakeDiscord(token=token) as fake:
        bot = BotProcess(fake, tmp_path, token).start()
        try:
            store = IndexStore(bot.data / "index")
            before = store.current_path()
            write_corpus(bot.corpus / "more", range(800), "term")  # a build of tens of seconds
            admin = fake.slash("reindex", who=fake.admin, permissions=MANAGE_GUILD)
            fake.wait_for(lambda: any("…" in (e.get("content") or "") for e in admin.edits), 60,
                          "the reindex to show progress")
            it = fake.slash("ask", question=QUESTION)  # the old generation answers meanwhile
            fake.wait_for(answered(it), 30, "an answer during the reindex")
            assert it.followups and it.followups[0].get("embeds")
            sent = time.monotonic()
            bot.proc.send_signal(signal.SIGTERM)
            code = bot.proc.wait(20)  # the full build takes far longer than this on any machine
            seconds = time.monotonic() - sent
        finally:
            if bot.proc.poll() is None:
                bot.proc.kill()
                bot.proc.wait(10)
    assert code == 0, bot.output()[-2000:]
    assert "Traceback" not in bot.output()
    assert store.current_path() == before
    loaded = store.load(verify=True)
    assert len(loaded.articles) == 5
    FIGURES["SIGTERM during /reindex"]["exit after"] = f"{seconds:.1f}s"


@pytest.mark.e2e
@pytest.mark.slow
def test_sigterm_while_the_first_index_is_built_exits_within_seconds(tmp_path: Path) -> None:
    token = "shutdown-token-Q5"
    with FakeDiscord(token=token) as fake:
        bot = BotProcess(fake, tmp_path, token)
        write_corpus(bot.corpus / "more", range(800), "first")  # no index yet: a build of tens of seconds
        bot.proc = subprocess.Popen([sys.executable, "-m", "bot", "-v", "run"], cwd=ROOT, env=bot.env,
                                    stdout=bot.log.open("ab"), stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: "Building the index" in bot.output(), 60, "the build to start")
            time.sleep(1.0)
            bot.proc.send_signal(signal.SIGTERM)
            code = bot.proc.wait(20)
        finally:
            if bot.proc.poll() is None:
                bot.proc.kill()
                bot.proc.wait(10)
    assert code == 0 and "Traceback" not in bot.output(), bot.output()[-3000:]
    assert IndexStore(bot.data / "index").current_path() is None  # nothing half-built was published
