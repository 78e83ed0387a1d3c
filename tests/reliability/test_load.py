"""Load on the real bot process: 500 questions from 50 users within a few seconds (slash commands and
mentions), then the same with a reindex running. Every question gets exactly one reply (an answer, or a
cooldown or busy message), the event loop never stalls for a second (heartbeats arrive on time), and memory
stays bounded. Latencies are printed, not asserted (benchmarks/bench_load.py prints more)."""

from __future__ import annotations

import pytest

from tests.fakediscord import FakeDiscord
from tests.reliability.botproc import BotProcess
from tests.reliability.common import FIGURES
from tests.reliability.load import add_articles, run_load

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "load-token-Xy7"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    fake = FakeDiscord(token=TOKEN, heartbeat_ms=500).start()
    b = BotProcess(fake, tmp_path_factory.mktemp("load"), TOKEN).start()  # default cooldown and concurrency
    yield b
    b.stop()
    fake.stop()


def check(res, name: str) -> None:
    FIGURES[name].update(res.figures())
    assert not res.errors, res.errors[:5]
    assert res.unanswered == 0 and res.duplicated == 0
    assert all(n == 1 for n in res.replies.values())
    assert res.answered > 0 and res.refused > 0  # the cooldown refused some, the rest were answered
    assert res.heartbeat_gaps, "no heartbeats measured"
    assert res.max_stall < 1.0, f"the event loop stalled for {res.max_stall:.2f}s"
    assert res.rss_after_kb < res.rss_before_kb + 150 * 1024, "memory grew by more than 150 MB"


def test_500_questions_from_50_users_get_one_reply_each(bot) -> None:
    res = run_load(bot, questions=500, users=50, spread=4.0)
    check(res, "load: 500 questions / 50 users")


def test_answers_continue_while_a_reindex_runs(bot) -> None:
    add_articles(bot, 150, sentences=15)  # a build of a few seconds, mostly pure Python holding the GIL
    res = run_load(bot, questions=300, users=50, spread=4.0, reindex=True, seed=7, first_user=1000)
    check(res, "load during reindex: 300 questions / 50 users")
    assert res.reindex and "Reindexed" in res.reindex["result"], res.reindex
    assert res.reindex["answers while it ran"] > 0
