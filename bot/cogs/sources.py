"""/sources: the articles the answers come from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.views import Pager

if TYPE_CHECKING:  # the cogs are loaded by the bot, by name; typing them with it imports nothing at run time
    from bot.client import CiteBot

NONE = discord.AllowedMentions.none()


class Sources(commands.Cog):
    """Lists the indexed articles."""

    def __init__(self, bot: CiteBot) -> None:
        self.bot = bot
        self.service = bot.service

    @app_commands.command()
    async def sources(self, interaction: discord.Interaction) -> None:
        """List the news articles the bot answers from."""
        index = self.service.index
        pages = render.sources_pages(render.source_rows(index.articles if index else {}))
        if len(pages) > 1:
            await interaction.response.send_message(embed=pages[0], view=Pager(pages, interaction.user.id, interaction=interaction),
                                                    ephemeral=True, allowed_mentions=NONE)
        else:
            await interaction.response.send_message(embed=pages[0], ephemeral=True, allowed_mentions=NONE)


async def setup(bot: CiteBot) -> None:
    await bot.add_cog(Sources(bot))
