"""The client: command sync only when the commands changed, the token checks, the import boundary."""

from __future__ import annotations

import subprocess
import sys
from unittest.mock import AsyncMock

import discord

from bot.client import EXTENSIONS, run_bot
from tests.helpers import FakeService, settings


async def _loaded(make_bot, **kw):
    bot = make_bot(**kw)
    for ext in EXTENSIONS:
        await bot.load_extension(ext)
    bot._connection.application_id = 4242
    bot.tree.sync = AsyncMock(return_value=[])
    return bot


async def test_commands_sync_only_when_they_change(make_bot) -> None:
    bot = await _loaded(make_bot)
    await bot.sync_commands()
    bot.tree.sync.assert_awaited_once_with(guild=None)
    await bot.sync_commands()
    assert bot.tree.sync.await_count == 1  # unchanged: not synced again
    bot.tree.get_command("ask").description = "Something else"
    await bot.sync_commands()
    assert bot.tree.sync.await_count == 2


async def test_dev_guilds_get_the_commands_at_once(make_bot) -> None:
    bot = await _loaded(make_bot, dev_guild_ids=[11, 12])
    await bot.sync_commands()
    guilds = [c.kwargs["guild"].id for c in bot.tree.sync.await_args_list]
    assert guilds == [11, 12]
    names = {c["name"] for c in bot.command_payload(discord.Object(11))}
    assert names == {"ask", "sources", "status", "reindex", "timeline", "add"}


async def test_admin_commands_carry_default_permissions(make_bot) -> None:
    bot = await _loaded(make_bot)
    payload = {c["name"]: c for c in bot.command_payload(None)}
    manage_guild = discord.Permissions(manage_guild=True).value
    assert int(payload["reindex"]["default_member_permissions"]) == manage_guild
    assert int(payload["status"]["default_member_permissions"]) == manage_guild
    assert int(payload["add"]["default_member_permissions"]) == manage_guild and payload["add"]["contexts"] == [0]
    assert payload["reindex"]["contexts"] == [0]  # guild only: no DMs
    assert payload["ask"].get("default_member_permissions") is None
    assert {o["name"] for o in payload["timeline"]["options"]} == {"from", "to", "topic"}
    assert all(len(c["description"]) <= 100 for c in payload.values())


def test_missing_token_is_one_sentence_and_exit_1(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert run_bot(settings(tmp_path), FakeService()) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no Discord token") and err.count("\n") == 1


def test_index_and_corpus_never_import_discord() -> None:
    code = ("import sys, corpus.load, corpus.chunk, index.build, index.search, index.answer, bot.service;"
            "assert 'discord' not in sys.modules, 'discord imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
