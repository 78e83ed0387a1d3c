"""Questions: /ask, a message that mentions the bot, and messages ending in '?' in question channels.

A message question is answered in a public thread opened on it; a follow-up asked in that thread is searched
together with the question before it when it leans on it ("and when did it take effect?").
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.checks import guild_refusal
from bot.conversation import ThreadMemory, follow_up_query
from bot.feedback import FeedbackStore
from bot.limits import Busy, wait_text
from bot.service import clean_question, strip_mentions
from bot.views import feedback_view
from corpus.errors import CitebotError
from index.answer import Answer

if TYPE_CHECKING:  # the cogs are loaded by the bot, by name; typing them with it imports nothing at run time
    from bot.client import CiteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
BUSY = "I'm answering a lot of questions right now: try again in a few seconds."
EMPTY_MENTION = "Ask me a question after the mention, e.g. “@me When did parliament vote on the convention?”"
FAILED = "Something went wrong while answering; it has been logged. Please try again later."


def strip_mentions_of(text: str, user_id: int, role_ids=()) -> str:
    """The message text without mentions of the bot or its own role (how the question is addressed, not part of it)."""
    text = re.sub(rf"<@!?{user_id}>", " ", text)
    for rid in role_ids:
        text = text.replace(f"<@&{rid}>", " ")
    return " ".join(text.split())


def own_role_ids(message: discord.Message, bot_id: int) -> list[int]:
    """Mentioned roles that are the bot's own integration role: people often pick it when typing @bot."""
    out = []
    for role in getattr(message, "role_mentions", None) or ():
        tags = getattr(role, "tags", None)
        if tags is not None and getattr(tags, "bot_id", None) == bot_id:
            out.append(role.id)
    return out


def thread_name(question: str) -> str:
    return render.clip(" ".join(question.split()), 90) or "Question"


class Ask(commands.Cog):
    """Answers questions with sources."""

    def __init__(self, bot: CiteBot) -> None:
        self.bot = bot
        self.service = bot.service
        self.settings = bot.settings
        self.limits = bot.limits
        self.threads = ThreadMemory()

    @property
    def feedback(self) -> FeedbackStore | None:
        return self.bot.feedback  # opened in setup_hook, after the cogs are loaded

    async def _reply_parts(self, answer: Answer, asked: str | None = None) -> dict:
        """Keyword arguments for send(): a plain line for an abstention, else the embed with 👍/👎 buttons."""
        if answer.abstained:
            return {"content": render.abstention_text(answer), "allowed_mentions": NONE}
        parts = {"embed": render.answer_embed(answer, asked), "allowed_mentions": NONE}
        if self.feedback is not None:
            try:
                answer_id = await self.feedback.add_answer(answer)
            except Exception as exc:  # a full disk or a locked database: the answer itself needs no disk
                log.warning("could not store an answer for feedback, sending it without vote buttons: %s", exc)
            else:
                parts["view"] = feedback_view(answer_id)
        return parts

    # -- /ask ----------------------------------------------------------------------------------------------

    @app_commands.command()
    @app_commands.describe(question="What you want to know from the articles",
                           private="Only you see the answer")
    async def ask(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        """Answer a question from the news articles, with sources."""
        # Before anything is counted or acknowledged: a QuestionError goes to the tree's handler (bot.client),
        # which tells the asker alone.
        clean_question(question, self.settings.answer.max_question_chars)
        wait = self.limits.retry_after(interaction.user.id)
        if wait:
            await interaction.response.send_message(wait_text(wait), ephemeral=True, allowed_mentions=NONE)
            return
        try:
            slot = self.limits.slot()
        except Busy:
            await interaction.response.send_message(BUSY, ephemeral=True, allowed_mentions=NONE)
            return
        try:
            await interaction.response.defer(thinking=True, ephemeral=private)
        except BaseException:
            slot.abandon()
            raise
        async with slot:
            answer = await self.service.ask(question)
        await interaction.followup.send(**await self._reply_parts(answer), ephemeral=private)
        log.info("answered /ask (abstained=%s, citations=%d)", answer.abstained, len(answer.citations))

    # -- messages ------------------------------------------------------------------------------------------

    async def _previous_question(self, channel_id: int) -> str | None:
        q = self.threads.get(channel_id)
        if q is None and self.feedback is not None:
            try:
                q = await self.feedback.thread_question(channel_id)
            except Exception as exc:  # no earlier question then; the new one is answered on its own
                log.warning("could not read the question of thread %s: %s", channel_id, exc)
            if q is not None:
                self.threads.set(channel_id, q)
        return q

    def _is_question_channel(self, message: discord.Message) -> bool:
        ids = self.settings.discord.question_channel_ids
        parent = getattr(message.channel, "parent_id", None)
        return bool(ids) and (message.channel.id in ids or parent in ids) and message.content.rstrip().endswith("?")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None or message.webhook_id is not None:
            return
        if guild_refusal(message.guild.id if message.guild else None, self.settings.discord):
            return
        mentioned = (me in message.mentions and f"{me.id}>" in message.content) or bool(own_role_ids(message, me.id))
        previous = await self._previous_question(message.channel.id) if (
            mentioned or message.content.rstrip().endswith("?")) else None
        in_our_thread = previous is not None
        if not (mentioned or self._is_question_channel(message) or (in_our_thread and message.content.rstrip().endswith("?"))):
            return
        try:
            await self._answer_message(message, previous, in_our_thread)
        except Exception as exc:  # the edge for message questions, as the tree's handler is for slash commands
            refused = isinstance(exc, CitebotError)
            if refused:  # e.g. a question that is too long: said to the asker, and gone after a minute
                log.info("refused message %s: %s", message.id, exc)
            else:
                log.exception("answering message %s failed", message.id)
            try:
                await message.reply(render.message_text(str(exc)) if refused else FAILED, mention_author=False,
                                    allowed_mentions=NONE, delete_after=60 if refused else None)
            except discord.HTTPException:
                pass

    async def _answer_message(self, message: discord.Message, previous: str | None, in_thread: bool) -> None:
        me = self.bot.user
        question = strip_mentions(strip_mentions_of(message.content, me.id, own_role_ids(message, me.id)))
        if not question:
            await message.reply(EMPTY_MENTION, mention_author=False, allowed_mentions=NONE)
            return
        query = follow_up_query(previous, question, self.settings.answer.max_question_chars)
        clean_question(query, self.settings.answer.max_question_chars)  # before the cooldown counts it
        wait = self.limits.retry_after(message.author.id)
        if wait:
            await message.reply(wait_text(wait), mention_author=False, allowed_mentions=NONE, delete_after=15)
            return
        try:
            slot = self.limits.slot()
        except Busy:
            await message.reply(BUSY, mention_author=False, allowed_mentions=NONE, delete_after=15)
            return
        async with slot:
            async with message.channel.typing():
                answer = await self.service.ask(query)
        parts = await self._reply_parts(answer, question)
        target: discord.abc.Messageable = message.channel
        if not in_thread and not isinstance(message.channel, discord.Thread) and message.guild is not None:
            try:
                target = await message.create_thread(name=thread_name(question), auto_archive_duration=1440)
            except discord.HTTPException as exc:  # no permission to open threads: answer in place
                log.warning("could not open a thread on message %s: %s", message.id, exc)
                target = message.channel
        if target is message.channel:
            await message.reply(**parts, mention_author=False)
        else:
            await target.send(**parts)
        if isinstance(target, discord.Thread) or in_thread or isinstance(message.channel, discord.Thread):
            self.threads.set(target.id, query)
            if self.feedback is not None:
                try:
                    await self.feedback.set_thread(target.id, query)
                except Exception as exc:  # the answer is sent; only a restart's memory of the thread is lost
                    log.warning("could not store the question of thread %s: %s", target.id, exc)
        log.info("answered a message (abstained=%s, follow-up=%s)", answer.abstained, query != question)


async def setup(bot: CiteBot) -> None:
    await bot.add_cog(Ask(bot))
