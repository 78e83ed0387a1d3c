"""The real bot and command line as child processes, against the local fake Discord API (tests/fakediscord.py):
their environment, a bot process on a copy of the shipped articles, and what to wait for in the fake."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "SECRETtok3n." + secrets.token_hex(12)  # recognisable in a log, and unique to this run
MANAGE_GUILD = 1 << 5
QUESTION = "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?"


def bot_env(data: Path, corpus: Path, **extra: str) -> dict[str, str]:
    """The environment for a `python -m bot ...` child: these folders, the hashing encoder unless `extra` says
    otherwise, and nothing inherited from the caller's CITEBOT_* settings or token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_") and k != "DISCORD_TOKEN"}
    env.update(CITEBOT_DATA__DIR=str(data), CITEBOT_CORPUS__PATH=str(corpus), CITEBOT_MODEL__BACKEND="hashing",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1",
               OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def discord_env(fake: FakeDiscord, token: str | None = TOKEN) -> dict[str, str]:
    """Settings that point a bot at the fake Discord API, with its token (none: the bot must say it lacks one)."""
    env = {"CITEBOT_DISCORD__API_BASE": fake.api_base, "CITEBOT_DISCORD__GATEWAY_URL": fake.gateway_url}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return env


class BotProcess:
    """`python -m bot -v run` on a copy of the shipped articles in `tmp` (kept across restarts), its output in
    tmp/bot.log; `settings` are more environment variables (CITEBOT_...)."""

    def __init__(self, fake: FakeDiscord, tmp: Path, token: str = TOKEN, **settings: str) -> None:
        self.fake, self.tmp, self.token = fake, tmp, token
        self.data, self.corpus, self.log = tmp / "data", tmp / "corpus", tmp / "bot.log"
        if not self.corpus.exists():
            shutil.copytree(ROOT / "corpus" / "articles", self.corpus)
        self.env = bot_env(self.data, self.corpus, **discord_env(fake, token), **settings)
        self.proc: subprocess.Popen | None = None

    def start(self, identifies: int | None = None, timeout: float = 120) -> BotProcess:
        """Start it and wait until it has identified with the fake (`identifies` in all, default one more)."""
        want = (len(self.fake.identifies) + 1) if identifies is None else identifies
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "-v", "run"], cwd=ROOT, env=self.env,
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        self.fake.wait_for_bot(self.proc, self.output, want, timeout)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int | None:
        """SIGTERM, and its exit status (killed after 30 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def answered(it, n: int = 1):
    """A condition for `fake.wait_for`: the interaction has `n` replies, or failed."""
    return lambda: len(it.replies()) >= n or it.errors


def replies_to(fake: FakeDiscord, message_id: str) -> list[dict]:
    """What the bot posted about a user's message: replies referencing it, and messages in a thread opened on it."""
    out = [m for msgs in list(fake.messages.values()) for m in list(msgs)
           if str((m.get("message_reference") or {}).get("message_id")) == str(message_id)]
    for tid, th in list(fake.threads.items()):
        if th.get("_from_message") == message_id:
            out += fake.messages.get(tid, [])
    return out
