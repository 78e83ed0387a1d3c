"""Load on the real bot process: 500 questions from 50 users within a few seconds (slash commands and
mentions), then the same with a reindex running. Every question gets exactly one reply (an answer, or a
cooldown or busy message), the event loop never stalls for a second (heartbeats arrive on time), and memory
stays bounded. Latencies are printed, not asserted (benchmarks/bench_load.py prints more)."""

from __future__ import annotations

import re

import pytest

from tests.fakediscord import FakeDiscord
from tests.botproc import BotProcess
from tests.reliability.common import FIGURES
from tests.reliability.load import add_articles, run_load

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "load-token-Xy7"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    fake = FakeDiscord(token=TOKEN, heartbeat_ms=500).start()
    b = BotProcess(fake, tmp_path_factory.mktemp("load"), TOKEN).start()  # default cooldown and concurrency
    # One question first: the models load on first use, and the memory bound is about growth under load.
    warm = fake.slash("ask", who=fake.admin, question="When did Lithuania leave the convention?")
    fake.wait_for(lambda: warm.done, 120, "the warm-up answer")
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


def test_a_flood_of_slash_questions_is_bounded_and_answered_once_each(bot) -> None:
    res = run_load(bot, questions=500, users=50, spread=0.5, mention_share=0.0, seed=8, first_user=2000,
                   status_every=50)
    check(res, "flood: 500 /ask from 50 users in 0.5 s")
    assert res.busy > 0, "nobody was told the bot is busy: the queue bound did not hold"
    assert res.in_progress, "no /status sample"
    for sample in res.in_progress:  # "4 (+3 waiting)": never more than max_concurrent at work and as many waiting
        running, waiting = (int(x) for x in re.fullmatch(r"(\d+) \(\+(\d+) waiting\)", sample).groups())
        assert running <= 4 and running + waiting <= 8, res.in_progress
