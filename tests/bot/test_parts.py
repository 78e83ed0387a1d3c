"""Limits, the feedback database and follow-up questions."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.conversation import ThreadMemory, follow_up_query, is_follow_up
from bot.feedback import FeedbackStore
from bot.limits import Busy, Cooldown, Limits
from tests.helpers import answer


def test_cooldown_allows_n_per_window_then_says_how_long_to_wait() -> None:
    now = [100.0]
    cd = Cooldown(2, 10, clock=lambda: now[0])
    assert cd.retry_after(1) == 0 and cd.retry_after(1) == 0
    assert cd.retry_after(1) == pytest.approx(10)
    assert cd.retry_after(2) == 0  # per user
    now[0] = 104
    assert cd.retry_after(1) == pytest.approx(6)
    now[0] = 110.5
    assert cd.retry_after(1) == 0


async def test_limits_bound_concurrency_and_refuse_when_the_queue_is_full() -> None:
    limits = Limits(1, Cooldown(100, 0))
    gate = asyncio.Event()
    order = []

    async def work(i):
        async with limits.slot():
            order.append(("start", i))
            await gate.wait()

    t1 = asyncio.create_task(work(1))
    await asyncio.sleep(0)
    t2 = asyncio.create_task(work(2))
    await asyncio.sleep(0)
    assert limits.running == 1 and limits.waiting == 1
    with pytest.raises(Busy):
        limits.slot()
    gate.set()
    await asyncio.gather(t1, t2)
    assert order == [("start", 1), ("start", 2)]


async def test_feedback_votes_once_per_user_can_change_and_stores_no_raw_id(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    aid = await store.add_answer(answer())
    assert await store.vote(aid, 123456789012345678, 1)
    assert await store.vote(aid, 123456789012345678, 1)
    assert await store.vote(aid, 987, -1)
    assert await store.counts() == {"up": 1, "down": 1, "answers": 1}
    assert await store.vote(aid, 123456789012345678, -1)  # changed
    assert await store.counts() == {"up": 0, "down": 2, "answers": 1}
    assert not await store.vote(aid + 100, 1, 1)
    store.close()
    db = sqlite3.connect(tmp_path / "fb.sqlite3")
    dump = "\n".join(db.iterdump())
    assert "123456789012345678" not in dump
    hashes = [r[0] for r in db.execute("SELECT user_hash FROM votes")]
    assert all(len(h) == 64 for h in hashes)
    q, cites = db.execute("SELECT question, citations FROM answers").fetchone()
    assert q == "When did parliament vote?" and '"source": "001_article.txt"' in cites
    # a reopened store keeps its salt, so the same user still counts once
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    await store.vote(aid, 987, 1)
    assert await store.counts() == {"up": 1, "down": 1, "answers": 1}
    store.close()


async def test_thread_questions_survive_a_restart(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    await store.set_thread(5, "first")
    await store.set_thread(5, "second")
    store.close()
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    assert await store.thread_question(5) == "second"
    assert await store.thread_question(6) is None
    store.close()


def test_follow_up_query_combines_short_or_anaphoric_questions() -> None:
    prev = "When did parliament vote to leave the convention?"
    assert follow_up_query(prev, "and when did it take effect?") == f"When did it take effect? {prev}"
    assert follow_up_query(None, "and when did it take effect?") == "and when did it take effect?"
    long_q = "How many cluster munitions did the United States send to Ukraine during the summer of 2023 in total"
    assert not is_follow_up(long_q)
    assert follow_up_query(prev, long_q) == long_q
    assert len(follow_up_query("x " * 2000, "why?", 1000)) <= 1000
    assert follow_up_query(prev, "How many cluster munitions did Ukraine receive?") == \
        "How many cluster munitions did Ukraine receive?"  # self-contained: searched alone
    assert follow_up_query(prev, "why?") == f"Why? {prev}"


def test_thread_memory_is_bounded() -> None:
    m = ThreadMemory(size=2)
    m.set(1, "a"); m.set(2, "b"); m.get(1); m.set(3, "c")
    assert 1 in m and 3 in m and 2 not in m
