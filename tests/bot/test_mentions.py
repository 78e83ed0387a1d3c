"""Mentions are how a question is addressed, never part of it: stripped before the question is analysed, on
every path (slash command, mention, question channels, command line)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.cogs.ask import Ask
from bot.service import QuestionError, clean_question
from tests.helpers import make_message
from tests.botproc import ROOT, bot_env

QUANTITY = [
    "How many countries are party to the convention?",
    "How much did Lithuania spend on defence?",
    "How many cluster munitions did the US send to Ukraine?",
]
PREFIXES = ["@everyone ", "@here ", "<@123456789012345678> ", "<@!123456789012345678> ", "<@&42> ", "<#77> ",
            "@\u200beveryone ", "<@1> <@&2> @here "]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_clean_question_drops_mentions(prefix) -> None:
    assert clean_question(prefix + "How much did it cost?", 1000) == "How much did it cost?"
    assert clean_question(f"How much did {prefix.strip()} pay?", 1000) == "How much did pay?"


def test_a_question_of_mentions_only_is_empty() -> None:
    with pytest.raises(QuestionError, match="empty"):
        clean_question("@everyone <@1>", 1000)


@pytest.mark.parametrize("question", QUANTITY)
def test_a_mention_before_a_question_changes_nothing_in_the_answer(fake_service, question) -> None:
    plain = fake_service.ask_sync(question)
    for prefix in ("@everyone ", "<@123456789012345678> ", "<@&42> @here "):
        got = fake_service.ask_sync(prefix + question)
        assert (got.answer, got.citations) == (plain.answer, plain.citations), prefix


async def test_a_follow_up_after_other_mentions_is_still_read_as_one(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    me = bot.user
    msg = make_message(f"<@{me.id}> When did parliament vote to leave the convention?", me=me)
    await cog.on_message(msg)
    thread = await msg.create_thread()
    follow = make_message(f"<@{me.id}> @everyone <@555> and when did it take effect?", me=me, channel=thread)
    await cog.on_message(follow)
    assert bot.service.asked[-1] == "When did it take effect? When did parliament vote to leave the convention?"


def test_the_command_line_strips_mentions_too(tmp_path, corpus_dir) -> None:
    env = bot_env(tmp_path / "data", corpus_dir)
    outs = []
    for q in (QUANTITY[0], "@everyone " + QUANTITY[0]):
        r = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", q], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(json.loads(r.stdout))
    assert outs[1]["question"] == QUANTITY[0]
    assert (outs[1]["answer"], outs[1]["citations"]) == (outs[0]["answer"], outs[0]["citations"])
