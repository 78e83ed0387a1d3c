"""The token file: a copy every user of the machine can read is used, with a warning that says how to fix it
(and never shows the token)."""

from __future__ import annotations

import logging

import pytest

from bot.settings import Settings

TOKEN = "MTIz.token-in-a-file.XyZ"


@pytest.fixture
def token_file(tmp_path, monkeypatch):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    path = tmp_path / "secrets" / "discord-token"
    path.parent.mkdir()
    path.write_text(TOKEN + "\n", encoding="utf-8")
    return path


def test_a_world_readable_token_file_is_used_with_a_warning(token_file, caplog) -> None:
    token_file.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert Settings(discord={"token_file": str(token_file)}).discord_token() == TOKEN
    assert "can be read by every user" in caplog.text and f"chmod 600 {token_file}" in caplog.text
    assert "-rw-r--r--" in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o640])
def test_a_private_token_file_needs_no_warning(token_file, caplog, mode) -> None:
    token_file.chmod(mode)
    with caplog.at_level(logging.WARNING):
        assert Settings(discord={"token_file": str(token_file)}).discord_token() == TOKEN
    assert caplog.text == ""
