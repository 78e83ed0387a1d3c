"""/add url:<link> (admins): fetch a news article, store it with its metadata and index it."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.checks import admin_refusal
from bot.cogs.admin import ProgressMessage
from bot.ingest import AddReport, Outcome, outcome_lines

if TYPE_CHECKING:  # the cogs are loaded by the bot, by name; typing them with it imports nothing at run time
    from bot.client import CiteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()


def add_progress_text(stage: str, done: int, total: int, started: float, now: float | None = None) -> str:
    elapsed = render.duration((now or time.monotonic()) - started)
    if stage == "wait":
        return f"Waiting for another add to finish… ({elapsed})"
    if stage == "fetch":
        return f"Fetching and extracting the page… ({elapsed})"
    if total <= 0:
        return f"Storing the article and updating the index… ({elapsed})"
    pct = min(100, int(done * 100 / total))
    bar = "█" * (pct // 10) + "░" * (10 - pct // 10)
    return f"Indexing… {bar} {pct}% ({done:,}/{total:,} passages and sentences embedded, {elapsed})."


def add_report_text(report: AddReport) -> str:
    """The reply to /add: what was stored with the metadata found and not found, or why nothing was."""
    lines = []
    for o in report.outcomes:
        lines += _outcome_text(o)
    if report.build is not None:
        lines.append(f"The index now holds {report.build.articles:,} articles ({report.build.chunks:,} passages).")
    return "\n".join(lines)  # ProgressMessage.finish neutralises mentions and keeps it within the limit


def _outcome_text(o: Outcome) -> list[str]:
    head, *rest = outcome_lines(o)
    if not o.stored:
        what = {"skipped": "Not added", "refused": "Not added", "failed": "Could not add"}[o.status]
        return [f"**{what}** <{render.clip(o.source, render.URL_CHARS)}>: {_fold(o.reason, 600)}"]
    title = _fold((o.meta.title if o.meta else None) or o.path, 200)
    verb = "Added" if o.status == "added" else "Updated"
    out = [f"**{verb}:** {title}", f"`{_fold(o.path, 200)}` ({o.words:,} words) from "
                                    f"<{render.clip(o.source, render.URL_CHARS)}>"]
    out += [_fold(line, 300) for line in rest]
    return out


def _fold(text: str | None, limit: int) -> str:
    return render.clip(" ".join((text or "").split()), limit)


class AddProgress(ProgressMessage):
    """One message showing the add's stage (fetching, then indexing), edited at most every `interval` s."""

    def __init__(self, interaction: discord.Interaction, started: float, interval: float = 2.0) -> None:
        super().__init__(interaction, started, interval)
        self.state = ("fetch", 0, 0)

    def update(self, stage: str, done: int, total: int) -> None:  # the loop or a worker thread
        self.loop.call_soon_threadsafe(self._set_stage, stage, done, total)

    def _set_stage(self, stage: str, done: int, total: int) -> None:
        self.state = (stage, done, total)

    def text(self) -> str:
        return add_progress_text(*self.state, self.started)


class Add(commands.Cog):
    """Bringing articles in from the web, for server managers."""

    def __init__(self, bot: CiteBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.ingestor = bot.ingestor

    @app_commands.command()
    @app_commands.describe(url="The article's web address (http or https)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add(self, interaction: discord.Interaction, url: app_commands.Range[str, 1, 2000]) -> None:
        """Add a news article from its web address (admins only)."""
        refusal = admin_refusal(interaction, self.settings.discord)
        if refusal:
            log.info("refused /add for a user without rights")
            await interaction.response.send_message(refusal, ephemeral=True, allowed_mentions=NONE)
            return
        url = url.strip().strip("<>")
        if not url.lower().startswith(("http://", "https://")):
            await interaction.response.send_message("That is not a web address: give one starting with http:// or "
                                                    "https://.", ephemeral=True, allowed_mentions=NONE)
            return
        started = time.monotonic()
        stage = "wait" if self.ingestor.busy else "fetch"
        await interaction.response.send_message(add_progress_text(stage, 0, 0, started), ephemeral=True,
                                                allowed_mentions=NONE)
        progress = AddProgress(interaction, started)
        progress.state = (stage, 0, 0)
        progress.start()
        try:
            report = await self.ingestor.add([url], progress.update)
        except Exception as exc:
            log.exception("/add failed")
            await progress.finish(f"Add failed: {exc}. Nothing was changed.")
        else:
            log.info("/add %s: %s", url, report.summary())
            await progress.finish(add_report_text(report))


async def setup(bot: CiteBot) -> None:
    await bot.add_cog(Add(bot))
