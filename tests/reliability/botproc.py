"""The real bot process (`python -m bot -v run`, hashing encoder) against the local fake Discord API."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakediscord import FakeDiscord
from tests.reliability.common import ROOT, bot_env

MANAGE_GUILD = 1 << 5
QUESTION = "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?"


class BotProcess:
    """Starts the bot on a copy of the shipped articles (plus `extra` articles) in `tmp`."""

    def __init__(self, fake: FakeDiscord, tmp: Path, token: str, **settings: str) -> None:
        self.fake, self.tmp, self.token = fake, tmp, token
        self.data, self.corpus, self.log = tmp / "data", tmp / "corpus", tmp / "bot.log"
        if not self.corpus.exists():
            shutil.copytree(ROOT / "corpus" / "articles", self.corpus)
        self.env = bot_env(self.data, self.corpus, CITEBOT_DISCORD__API_BASE=fake.api_base,
                           CITEBOT_DISCORD__GATEWAY_URL=fake.gateway_url, DISCORD_TOKEN=token, **settings)
        self.proc: subprocess.Popen | None = None

    def start(self, identifies: int | None = None, timeout: float = 90) -> "BotProcess":
        want = (len(self.fake.identifies) + 1) if identifies is None else identifies
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "-v", "run"], cwd=ROOT, env=self.env,
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        self.fake.wait_for_bot(self.proc, self.output, want, timeout)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def answered(it, n: int = 1):
    return lambda: len(it.replies()) >= n or it.errors
