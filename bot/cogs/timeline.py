"""/timeline: dated events from the articles, oldest first, ten to a page, each with its sources."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.service import QuestionError
from bot.views import Pager
from index.timeline import TimelineError, context_terms, parse_iso, select_events

if TYPE_CHECKING:  # the cogs are loaded by the bot, by name; typing them with it imports nothing at run time
    from bot.client import CiteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()


def check_date(value: str | None, name: str) -> str | None:
    """The date as given when it is a real YYYY, YYYY-MM or YYYY-MM-DD (ASCII digits); QuestionError otherwise."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        parse_iso(value)
    except TimelineError:
        message = f"“{name}” should be a date like 2024, 2024-07 or 2024-07-18, not “{value[:40]}”."
        raise QuestionError(message) from None
    return value


def check_request(date_from: str | None, date_to: str | None, topic: str | None) -> tuple[str | None, ...]:
    """The options as the service takes them, checked as it checks them (so that a refusal comes before the
    public acknowledgement, to the user alone); QuestionError says what is wrong."""
    date_from, date_to = check_date(date_from, "from"), check_date(date_to, "to")
    if date_from and date_to and parse_iso(date_from).start > parse_iso(date_to).end:
        raise QuestionError("“from” is after “to”: swap them.")
    topic = " ".join(topic.split())[:200] if topic else None
    if topic and not context_terms(topic):
        raise QuestionError(f"“topic” has no words to look for in “{topic[:40]}”: try e.g. cluster munitions.")
    try:
        select_events(None, date_from, date_to, topic)  # anything else the service would refuse
    except TimelineError as exc:
        raise QuestionError(str(exc)) from None
    return date_from, date_to, topic


def heading(date_from: str | None, date_to: str | None, topic: str | None) -> str:
    parts = ["Timeline"]
    if topic:
        parts.append(f"· {topic}")
    if date_from or date_to:
        parts.append(f"· {date_from or '…'} to {date_to or '…'}")
    return " ".join(parts)


class Timeline(commands.Cog):
    """Builds timelines of dated events."""

    def __init__(self, bot: CiteBot) -> None:
        self.bot = bot
        self.service = bot.service

    def _titles(self) -> dict[str, str]:
        index = self.service.index
        if index is None:
            return {}
        return {aid: (rec.meta.title or aid) for aid, rec in index.articles.items()}

    @app_commands.command()
    @app_commands.rename(date_from="from", date_to="to")
    @app_commands.describe(date_from="Earliest date: 2023, 2023-07 or 2023-07-15", date_to="Latest date, same forms",
                           topic="Only events about this, e.g. cluster munitions")
    async def timeline(self, interaction: discord.Interaction, date_from: str | None = None,
                       date_to: str | None = None, topic: str | None = None) -> None:
        """Dated events from the articles, oldest first, with sources."""
        # A bad option is refused before the public acknowledgement: the tree's handler tells the user alone.
        date_from, date_to, topic = check_request(date_from, date_to, topic)
        await interaction.response.defer(thinking=True)
        events = await self.service.timeline(date_from, date_to, topic)
        if not events:
            await interaction.followup.send(render.empty_timeline_text(date_from, date_to, topic),
                                            allowed_mentions=NONE)
            return
        pages = render.timeline_pages(events, self._titles(), heading(date_from, date_to, topic))
        if len(pages) > 1:
            await interaction.followup.send(embed=pages[0], view=Pager(pages, interaction.user.id, interaction=interaction),
                                            allowed_mentions=NONE)
        else:
            await interaction.followup.send(embed=pages[0], allowed_mentions=NONE)


async def setup(bot: CiteBot) -> None:
    await bot.add_cog(Timeline(bot))
