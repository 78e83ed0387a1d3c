"""A feedback database that cannot be written (another process holds its write lock, or the disk is full) never
costs an answer: the answer goes out without vote buttons, the failure is logged and /status shows it."""

from __future__ import annotations

import sqlite3

import discord

from bot.client import CiteBot
from bot.cogs.admin import Admin
from bot.cogs.ask import FAILED, Ask
from bot.feedback import FeedbackStore
from tests.helpers import FakeService, bot_user, invoke, make_interaction, make_message, settings
from tests.smallfs import fill, small_filesystem

MANAGE_GUILD = discord.Permissions(manage_guild=True).value


def make(tmp_path, db_path) -> CiteBot:
    bot = CiteBot(settings(tmp_path), FakeService(), FeedbackStore(db_path, timeout=0.2))
    bot_user(bot)
    return bot


async def status_fields(bot) -> dict[str, str]:
    admin = Admin(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(admin.status, admin, it)
    return {f.name: f.value for f in it.sent.last()["embed"].fields}


async def test_answers_go_out_while_another_process_holds_the_write_lock(tmp_path, caplog) -> None:
    bot = make(tmp_path, tmp_path / "fb.sqlite3")
    other = sqlite3.connect(tmp_path / "fb.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # e.g. a backup job or an sqlite3 shell left in a transaction
        cog = Ask(bot)
        it = make_interaction(bot)
        await invoke(cog.ask, cog, it, "When did parliament vote?")
        assert it.sent.kinds() == ["defer", "followup"]
        sent = it.sent.last()
        assert sent["embed"].description == "On 18 July 2024 [1]." and "view" not in sent
        assert "database is locked" in caplog.text
        fields = await status_fields(bot)
        assert fields["Feedback database"].startswith("failing: 1 write(s) failed")
        assert "database is locked" in fields["Feedback database"]
        other.execute("ROLLBACK")
        it = make_interaction(bot)
        await invoke(cog.ask, cog, it, "When did parliament vote?")
        assert "view" in it.sent.last()  # the buttons are back once the database can be written
        assert (await status_fields(bot))["Feedback database"].startswith("working again")
    finally:
        other.close()
        bot.feedback.close()


async def test_answers_go_out_when_the_disk_is_full(tmp_path) -> None:
    with small_filesystem(tmp_path / "data", 1024) as data:
        bot = make(tmp_path, data / "fb.sqlite3")
        try:
            filler = fill(data)
            cog = Ask(bot)
            it = make_interaction(bot)
            await invoke(cog.ask, cog, it, "When did parliament vote?")
            assert it.sent.kinds() == ["defer", "followup"] and "view" not in it.sent.last()
            me = bot.user
            msg = make_message(f"<@{me.id}> When did parliament vote to leave the convention?", me=me)
            await cog.on_message(msg)  # an answer in a new thread, whose question cannot be stored either
            assert msg.sent.kinds() == ["send"] and msg.sent.last()["embed"].fields
            assert not any(FAILED in (kw.get("content") or "") for _, kw in msg.sent)
            fields = await status_fields(bot)
            assert "database or disk is full" in fields["Feedback database"]
            assert fields["Feedback"].startswith("👍 0 · 👎 0")  # reading still works
            filler.unlink()
        finally:
            bot.feedback.close()
