"""The client: command sync when Discord's copy differs from ours, the token checks, the import boundary."""

from __future__ import annotations

from unittest.mock import AsyncMock

import discord

from bot.client import EXTENSIONS, commands_match, run_bot
from tests.helpers import FakeService, settings


async def _loaded(make_bot, **kw):
    """A bot whose tree syncs to, and fetches from, an in-memory copy of what Discord has registered."""
    bot = make_bot(**kw)
    for ext in EXTENSIONS:
        await bot.load_extension(ext)
    bot._connection.application_id = 4242
    bot.registered = {}  # guild id or None -> the payloads Discord keeps

    async def sync(guild=None):
        bot.registered[guild.id if guild else None] = bot.command_payload(guild)
        return []

    def reported(guild_id):  # as Discord reports them: ids added, permissions as a string
        return [{**p, "id": str(i + 1), "application_id": "4242", "version": "1",
                 "default_member_permissions": None if p["default_member_permissions"] is None
                 else str(p["default_member_permissions"])} for i, p in enumerate(bot.registered.get(guild_id, []))]

    bot.tree.sync = AsyncMock(side_effect=sync)
    bot.http.get_global_commands = AsyncMock(side_effect=lambda app_id: reported(None))
    bot.http.get_guild_commands = AsyncMock(side_effect=lambda app_id, guild_id: reported(guild_id))
    return bot


async def test_commands_sync_only_when_discord_has_other_ones(make_bot) -> None:
    bot = await _loaded(make_bot)
    await bot.sync_commands()
    bot.tree.sync.assert_awaited_once_with(guild=None)
    await bot.sync_commands()
    assert bot.tree.sync.await_count == 1  # what Discord reports is current: not synced again
    bot.tree.get_command("ask").description = "Something else"
    await bot.sync_commands()
    assert bot.tree.sync.await_count == 2
    bot.registered.clear()  # the application was reset, or another deploy replaced the commands
    await bot.sync_commands()
    assert bot.tree.sync.await_count == 3
    bot.registered[None] = bot.registered[None][1:]  # one command missing
    await bot.sync_commands()
    assert bot.tree.sync.await_count == 4


def test_discords_defaults_and_ours_compare_equal() -> None:
    ours = {"name": "ask", "description": "d", "type": 1, "nsfw": False, "dm_permission": True, "contexts": None,
            "default_member_permissions": 32, "integration_types": None,
            "options": [{"type": 3, "name": "q", "description": "x", "required": True}]}
    theirs = {"name": "ask", "description": "d", "type": 1, "default_member_permissions": "32", "contexts": [0, 1, 2],
              "integration_types": [0], "name_localizations": None, "version": "1",
              "options": [{"type": 3, "name": "q", "description": "x", "required": True, "autocomplete": False,
                           "choices": [], "channel_types": []}]}
    assert commands_match([ours], [theirs])
    assert not commands_match([ours], [{**theirs, "default_member_permissions": None}])
    assert not commands_match([{**ours, "contexts": [0]}], [theirs])
    assert not commands_match([ours], [theirs, {**theirs, "name": "extra"}])
    assert not commands_match([ours], [{**theirs, "options": []}])


async def test_dev_guilds_get_the_commands_at_once(make_bot) -> None:
    bot = await _loaded(make_bot, dev_guild_ids=[11, 12])
    await bot.sync_commands()
    guilds = [c.kwargs["guild"].id for c in bot.tree.sync.await_args_list]
    assert guilds == [11, 12]
    names = {c["name"] for c in bot.command_payload(discord.Object(11))}
    assert names == {"ask", "sources", "status", "reindex", "timeline", "add"}
    del bot.registered[12]  # a development server added later, or reset
    await bot.sync_commands()
    assert [c.kwargs["guild"].id for c in bot.tree.sync.await_args_list] == [11, 12, 12]


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

