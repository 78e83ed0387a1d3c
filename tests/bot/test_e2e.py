"""End to end: the real bot process (`python -m bot run`) against the local fake Discord API.

One bot process serves the module (the first index build with the real model takes ~15 s); the tests run in
file order and the last ones stop it with SIGTERM and restart it on the same data folder.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.botproc import MANAGE_GUILD, QUESTION, ROOT, TOKEN, BotProcess, answered, bot_env, discord_env
from tests.fakediscord import EPHEMERAL


def read_db(path: Path, query: str) -> list[tuple]:
    """Rows from the bot's database, with the connection closed at once: an open reader would keep the
    bot from removing its write-ahead log when it closes, which a test below checks."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(query).fetchall()

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    """The bot with the real model, serving the whole module (tests/conftest.py's `fake` is its Discord)."""
    b = BotProcess(fake, tmp_path_factory.mktemp("e2e"), CITEBOT_MODEL__BACKEND="onnx", CITEBOT_MODEL__THREADS="1",
                   CITEBOT_DISCORD__COOLDOWN_QUESTIONS="100").start()
    yield b
    b.stop()


def embed_of(reply: dict) -> dict:
    return reply["embeds"][0]


def test_commands_registered_with_options_and_permissions(bot) -> None:
    cmds = {c["name"]: c for c in bot.fake.commands["global"]}
    assert set(cmds) == {"ask", "sources", "status", "reindex", "timeline", "add"}
    ask = {o["name"]: o for o in cmds["ask"]["options"]}
    assert ask["question"]["type"] == 3 and ask["question"]["required"] is True
    assert ask["private"]["type"] == 5 and not ask["private"].get("required", False)
    assert cmds["reindex"]["default_member_permissions"] == str(MANAGE_GUILD)
    assert cmds["status"]["default_member_permissions"] == str(MANAGE_GUILD)
    assert cmds["add"]["default_member_permissions"] == str(MANAGE_GUILD)
    assert cmds["ask"]["default_member_permissions"] is None
    assert {o["name"] for o in cmds["timeline"]["options"]} == {"from", "to", "topic"}
    assert len(bot.fake.command_puts) == 1
    assert TOKEN not in bot.output()


def test_ask_answered_with_an_embed_and_citations(bot) -> None:
    it = bot.fake.slash("ask", question=QUESTION)
    bot.fake.wait_for(answered(it), 30, "the answer")
    assert not it.errors, it.errors
    assert it.callbacks[0]["type"] == 5  # deferred within the 3 s
    reply = it.followups[0]
    e = embed_of(reply)
    assert "parliament" in e["description"].lower() and "[1]" in e["description"]
    assert e["fields"] and e["fields"][0]["name"].startswith("[1] ")
    assert reply["allowed_mentions"] == {"parse": [], "replied_user": False} or reply["allowed_mentions"]["parse"] == []
    custom_ids = [c["custom_id"] for row in reply["components"] for c in row["components"]]
    assert custom_ids[0].startswith("citebot:vote:up:") and custom_ids[1].startswith("citebot:vote:down:")
    bot.last_answer = reply


def test_private_ask_and_injection(bot) -> None:
    it = bot.fake.slash("ask", question="@everyone <@&1> what about cluster munitions?", private=True)
    bot.fake.wait_for(answered(it), 30, "the answer")
    assert not it.errors, it.errors
    assert it.callbacks[0]["data"]["flags"] & EPHEMERAL
    text = json.dumps(it.followups[0])
    assert "@everyone" not in text and "<@&1>" not in text


def test_thumbs_up_is_stored(bot) -> None:
    reply = bot.last_answer
    message = bot.fake._message(bot.fake.channel_id, reply)
    up = reply["components"][0]["components"][0]["custom_id"]
    it = bot.fake.click(message, up)
    bot.fake.wait_for(answered(it), 10, "the vote reply")
    assert it.callbacks[0]["type"] == 4 and it.callbacks[0]["data"]["flags"] & EPHEMERAL
    rows = read_db(bot.data / "feedback.sqlite3", "SELECT answer_id, user_hash, vote FROM votes")
    assert len(rows) == 1 and rows[0][2] == 1 and len(rows[0][1]) == 64
    assert bot.fake.member["id"] not in json.dumps(rows)
    bot.vote_message, bot.vote_custom_id = message, up


def test_mention_answered_in_a_thread_and_follow_up_in_the_thread(bot) -> None:
    fake = bot.fake
    me = fake.bot_user["id"]
    fake.say(f"<@{me}> When did parliament vote to leave the convention?")
    thread = fake.wait_for(lambda: next(iter(fake.threads.values()), None), 30, "a thread")
    first = fake.wait_for(lambda: fake.messages.get(thread["id"]), 30, "the answer in the thread")[0]
    assert first["embeds"][0]["fields"]
    assert first["_allowed_mentions"]["parse"] == []
    fake.say(f"<@{me}> and when did it take effect?", channel_id=thread["id"])
    msgs = fake.wait_for(lambda: len(fake.messages[thread["id"]]) >= 2 and fake.messages[thread["id"]], 30,
                         "the follow-up answer")
    follow = msgs[1]
    assert follow.get("message_reference")  # a reply inside the thread
    if follow["embeds"]:  # titled with the user's words, searched with the previous question too
        assert follow["embeds"][0]["title"] == "and when did it take effect?"
        assert "previous question" in follow["embeds"][0]["footer"]["text"]
    assert len(fake.threads) == 1  # no second thread


def test_reindex_refused_for_a_member(bot) -> None:
    it = bot.fake.slash("reindex")
    bot.fake.wait_for(answered(it), 10, "the refusal")
    cb = it.callbacks[0]
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL and "Manage Server" in cb["data"]["content"]
    assert "Reindexed" not in bot.output()


def test_reindex_for_an_admin_while_a_question_is_answered(bot) -> None:
    for i in range(6):  # new articles, so there is embedding to do
        text = " ".join(f"On day {d} the council of town {i} discussed item {d * 7 + i} and voted {d % 3} times."
                        for d in range(120))
        (bot.corpus / f"zz_new_{i}.txt").write_text(f"Council news {i}\n\n{text}\n", encoding="utf-8")
    (bot.corpus / "broken.txt").write_bytes(b"\xff\xfe\x00bad")
    it = bot.fake.slash("reindex", who=bot.fake.admin, permissions=MANAGE_GUILD)
    bot.fake.wait_for(lambda: it.callbacks or it.errors, 10, "the reindex acknowledgement")
    q = bot.fake.slash("ask", question=QUESTION)
    bot.fake.wait_for(answered(q), 30, "the answer during the reindex")
    final = bot.fake.wait_for(lambda: any("Reindexed" in (e.get("content") or "") for e in it.edits) and it.edits[-1],
                              120, "the reindex result")
    assert not it.errors and not q.errors, (it.errors, q.errors)
    assert "Reindexing" in it.callbacks[0]["data"]["content"]
    assert q.done < it.done, "the question was answered while the reindex ran"
    text = final["content"]
    assert re.search(r"Reindexed 1\d articles as \d+ passages", text) and "newly embedded" in text and "reused" in text and "broken.txt" in text


def test_second_reindex_is_told_one_is_running(bot) -> None:
    a = bot.fake.slash("reindex", who=bot.fake.admin, permissions=MANAGE_GUILD)
    b = bot.fake.slash("reindex", who=bot.fake.admin, permissions=MANAGE_GUILD)  # at once, before a is answered
    bot.fake.wait_for(answered(b), 10, "the second reindex")
    assert "already running" in b.callbacks[0]["data"]["content"]
    assert "Reindexing" in a.callbacks[0]["data"]["content"]
    # nothing changed since the previous test's reindex: the index in use is kept
    bot.fake.wait_for(lambda: any("Up to date" in (e.get("content") or "") for e in a.edits), 120, "the first result")


def test_sources_and_status(bot) -> None:
    s = bot.fake.slash("sources")
    bot.fake.wait_for(answered(s), 10, "/sources")
    assert "Sources" in s.callbacks[0]["data"]["embeds"][0]["title"]
    st = bot.fake.slash("status", who=bot.fake.admin, permissions=MANAGE_GUILD)
    bot.fake.wait_for(answered(st), 10, "/status")
    fields = {f["name"]: f["value"] for f in st.callbacks[0]["data"]["embeds"][0]["fields"]}
    assert "👍 1" in fields["Feedback"] and int(fields["Questions answered"]) >= 3


def test_timeline_page(bot) -> None:
    it = bot.fake.slash("timeline", **{"from": "2008", "topic": "cluster munitions"})
    bot.fake.wait_for(answered(it), 30, "/timeline")
    assert not it.errors, it.errors
    reply = it.followups[0]
    if reply.get("embeds"):
        e = reply["embeds"][0]
        assert e["fields"] and "[1]" in e["fields"][0]["value"] and "[1] " in e["footer"]["text"]
    else:
        assert "No dated events" in reply["content"]


def test_dropped_gateway_is_resumed_and_the_bot_still_answers(bot) -> None:
    fake = bot.fake
    fake.drop_connection(4000)
    fake.wait_for(lambda: fake.resumes, 30, "a RESUME")
    assert len(fake.identifies) == 1
    time.sleep(0.3)
    it = fake.slash("ask", question=QUESTION)
    fake.wait_for(answered(it), 30, "an answer after the resume")
    assert not it.errors and embed_of(it.followups[0])["fields"]


def test_sigterm_closes_cleanly_and_a_restart_keeps_buttons_and_commands(bot) -> None:
    fake = bot.fake
    assert bot.stop() == 0
    out = bot.output()
    assert "Traceback" not in out and TOKEN not in out
    assert fake.closed_by_bot >= 1  # the gateway was closed (code 1000), not dropped
    assert not (bot.data / "feedback.sqlite3-wal").exists()  # the database was closed
    puts = len(fake.command_puts)
    bot.start(identifies=2)
    assert len(fake.command_puts) == puts  # unchanged commands are not synced again
    down = bot.vote_custom_id.replace(":up:", ":down:")
    it = fake.click(bot.vote_message, down)
    fake.wait_for(answered(it), 10, "the vote after the restart")
    assert read_db(bot.data / "feedback.sqlite3", "SELECT vote FROM votes") == [(-1,)]  # the same user changed it


def test_missing_and_rejected_tokens_exit_with_one_sentence(fake, tmp_path) -> None:
    for token, needle in ((None, "no Discord token"), ("wrong-token-XYZ", "rejected the token")):
        env = bot_env(tmp_path / "d", ROOT / "corpus" / "articles", **discord_env(fake, token))
        r = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 1
        assert needle in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert token is None or token not in r.stderr
