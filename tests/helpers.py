"""Test doubles for the bot: mocks specced against real discord.py objects, awaitable fake interactions,
a fake service, and a check that whatever was sent stays within Discord's limits and pings nobody."""

from __future__ import annotations

import asyncio
import re
import time
from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

import discord
from discord import app_commands

from bot import render
from bot.service import ReindexRunning, clean_question
from bot.settings import Settings
from corpus.models import ArticleMeta, Skipped
from index.answer import ABSTAIN_TEXT, Answer, Citation
from index.build import BuildReport
from index.store import ArticleRecord

PING = re.compile(r"@(everyone|here)|<@[!&]?\d+>")


def settings(tmp_path, **discord_settings) -> Settings:
    return Settings(data={"dir": str(tmp_path)}, discord=discord_settings)


def citation(n: int = 1, **kw) -> Citation:
    base = dict(n=n, source=f"00{n}_article.txt", title=f"Article {n}", date="2024-07-18",
                text="Parliament voted on 18 July 2024 to leave the Convention on Cluster Munitions.",
                start=0, end=80, score=0.9, date_inferred=False, outlet="LRT", url=f"https://example.org/{n}")
    base.update(kw)
    return Citation(**base)


def answer(question: str = "When did parliament vote?", text: str = "On 18 July 2024 [1].",
           citations=None, abstained: bool = False) -> Answer:
    if abstained:
        return Answer(question, ABSTAIN_TEXT, True, (), "weak evidence")
    return Answer(question, text, False, tuple(citations if citations is not None else [citation(1), citation(2)]))


class FakeService:
    """What the cogs use of bot.service.Service, scripted; records the questions it was asked."""

    def __init__(self, answers=None, articles=None, events=None, report=None, reindex_error=None,
                 reindex_delay: float = 0.0, max_chars: int = 1000) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []
        self.max_chars = max_chars
        self.questions_answered = 0
        self.started_at = time.time() - 3700
        self.last_reindex = None
        self.reindexing = False
        self.reindex_calls = 0
        self.reindex_delay = reindex_delay
        self.reindex_error = reindex_error
        self.report = report or BuildReport(10, 120, 5, 115, (Skipped("bad.txt", "not UTF-8, skipped"),), 1.5,
                                            "flat", "g1")
        self.events = events
        self.timeline_args = None
        recs = articles if articles is not None else {
            f"00{i}.txt": ArticleRecord(f"00{i}.txt", "0" * 64, ArticleMeta(title=f"Article {i}",
                                                                            published=f"2024-0{i}-01", outlet="LRT"))
            for i in range(1, 4)}
        self.index = SimpleNamespace(articles=recs, chunks=[0] * 42,
                                     manifest={"index_type": "flat", "model": {"id": "hashing-256"},
                                               "created": "2026-01-01T00:00:00"},
                                     vectors=SimpleNamespace(nbytes=42 * 1024))

    async def start(self):
        return None

    async def ask(self, question: str) -> Answer:
        text = clean_question(question, self.max_chars)
        self.asked.append(text)
        self.questions_answered += 1
        got = self.answers.get(text) or self.answers.get("*")
        if isinstance(got, Exception):
            raise got
        return got or answer(text)

    async def reindex(self, progress=None):
        if self.reindexing:
            raise ReindexRunning("A reindex is already running.")
        self.reindexing = True
        self.reindex_calls += 1
        try:
            loop = asyncio.get_running_loop()

            def work():
                for done in range(0, 101, 10):
                    if progress:
                        progress(done, 100)
                    time.sleep(self.reindex_delay / 10)
                if self.reindex_error:
                    raise self.reindex_error
                return self.report

            return await loop.run_in_executor(None, work)
        finally:
            self.reindexing = False

    async def timeline(self, date_from, date_to, query):
        self.timeline_args = (date_from, date_to, query)
        return list(self.events or [])


# -- interactions ----------------------------------------------------------------------------------------

class Sent(list):
    """Everything sent in reply, as (kind, kwargs), in order."""

    def kinds(self) -> list[str]:
        return [k for k, _ in self]

    def last(self) -> dict:
        return self[-1][1]


def recorder(owner, kind: str):
    """A send()/reply() stand-in that checks what is sent against Discord's limits and records it in
    `owner.sent` (looked up when called: a thread may share its message's record)."""

    async def record(*args, **kwargs):
        if args:
            kwargs["content"] = args[0]
        check_message(kwargs)
        owner.sent.append((kind, kwargs))

    return record


def check_message(kwargs: dict) -> None:
    """Assert a message is within Discord's limits and that its text pings nobody."""
    content = kwargs.get("content")
    if content is None and kwargs.get("args"):
        content = kwargs["args"][0]
    texts = []
    if content:
        assert render.dlen(content) <= render.CONTENT, f"content {render.dlen(content)} > 2000"
        texts.append(content)
    embeds = list(kwargs.get("embeds") or []) + ([kwargs["embed"]] if kwargs.get("embed") else [])
    for e in embeds:
        check_embed(e)
        texts += [e.title or "", e.description or "", e.footer.text or ""]
        texts += [t for f in e.fields for t in (f.name or "", f.value or "")]
    for t in texts:
        assert not PING.search(t), f"would ping: {t!r}"
    am = kwargs.get("allowed_mentions")
    if am is not None:
        assert am.to_dict() == discord.AllowedMentions.none().to_dict()


def check_embed(e: discord.Embed) -> None:
    assert render.dlen(e.title or "") <= render.TITLE
    assert render.dlen(e.description or "") <= render.DESCRIPTION
    assert len(e.fields) <= render.FIELDS
    for f in e.fields:
        assert 0 < render.dlen(f.name) <= render.FIELD_NAME
        assert 0 < render.dlen(f.value) <= render.FIELD_VALUE
    assert render.dlen(e.footer.text or "") <= render.FOOTER
    assert render.embed_length(e) <= render.EMBED_TOTAL


def make_user(user_id: int = 111, roles=()) -> MagicMock:
    user = MagicMock(spec=discord.Member)
    user.id = user_id
    user.bot = False
    user.roles = [MagicMock(spec=discord.Role, id=r) for r in roles]
    user._roles = list(roles)
    user.mention = f"<@{user_id}>"
    return user


def make_interaction(bot=None, user_id: int = 111, guild_id: int | None = 555, permissions: int = 0,
                     roles=()) -> MagicMock:
    """An interaction whose response and followup are awaitable and behave like Discord's: one
    acknowledgement only, no followup before it; everything sent is checked and kept in `.sent`."""
    it = MagicMock(spec=discord.Interaction)
    it.user = make_user(user_id, roles)
    it.guild_id = guild_id
    it.channel_id = 777
    it.permissions = discord.Permissions(permissions)
    it.client = bot
    sent = it.sent = Sent()
    state = {"done": False}

    def ack(kind):
        async def f(*args, **kwargs):
            if state["done"]:
                raise AssertionError(f"{kind}: interaction already acknowledged")
            state["done"] = True
            if args:
                kwargs["content"] = args[0]
            check_message(kwargs)
            sent.append((kind, kwargs))
        return f

    async def followup(*args, **kwargs):
        if not state["done"]:
            raise AssertionError("followup before acknowledgement")
        if args:
            kwargs["content"] = args[0]
        check_message(kwargs)
        sent.append(("followup", kwargs))

    async def edit_original(**kwargs):
        if not state["done"]:
            raise AssertionError("edit before acknowledgement")
        check_message(kwargs)
        sent.append(("edit", kwargs))

    it.response = MagicMock(spec=discord.InteractionResponse)
    it.response.defer = AsyncMock(side_effect=ack("defer"))
    it.response.send_message = AsyncMock(side_effect=ack("send_message"))
    it.response.edit_message = AsyncMock(side_effect=ack("edit_message"))
    it.response.is_done = MagicMock(side_effect=lambda: state["done"])
    it.followup = MagicMock(spec=discord.Webhook)
    it.followup.send = AsyncMock(side_effect=followup)
    it.edit_original_response = AsyncMock(side_effect=edit_original)
    return it


async def invoke(command: app_commands.Command, cog, interaction, *args) -> None:
    """Run a slash command as discord.py does: what its callback raises goes, wrapped in CommandInvokeError, to
    the bot's tree error handler (`interaction.client` is the bot)."""
    try:
        await command.callback(cog, interaction, *args)
    except Exception as exc:
        if interaction.client is None:
            raise
        await interaction.client.tree.on_error(interaction, app_commands.CommandInvokeError(command, exc))


# -- messages --------------------------------------------------------------------------------------------

def make_message(content: str, me=None, author_id: int = 111, channel=None, guild_id: int | None = 555,
                 mention_bot: bool = True) -> MagicMock:
    """A message; `me` is the bot's user (bot.user), mentioned when mention_bot."""
    msg = MagicMock(spec=discord.Message)
    msg.id = 4242
    msg.content = content
    msg.author = make_user(author_id)
    msg.webhook_id = None
    msg.guild = MagicMock(spec=discord.Guild, id=guild_id) if guild_id else None
    msg.channel = channel or make_channel(777)
    msg.mentions = [me] if mention_bot and me is not None else []
    msg.role_mentions = []
    msg.sent = Sent()

    msg.reply = AsyncMock(side_effect=recorder(msg, "reply"))
    thread = make_channel(8888, thread=True)
    thread.sent = msg.sent
    msg.create_thread = AsyncMock(return_value=thread)
    return msg


def make_channel(channel_id: int, thread: bool = False) -> MagicMock:
    ch = MagicMock(spec=discord.Thread if thread else discord.TextChannel)
    ch.id = channel_id
    ch.parent_id = 777 if thread else None
    ch.sent = Sent()

    ch.send = AsyncMock(side_effect=recorder(ch, "send"))
    typing = MagicMock()
    typing.__aenter__ = AsyncMock(return_value=None)
    typing.__aexit__ = AsyncMock(return_value=False)
    ch.typing = MagicMock(return_value=typing)
    return ch


def bot_user(bot, user_id: int = 999) -> None:
    """Give a never-connected bot a user, as READY would."""
    bot._connection.user = MagicMock(spec=discord.ClientUser, id=user_id)
