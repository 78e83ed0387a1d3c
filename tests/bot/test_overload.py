"""Floods: the /ask queue bound holds for a burst that arrives together, and the per-user cooldown costs the
same for each question however many users are in its window."""

from __future__ import annotations

import asyncio

from bot.cogs.ask import BUSY, Ask
from bot.limits import Cooldown, Limits
from tests.helpers import FakeService, invoke, make_interaction


class GatedService(FakeService):
    """Answers only when the test opens the gate, so questions pile up as they do under load."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.running = 0
        self.most_running = 0

    async def ask(self, question: str):
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
            return await super().ask(question)
        finally:
            self.running -= 1


def yielding_defer(it):
    """A defer that goes over the network as the real one does: other events are handled meanwhile."""
    real = it.response.defer.side_effect

    async def defer(*args, **kwargs):
        await asyncio.sleep(0)
        return await real(*args, **kwargs)

    it.response.defer.side_effect = defer
    return it


async def test_a_burst_of_slash_questions_gets_busy_replies_beyond_the_bound(make_bot) -> None:
    service = GatedService()
    bot = make_bot(service=service, max_concurrent=2, cooldown_seconds=0)
    cog = Ask(bot)
    its = [yielding_defer(make_interaction(bot, user_id=1000 + i)) for i in range(20)]
    tasks = [asyncio.create_task(cog.ask.callback(cog, it, "When did parliament vote?")) for it in its]
    for _ in range(20):
        await asyncio.sleep(0)
    busy = [it for it in its if it.sent and it.sent[0][1].get("content") == BUSY]
    deferred = [it for it in its if it.sent.kinds()[:1] == ["defer"]]
    assert len(deferred) == 4 and len(busy) == 16  # two at work, two waiting their turn; the rest told to wait
    assert all(it.sent[0][1]["ephemeral"] for it in busy)
    assert bot.limits.running + bot.limits.waiting == 4
    service.gate.set()
    await asyncio.gather(*tasks)
    assert service.most_running <= 2
    assert all(it.sent.kinds() == ["defer", "followup"] for it in deferred)
    assert bot.limits.running == 0 and bot.limits.waiting == 0  # every place given back


async def test_a_place_is_given_back_when_the_acknowledgement_fails(make_bot) -> None:
    bot = make_bot(max_concurrent=1, cooldown_seconds=0)
    cog = Ask(bot)
    it = make_interaction(bot)
    it.response.defer.side_effect = ConnectionResetError("Discord went away")
    try:
        await invoke(cog.ask, cog, it, "When did parliament vote?")
    except ConnectionResetError:
        pass
    assert bot.limits.running == 0 and bot.limits.waiting == 0


async def test_limits_admit_twice_the_concurrency_before_any_await() -> None:
    limits = Limits(3, Cooldown(100, 0))
    admitted = []
    for _ in range(10):
        try:
            admitted.append(limits.slot())
        except Exception:
            pass
    assert len(admitted) == 6 and limits.waiting == 6
    async with admitted[0]:
        assert limits.running == 1 and limits.waiting == 5
    for slot in admitted[1:]:
        slot.abandon()
        slot.abandon()  # twice is harmless
    assert limits.waiting == 0 and limits.running == 0
    limits.slot()  # room again


def test_cooldown_keeps_one_map_and_forgets_idle_users_as_it_goes() -> None:
    now = [0.0]
    cd = Cooldown(3, 10, clock=lambda: now[0])
    for user in range(20_000):  # all within one window
        now[0] += 0.0001
        assert cd.retry_after(user) == 0
    seen = cd._seen
    for user in range(20_000, 20_100):  # each further question neither copies nor rebuilds the map
        now[0] += 0.0001
        assert cd.retry_after(user) == 0
        assert cd._seen is seen
    assert cd.users == 20_100
    now[0] += 10.5  # the window has passed: the next question forgets everyone idle
    assert cd.retry_after(7) == 0 and cd.users == 1
    for _ in range(2):
        assert cd.retry_after(7) == 0
    assert cd.retry_after(7) > 0  # the limit still holds for a remembered user
