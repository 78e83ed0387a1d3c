"""Admin commands: /reindex (rebuild the index while questions are answered from the old one) and /status."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.checks import admin_refusal
from bot.cogs.feeds import feed_stats
from bot.service import ReindexRunning
from index.build import BuildCancelled

if TYPE_CHECKING:  # the cogs are loaded by the bot, by name; typing them with it imports nothing at run time
    from bot.client import CiteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
ALREADY = "A reindex is already running; its message shows the progress. Try again when it has finished."


class ProgressMessage:
    """Shows a reindex's progress in one message, edited at most every `interval` seconds.

    The build calls `update(done, total)` from a worker thread; it is handed to the loop, and a task on the
    loop does the editing, so the worker never waits on Discord.
    """

    def __init__(self, interaction: discord.Interaction, started: float, interval: float = 2.0) -> None:
        self.interaction = interaction
        self.started = started
        self.interval = interval
        self.loop = asyncio.get_running_loop()
        self.state: tuple[int, int] = (0, 0)
        self.shown: tuple[int, int] | None = None
        self._task: asyncio.Task | None = None

    def update(self, done: int, total: int) -> None:  # worker thread
        self.loop.call_soon_threadsafe(self._set, done, total)

    def _set(self, done: int, total: int) -> None:
        self.state = (done, total)

    def text(self) -> str:
        return render.progress_text(*self.state, self.started)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.state != self.shown:
                self.shown = self.state
                try:
                    await self.interaction.edit_original_response(content=self.text(), allowed_mentions=NONE)
                except discord.HTTPException as exc:
                    log.warning("could not show reindex progress: %s", exc)

    async def finish(self, text: str) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        try:
            await self.interaction.edit_original_response(content=render.message_text(text), allowed_mentions=NONE)
        except discord.HTTPException as exc:  # the interaction token lasts 15 minutes; a longer build outlives it
            log.warning("could not edit the reindex message (%s); posting the result in the channel", exc)
            channel = self.interaction.channel
            if channel is not None:
                await channel.send(render.message_text(text), allowed_mentions=NONE)


class Admin(commands.Cog):
    """Index maintenance and health, for server managers."""

    def __init__(self, bot: CiteBot) -> None:
        self.bot = bot
        self.service = bot.service
        self.settings = bot.settings
        self.reindex_accepted = False  # set before the first await, so two /reindex at once cannot both start

    async def _refused(self, interaction: discord.Interaction) -> bool:
        """Tell a user without admin rights here why not (only them); True when refused."""
        refusal = admin_refusal(interaction, self.settings.discord)
        if refusal:
            await interaction.response.send_message(refusal, ephemeral=True, allowed_mentions=NONE)
        return bool(refusal)

    @app_commands.command()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Rebuild the index from the articles folder (admins only)."""
        if await self._refused(interaction):
            log.info("refused /reindex for a user without rights")
            return
        if self.reindex_accepted or self.service.reindexing:
            await interaction.response.send_message(ALREADY, ephemeral=True, allowed_mentions=NONE)
            return
        self.reindex_accepted = True
        try:
            await self._reindex(interaction)
        finally:
            self.reindex_accepted = False

    async def _reindex(self, interaction: discord.Interaction) -> None:
        started = time.monotonic()
        await interaction.response.send_message(render.progress_text(0, 0, started), ephemeral=True,
                                                allowed_mentions=NONE)
        progress = ProgressMessage(interaction, started)
        progress.start()
        try:
            report = await self.service.reindex(progress.update)
        except ReindexRunning:
            await progress.finish(ALREADY)
        except BuildCancelled:  # the bot is shutting down; its connection may already be closed
            log.info("reindex stopped: the bot is shutting down; the previous index stays in use")
            with contextlib.suppress(Exception):
                await progress.finish("Reindex stopped: the bot is shutting down. The previous index is still "
                                      "in use; run /reindex again once it is back.")
        except Exception as exc:
            log.exception("reindex failed")
            await progress.finish(f"Reindex failed: {exc}. The previous index is still in use.")
        else:
            log.info("reindex finished: %d articles, %d chunks", report.articles, report.chunks)
            await progress.finish(render.build_report_text(report, time.monotonic() - started))

    @app_commands.command()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction) -> None:
        """Index size, model, last reindex, uptime and feedback (admins only)."""
        if await self._refused(interaction):
            return
        stats = await self.collect()
        await interaction.response.send_message(embed=render.status_embed(stats), ephemeral=True,
                                                allowed_mentions=NONE)

    async def collect(self) -> dict[str, object]:
        s = self.service
        idx = s.index
        stats: dict[str, object] = {}
        if idx is None:
            stats["Index"] = "not loaded"
        else:
            stats["Articles"] = f"{len(idx.articles):,}"
            stats["Passages"] = f"{len(idx.chunks):,}"
            stats["Index"] = f"{idx.manifest.get('index_type', '?')}, {idx.vectors.nbytes / 1e6:.1f} MB of vectors"
            stats["Model"] = idx.manifest.get("model", {}).get("id", "?")
            stats["Built"] = idx.manifest.get("created", "?")
        last = s.last_reindex
        if last is None:
            stats["Last reindex"] = "none since start"
        else:
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(last.finished_at))
            stats["Last reindex"] = (f"{when}: failed ({last.error})" if last.error else
                                     f"{when}: {last.report.articles} articles, {last.report.embedded} embedded")
        stats["Reindexing now"] = "yes" if s.reindexing else "no"
        stats["Uptime"] = render.duration(time.time() - s.started_at)
        stats["Questions answered"] = f"{s.questions_answered:,}"
        store = self.bot.feedback
        if store is None and self.bot.feedback_error:
            stats["Feedback"] = f"not recorded: {self.bot.feedback_error}"
        if store is not None:
            try:
                c = await store.counts()
                stats["Feedback"] = f"👍 {c['up']} · 👎 {c['down']} on {c['answers']} answers"
            except Exception as exc:  # /status is where a broken database should show, not fail
                stats["Feedback"] = f"cannot be read ({exc})"
            if store.last_failure is not None:
                at, error = store.last_failure
                now = "failing" if store.last_write is None or store.last_write < at else "working again"
                stats["Feedback database"] = (
                    f"{now}: {store.write_failures:,} write(s) failed, the last at "
                    f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(at))} ({error}); answers are sent "
                    "without vote buttons while it fails")
        limits = self.bot.limits
        stats["Questions in progress"] = f"{limits.running} (+{limits.waiting} waiting)"
        stats.update(await feed_stats(self.bot))
        return stats


async def setup(bot: CiteBot) -> None:
    await bot.add_cog(Admin(bot))
