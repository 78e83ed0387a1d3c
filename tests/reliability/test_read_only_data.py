"""`python -m bot run` on a read-only data folder (a real read-only filesystem): with no index to serve it stops
with one line naming the folder, as the command line does; with a prebuilt index it serves it, without vote
buttons (the feedback database cannot be written), and /status says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakediscord import EPHEMERAL, FakeDiscord
from tests.botproc import MANAGE_GUILD, QUESTION, BotProcess, answered
from tests.botproc import ROOT, bot_env
from tests.smallfs import remount_read_only, small_filesystem

pytestmark = pytest.mark.e2e
TOKEN = "read-only-token-7Q"


def test_no_index_and_a_read_only_data_folder_is_one_line(tmp_path: Path, corpus_dir: Path) -> None:
    with FakeDiscord(token=TOKEN) as fake, small_filesystem(tmp_path / "data", 4096) as data:
        remount_read_only(data)
        env = bot_env(data, corpus_dir, DISCORD_TOKEN=TOKEN, CITEBOT_DISCORD__API_BASE=fake.api_base,
                      CITEBOT_DISCORD__GATEWAY_URL=fake.gateway_url)
        r = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-3000:]
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0] == (f"error: {data}: the data folder cannot be written (Read-only file system); "
                        "set data.dir to a writable folder")


def test_a_prebuilt_index_on_a_read_only_data_folder_is_served(tmp_path: Path) -> None:
    with FakeDiscord(token=TOKEN) as fake, small_filesystem(tmp_path / "data", 8192) as data:
        bot = BotProcess(fake, tmp_path, TOKEN)
        assert bot.data == data
        r = subprocess.run([sys.executable, "-m", "bot", "reindex"], cwd=ROOT, env=bot.env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        remount_read_only(data)
        bot.start()
        try:
            it = fake.slash("ask", question=QUESTION)
            fake.wait_for(answered(it), 30, "the answer")
            assert not it.errors and len(it.followups) == 1
            reply = it.followups[0]
            assert reply["embeds"] and not reply.get("components")  # an answer, without vote buttons
            st = fake.slash("status", who=fake.admin, permissions=MANAGE_GUILD)
            fake.wait_for(answered(st), 30, "the status")
            card = st.callbacks[0]["data"]
            assert card["flags"] & EPHEMERAL
            fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
            assert fields["Feedback"].startswith("not recorded:") and "feedback.sqlite3" in fields["Feedback"]
        finally:
            code = bot.stop()
        assert code == 0 and "Traceback" not in bot.output()
