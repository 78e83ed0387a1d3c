"""End to end: slash commands are registered whenever Discord lacks them, whatever the data folder remembers.

The real bot process runs several times on one data folder, each time against a fake Discord API: a fresh one
(an application reset, or another deploy that replaced the commands), the same one again, and one with a
development server configured. The hashing encoder stands in for the model: this is about registration only.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.bot.test_e2e import ROOT, TOKEN, bot_env, start_bot
from tests.fakediscord import FakeDiscord

pytestmark = pytest.mark.e2e

COMMANDS = {"ask", "sources", "status", "reindex", "timeline"}


def run_once(fake: FakeDiscord, data: Path, log: Path, **env: str) -> None:
    """Start the bot against `fake`, wait until it is connected, stop it cleanly."""
    environ = bot_env(fake, data, ROOT / "corpus" / "articles")
    environ.update(CITEBOT_MODEL__BACKEND="hashing", **env)
    proc = start_bot(environ, log)
    try:
        fake.wait_for_bot(proc, lambda: log.read_text(errors="replace"), len(fake.identifies) + 1, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(30) == 0, log.read_text(errors="replace")[-3000:]
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def names(fake: FakeDiscord, scope: str = "global") -> set[str]:
    return {c["name"] for c in fake.commands.get(scope, [])}


def test_a_fresh_discord_gets_the_commands_again_with_the_same_data_folder(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeDiscord(token=TOKEN) as first:
        run_once(first, data, log)
        assert names(first) == COMMANDS and len(first.command_puts) == 1
    with FakeDiscord(token=TOKEN) as fresh:  # Discord no longer has them; the data folder is the same
        run_once(fresh, data, log)
        assert names(fresh) == COMMANDS and len(fresh.command_puts) == 1
        run_once(fresh, data, log)  # Discord has them, as they are: nothing to register
        assert len(fresh.command_puts) == 1
        assert any(r[0] == "GET" and r[1].endswith("/commands") for r in fresh.requests)
        run_once(fresh, data, log, CITEBOT_DISCORD__DEV_GUILD_IDS=f'["{fresh.guild_id}"]')
        assert names(fresh, fresh.guild_id) == COMMANDS  # a development server added: registered there at once
        assert len(fresh.command_puts) == 2
    assert "Traceback" not in log.read_text(errors="replace")
