"""Buttons: 👍/👎 feedback that keeps working after a restart, and page turning limited to whoever asked."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import discord

if TYPE_CHECKING:  # the bot imports this module; typing the client as it imports nothing at run time
    from bot.client import CiteBot

log = logging.getLogger(__name__)

VOTE_TEMPLATE = r"citebot:vote:(?P<vote>up|down):(?P<answer>[0-9]{1,18})"


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=VOTE_TEMPLATE):
    """A 👍 or 👎 on one stored answer; the custom_id carries everything, so no state is lost on restart."""

    def __init__(self, vote: str, answer_id: int) -> None:
        self.vote = vote
        self.answer_id = answer_id
        super().__init__(discord.ui.Button(
            style=discord.ButtonStyle.secondary, emoji="👍" if vote == "up" else "👎",
            custom_id=f"citebot:vote:{vote}:{answer_id}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> "VoteButton":
        return cls(match["vote"], int(match["answer"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        store = cast("CiteBot", interaction.client).feedback
        if store is None:
            await interaction.response.send_message("Feedback is not being recorded right now.", ephemeral=True)
            return
        try:
            ok = await store.vote(self.answer_id, interaction.user.id, 1 if self.vote == "up" else -1)
        except Exception:  # a full or locked disk must not look like a broken button
            log.exception("could not store a vote on answer %s", self.answer_id)
            await interaction.response.send_message("Sorry, your vote could not be saved; try again later.",
                                                    ephemeral=True)
            return
        text = (("Thanks! Glad it helped." if self.vote == "up" else "Thanks, noted: this answer missed.")
                if ok else "That answer is no longer on record.")
        await interaction.response.send_message(text, ephemeral=True)


def feedback_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up", answer_id))
    view.add_item(VoteButton("down", answer_id))
    return view


class Pager(discord.ui.View):
    """◀/▶ through pages of embeds; only the user who asked may turn them."""

    def __init__(self, pages: Sequence[discord.Embed], owner_id: int, timeout: float = 600,
                 interaction: discord.Interaction | None = None) -> None:
        super().__init__(timeout=timeout)  # under the 15 minutes an interaction token lasts
        self.pages = list(pages)
        self.owner_id = owner_id
        self.page = 0
        self.interaction = interaction  # whose original response shows the pages, to remove the buttons
        self._sync()

    async def on_timeout(self) -> None:
        if self.interaction is not None:
            try:
                await self.interaction.edit_original_response(view=None)
            except discord.HTTPException:
                pass

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("Only the person who asked can turn these pages; "
                                                    "run the command yourself to browse.", ephemeral=True)
            return False
        return True

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        self.page = max(0, min(page, len(self.pages) - 1))
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.page], view=self)

    @discord.ui.button(emoji="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(emoji="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self.page + 1)
