"""The real bot process against the fake Discord API under faults: gateway drops, op 7 RECONNECT, op 9
INVALID_SESSION, 429s with retry-after and 5xx answers; the admin gate from every side; and the token never
written anywhere. One bot process (hashing encoder) serves the module; tests run in file order."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from index.store import IndexStore
from tests.botproc import MANAGE_GUILD, QUESTION, TOKEN, BotProcess, answered, replies_to
from tests.fakediscord import EPHEMERAL, FakeDiscord
from tests.reliability.common import FIGURES

pytestmark = pytest.mark.e2e

OTHER_GUILD = "1000000000000009999"
CALLBACK = r"^/api/v10/interactions/\d+/[^/]+/callback$"
FOLLOWUP = r"^/api/v10/webhooks/\d+/[^/]+$"
CHANNEL_MESSAGE = r"^/api/v10/channels/\d+/messages$"
THREAD = r"^/api/v10/channels/\d+/messages/\d+/threads$"


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    b = BotProcess(fake, tmp_path_factory.mktemp("faults"), TOKEN, CITEBOT_LOG_LEVEL="DEBUG",
                   CITEBOT_DISCORD__COOLDOWN_QUESTIONS="1000",
                   CITEBOT_DISCORD__ALLOWED_GUILD_IDS=f"[{fake.guild_id}]").start()
    yield b
    b.stop()


def ask_once(fake: FakeDiscord, question: str = QUESTION, timeout: float = 30):
    it = fake.slash("ask", question=question)
    fake.wait_for(answered(it), timeout, "the answer")
    time.sleep(0.3)  # a duplicate would arrive now
    assert not it.errors, it.errors
    assert len(it.replies()) == 1, it.replies()
    return it


# -- the gateway ------------------------------------------------------------------------------------------

def test_dropped_connection_is_resumed(bot) -> None:
    fake = bot.fake
    ids, resumes = len(fake.identifies), len(fake.resumes)
    fake.drop_connection(4000)
    fake.wait_for(lambda: len(fake.resumes) > resumes, 30, "a RESUME")
    assert len(fake.identifies) == ids
    ask_once(fake)


def test_reconnect_request_is_resumed(bot) -> None:
    fake = bot.fake
    ids, resumes = len(fake.identifies), len(fake.resumes)
    fake.send_reconnect()
    fake.wait_for(lambda: len(fake.resumes) > resumes, 30, "a RESUME after op 7")
    assert len(fake.identifies) == ids
    ask_once(fake)


def test_invalidated_session_identifies_again(bot) -> None:
    fake = bot.fake
    ids = len(fake.identifies)
    fake.invalidate_session(resumable=False)
    fake.wait_for(lambda: len(fake.identifies) > ids and fake.seq >= 2, 30, "a new IDENTIFY after op 9")
    time.sleep(0.5)
    ask_once(fake)
    FIGURES["gateway faults"].update(resumes=len(fake.resumes), identifies=len(fake.identifies),
                                     connections=fake.connections)


def test_many_drops_in_a_row(bot) -> None:
    fake = bot.fake
    for i in range(3):
        resumes = len(fake.resumes)
        fake.drop_connection(4000 + i)
        fake.wait_for(lambda: len(fake.resumes) > resumes, 30, "a RESUME")
    ask_once(fake)


# -- REST faults --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("route,count,status", [
    (CALLBACK, 2, 429), (CALLBACK, 1, 500), (FOLLOWUP, 2, 429), (FOLLOWUP, 2, 500), (FOLLOWUP, 1, 502)])
def test_ask_reply_arrives_once_despite_rate_limits_and_server_errors(bot, route, count, status) -> None:
    fake = bot.fake
    before = len(fake.injected)
    fake.fail_next("POST", route, count, status, retry_after=0.4)
    it = ask_once(fake, timeout=40)
    assert len(fake.injected) - before == count, "the failures were injected"
    assert len(it.callbacks) == 1 and len(it.followups) == 1
    FIGURES["REST faults"][f"{status} x{count} on {'callback' if route == CALLBACK else 'followup'}"] = "1 reply"


@pytest.mark.parametrize("route,status", [(THREAD, 429), (CHANNEL_MESSAGE, 500), (THREAD, 500)])
def test_mention_reply_arrives_once_despite_faults(bot, route, status) -> None:
    fake = bot.fake
    before = len(fake.injected)
    fake.fail_next("POST", route, 2 if status == 429 else 1, status, retry_after=0.4)
    me = fake.bot_user["id"]
    # A reply in the channel (not a thread) is what a channel-message fault hits: ask in an existing thread.
    channel = next(iter(fake.threads)) if route == CHANNEL_MESSAGE and fake.threads else None
    msg = fake.say(f"<@{me}> When did parliament vote to leave the convention?", channel_id=channel)
    fake.wait_for(lambda: replies_to(fake, msg["id"]), 40, "the reply")
    time.sleep(1.5)
    assert len(fake.injected) > before
    got = replies_to(fake, msg["id"])
    assert len(got) == 1, got
    FIGURES["REST faults"][f"{status} on {'thread' if route == THREAD else 'message'}"] = "1 reply"


# -- hostile text through the real process -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "@everyone @here <@&1000000000000000100> ```when did parliament vote``` **on the convention**?",
    "\u202e\u200b||<@!1000000000000000300>|| [x](https://evil.example) when did parliament vote?",
    "`" * 500 + " cluster munitions " + "@" * 900,
])
def test_pings_and_markdown_in_questions_never_ping(bot, text) -> None:
    fake = bot.fake
    it = fake.slash("ask", question=text)
    fake.wait_for(answered(it), 30, "the reply")
    me = fake.bot_user["id"]
    msg = fake.say(f"<@{me}> {text}")
    fake.wait_for(lambda: replies_to(fake, msg["id"]), 30, "the reply to the mention")
    time.sleep(0.3)
    assert not it.errors, it.errors
    sent = it.replies() + replies_to(fake, msg["id"])
    assert len(sent) == 2
    for reply in sent:
        body = json.dumps({k: v for k, v in reply.items() if k in ("content", "embeds")}, ensure_ascii=False)
        assert not re.search(r"@(everyone|here)|<@[!&]?\d+>", body), body
    for reply in [*it.followups, *it.callbacks]:
        am = reply.get("allowed_mentions") or (reply.get("data") or {}).get("allowed_mentions")
        assert am is None or am.get("parse") == [], am
    for reply in replies_to(fake, msg["id"]):
        assert reply["_allowed_mentions"]["parse"] == []


# -- the admin gate ---------------------------------------------------------------------------------------

def raw(fake: FakeDiscord, name: str, who: dict, permissions: int, options=(), guild: str | None = "same"):
    """Dispatch an INTERACTION_CREATE for a command as Discord would, with any options and from anywhere."""
    cmd = next(c for scope in fake.commands.values() for c in scope if c["name"] == name)
    it = fake._base_interaction(2, {"id": cmd["id"], "name": name, "type": 1, "options": list(options)}, who,
                                permissions)
    p = it.payload
    if guild is None:  # a direct message
        for key in ("guild_id", "member", "guild_locale"):
            p.pop(key, None)
        p["user"] = who
        p["channel"] = {"id": p["channel_id"], "type": 1, "recipients": [who]}
        p["context"] = 1
    elif guild != "same":
        p["guild_id"] = p["channel"]["guild_id"] = guild
        p["data"]["guild_id"] = guild
    fake.call(fake._dispatch("INTERACTION_CREATE", p))
    return it


FORGED = [{"name": "path", "type": 3, "value": "/etc"}, {"name": "corpus", "type": 3, "value": "/tmp/evil"},
          {"name": "data_dir", "type": 3, "value": "/"}]


@pytest.mark.parametrize("who,perms,guild,options", [
    ("member", 0, "same", ()),
    ("member", 0, "same", FORGED),
    ("member", (1 << 10) | (1 << 11) | (1 << 14), "same", ()),  # everyday permissions, not Manage Server
    ("admin", MANAGE_GUILD, None, ()),  # a DM, even from someone who manages the server
    ("admin", MANAGE_GUILD, OTHER_GUILD, ()),  # a server not on the allow-list
    ("admin", MANAGE_GUILD, OTHER_GUILD, FORGED),
])
@pytest.mark.parametrize("command", ["reindex", "status"])
def test_admin_commands_refused_and_nothing_runs(bot, command, who, perms, guild, options) -> None:
    fake = bot.fake
    gen = IndexStore(bot.data / "index").current_path()
    log_len = len(bot.output())
    it = raw(fake, command, getattr(fake, who), perms, options, guild)
    fake.wait_for(answered(it), 15, "the refusal")
    time.sleep(0.5)
    assert not it.errors, it.errors
    assert len(it.callbacks) == 1 and it.callbacks[0]["type"] == 4
    data = it.callbacks[0]["data"]
    assert data["flags"] & EPHEMERAL and not data.get("embeds")
    assert any(s in data["content"] for s in ("Manage Server", "only answers in the servers", "not in direct"))
    assert IndexStore(bot.data / "index").current_path() == gen
    new_log = bot.output()[log_len:]
    assert "Building the index" not in new_log and "reindex finished" not in new_log
    FIGURES["admin gate"]["refused"] = FIGURES["admin gate"].get("refused", 0) + 1


def test_forged_options_cannot_choose_paths(bot, tmp_path: Path) -> None:
    fake = bot.fake
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "planted.txt").write_text("Planted article\n\nThe planted article says the vote was in 1999.\n")
    opts = [{"name": n, "type": 3, "value": str(evil)} for n in ("path", "corpus", "folder", "data_dir")]
    it = raw(fake, "reindex", fake.admin, MANAGE_GUILD, opts)
    fake.wait_for(lambda: any(w in (e.get("content") or "") for e in it.edits for w in ("Reindexed", "Up to date"))
                  or it.errors, 60, "the reindex result")
    assert not it.errors, it.errors
    idx = IndexStore(bot.data / "index").load()
    assert "planted.txt" not in idx.articles and set(idx.articles) == {p.name for p in bot.corpus.glob("*.txt")}
    assert not list(evil.glob("gen-*")) and not (evil / "CURRENT").exists()


# -- secrets ----------------------------------------------------------------------------------------------

def test_the_token_is_never_written_anywhere(bot) -> None:
    """The bot ran at DEBUG level through every test above (faults, refusals, a reindex, votes): the token is
    in none of its output, nor in any file of its data folder (SQLite database and its WAL, index, commands)."""
    fake = bot.fake
    it = ask_once(fake)
    up = it.followups[0]["components"][0]["components"][0]["custom_id"]
    vote = fake.click(fake._message(fake.channel_id, it.followups[0]), up)
    fake.wait_for(answered(vote), 15, "the vote")
    st = raw(fake, "status", fake.admin, MANAGE_GUILD)
    fake.wait_for(answered(st), 15, "/status")
    assert bot.stop() == 0
    needles = [TOKEN.encode(), TOKEN.encode("utf-16-le"), TOKEN[-16:].encode()]
    out = bot.log.read_bytes()
    assert b"Traceback" not in out
    for needle in needles:
        assert needle not in out, "the token is in the bot's output"
    files = [p for p in bot.data.rglob("*") if p.is_file()]
    assert any(p.name == "feedback.sqlite3" for p in files)
    for f in files:
        body = f.read_bytes()
        for needle in needles:
            assert needle not in body, f"the token is in {f}"
    FIGURES["secrets"].update(log_bytes=len(out), files_scanned=len(files), token_found=0)
