"""Per-user cooldowns and a bound on questions worked on at once; no discord import."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Cooldown:
    """At most `count` questions per user in any `seconds` window (a sliding window)."""

    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.seconds = seconds
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}

    def retry_after(self, user_id: int) -> float:
        """0 and the question is counted, or the seconds to wait before the next one is allowed."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        q = self._seen.setdefault(user_id, deque())
        while q and q[0] <= now - self.seconds:
            q.popleft()
        if len(q) >= self.count:
            return max(q[0] + self.seconds - now, 0.01)
        q.append(now)
        if len(self._seen) > 10_000:  # forget idle users so the map stays small
            self._seen = {u: d for u, d in self._seen.items() if d and d[-1] > now - self.seconds}
        return 0.0


class Busy(Exception):
    """Too many questions are waiting already."""


class Limits:
    """The cooldown plus a semaphore: `max_concurrent` questions at once, as many again may wait their turn."""

    def __init__(self, max_concurrent: int, cooldown: Cooldown) -> None:
        self.cooldown = cooldown
        self.max_concurrent = max_concurrent
        self._sem = asyncio.Semaphore(max_concurrent)
        self.waiting = 0
        self.running = 0

    def retry_after(self, user_id: int) -> float:
        return self.cooldown.retry_after(user_id)

    def slot(self) -> "_Slot":
        if self.waiting >= self.max_concurrent:
            raise Busy("busy")
        return _Slot(self)


class _Slot:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    async def __aenter__(self) -> None:
        self.limits.waiting += 1
        try:
            await self.limits._sem.acquire()
        finally:
            self.limits.waiting -= 1
        self.limits.running += 1

    async def __aexit__(self, *exc) -> None:
        self.limits.running -= 1
        self.limits._sem.release()


def wait_text(seconds: float) -> str:
    return f"You're asking quickly: try again in {max(1, round(seconds + 0.49))} s."
