"""The feed poller: every feeds.interval_minutes the bot fetches its RSS/Atom feeds and adds new items."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.feeds import FeedPoller, FeedState, feed_status

if TYPE_CHECKING:  # the cogs are loaded by the bot, by name; typing them with it imports nothing at run time
    from bot.client import CiteBot

log = logging.getLogger(__name__)

FEEDS_SHOWN = 8  # /status fields for single feeds (failing ones first); the embed holds 25 fields in all


async def feed_stats(bot: CiteBot) -> dict[str, str]:
    """/status fields for the feeds: how many, whether a poll is running, when each was fetched and what came
    of it."""
    settings = bot.settings
    urls = list(dict.fromkeys(settings.feeds.urls))
    if not urls:
        return {}
    state = await asyncio.to_thread(FeedState(settings.feeds_state_path).load)
    rows = feed_status(state, urls)
    failing = sum(1 for _, text in rows if text.startswith("failed"))
    cog = bot.get_cog("Feeds")
    polling = cog is not None and cog.poller is not None and cog.poller.polling
    stats = {"Feeds": f"{len(urls)}, polled every {settings.feeds.interval_minutes:g} min"
                      + (f"; {failing} failing" if failing else "") + ("; polling now" if polling else "")}
    for name, text in rows[:FEEDS_SHOWN]:
        stats[f"Feed: {name}"] = text
    if len(rows) > FEEDS_SHOWN:
        stats["More feeds"] = f"{len(rows) - FEEDS_SHOWN} more (see {settings.feeds_state_path.name})"
    return stats


class Feeds(commands.Cog):
    """Polls the configured feeds in the background; nothing runs when there are none."""

    def __init__(self, bot: CiteBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.poller = FeedPoller(bot.ingestor) if self.settings.feeds.urls else None
        self._task: asyncio.Task | None = None

    async def cog_load(self) -> None:
        if self.poller is not None:
            self._task = asyncio.create_task(self._run())

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            try:
                report = await self.poller.poll()
                added = report.add.count("added") + report.add.count("updated") if report.add else 0
                log.info("polled %d feeds: %d articles added or updated", len(report.feeds), added)
            except Exception:  # a poll that fails must not end polling
                log.exception("polling the feeds failed")
            await asyncio.sleep(self.settings.feeds.interval_minutes * 60)


async def setup(bot: CiteBot) -> None:
    await bot.add_cog(Feeds(bot))
