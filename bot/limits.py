"""Per-user cooldowns and a bound on questions worked on at once; no discord import."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Cooldown:
    """At most `count` questions per user in any `seconds` window (a sliding window)."""

    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.seconds = seconds
        self.clock = clock
        # Users in the order they last asked: the idle ones are at the front and are forgotten from there,
        # a few at a time, so each question costs the same however many users there are.
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()

    def retry_after(self, user_id: int) -> float:
        """0 and the question is counted, or the seconds to wait before the next one is allowed."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        since = now - self.seconds
        q = self._seen.get(user_id)
        if q is None:
            q = self._seen[user_id] = deque()
        else:
            self._seen.move_to_end(user_id)
        while q and q[0] <= since:
            q.popleft()
        while self._seen:  # forget users whose questions have all left the window
            first = next(iter(self._seen.values()))
            if first and first[-1] > since or first is q:
                break
            self._seen.popitem(last=False)
        if len(q) >= self.count:
            return max(q[0] + self.seconds - now, 0.01)
        q.append(now)
        return 0.0

    @property
    def users(self) -> int:
        """How many users are remembered (those who asked within the window, and a few about to be forgotten)."""
        return len(self._seen)


class Busy(Exception):
    """Too many questions are waiting already."""


class Limits:
    """The cooldown plus a semaphore: `max_concurrent` questions at once, as many again may wait their turn.

    A question counts as waiting from the moment `slot()` admits it, before the first await (the /ask
    acknowledgement), so a burst of questions arriving together cannot all pass the check.
    """

    def __init__(self, max_concurrent: int, cooldown: Cooldown) -> None:
        self.cooldown = cooldown
        self.max_concurrent = max_concurrent
        self._sem = asyncio.Semaphore(max_concurrent)
        self.waiting = 0
        self.running = 0

    def retry_after(self, user_id: int) -> float:
        return self.cooldown.retry_after(user_id)

    def slot(self) -> "_Slot":
        """A place in the queue, counted at once; Busy when all places are taken. Enter it, or abandon it."""
        if self.running + self.waiting >= 2 * self.max_concurrent:
            raise Busy("busy")
        self.waiting += 1
        return _Slot(self)


class _Slot:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._queued = True

    def abandon(self) -> None:
        """Give the place back without running (e.g. the acknowledgement failed)."""
        if self._queued:
            self._queued = False
            self.limits.waiting -= 1

    async def __aenter__(self) -> None:
        if not self._queued:
            raise RuntimeError("this slot was abandoned")
        try:
            await self.limits._sem.acquire()
        finally:
            self.abandon()
        self.limits.running += 1

    async def __aexit__(self, *exc) -> None:
        self.limits.running -= 1
        self.limits._sem.release()


def wait_text(seconds: float) -> str:
    return f"You're asking quickly: try again in {max(1, round(seconds + 0.49))} s."
