"""End to end: slash commands are registered whenever Discord lacks them, whatever the data folder remembers.

The real bot process runs several times on one data folder, each time against a fake Discord API: a fresh one
(an application reset, or another deploy that replaced the commands), the same one again, and one with a
development server configured. The hashing encoder stands in for the model: this is about registration only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.botproc import TOKEN, BotProcess
from tests.fakediscord import FakeDiscord

pytestmark = pytest.mark.e2e

COMMANDS = {"ask", "sources", "status", "reindex", "timeline", "add"}


def run_once(fake: FakeDiscord, tmp: Path, **env: str) -> None:
    """Start the bot on tmp's data folder against `fake`, wait until it is connected, stop it cleanly."""
    bot = BotProcess(fake, tmp, **env)
    try:
        bot.start()
    finally:
        assert bot.stop() == 0, bot.output()[-3000:]


def names(fake: FakeDiscord, scope: str = "global") -> set[str]:
    return {c["name"] for c in fake.commands.get(scope, [])}


def test_a_fresh_discord_gets_the_commands_again_with_the_same_data_folder(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    with FakeDiscord(token=TOKEN) as first:
        run_once(first, tmp_path)
        assert names(first) == COMMANDS and len(first.command_puts) == 1
    with FakeDiscord(token=TOKEN) as fresh:  # Discord no longer has them; the data folder is the same
        run_once(fresh, tmp_path)
        assert names(fresh) == COMMANDS and len(fresh.command_puts) == 1
        run_once(fresh, tmp_path)  # Discord has them, as they are: nothing to register
        assert len(fresh.command_puts) == 1
        assert any(r[0] == "GET" and r[1].endswith("/commands") for r in fresh.requests)
        run_once(fresh, tmp_path, CITEBOT_DISCORD__DEV_GUILD_IDS=f'["{fresh.guild_id}"]')
        assert names(fresh, fresh.guild_id) == COMMANDS  # a development server added: registered there at once
        assert len(fresh.command_puts) == 2
    assert "Traceback" not in log.read_text(errors="replace")
