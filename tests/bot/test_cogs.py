"""Slash commands called as Discord would call them, with awaitable fake interactions (messages:
test_cog_messages.py)."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.checks import ADMIN_ONLY, NO_DMS, NOT_HERE
from bot.cogs.admin import ALREADY, Admin
from bot.cogs.ask import Ask
from bot.cogs.sources import Sources
from bot.cogs.timeline import Timeline
from bot.service import QuestionError
from bot.views import Pager, VoteButton
from index.answer import ABSTAIN_TEXT
from tests.helpers import FakeService, answer, citation, invoke, make_channel, make_interaction

MANAGE_GUILD = discord.Permissions(manage_guild=True).value


# -- /ask ------------------------------------------------------------------------------------------------

async def test_ask_defers_then_answers_with_an_embed_and_vote_buttons(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, "When did parliament vote?")
    assert it.sent.kinds() == ["defer", "followup"]
    assert it.sent[0][1] == {"thinking": True, "ephemeral": False}
    sent = it.sent.last()
    assert sent["embed"].description == "On 18 July 2024 [1]."
    assert [f.name for f in sent["embed"].fields] == ["[1] Article 1", "[2] Article 2"]
    ids = [c.custom_id for c in sent["view"].children]
    assert ids == ["citebot:vote:up:1", "citebot:vote:down:1"]
    assert sent["ephemeral"] is False


async def test_ask_private_is_ephemeral(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, "When did parliament vote?", True)
    assert it.sent[0][1]["ephemeral"] is True and it.sent.last()["ephemeral"] is True


async def test_ask_abstains_with_a_short_plain_reply(make_bot) -> None:
    bot = make_bot(FakeService(answers={"*": answer(abstained=True)}))
    cog = Ask(bot)
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, "What is the capital of Mars?")
    sent = it.sent.last()
    assert ABSTAIN_TEXT in sent["content"] and "embed" not in sent and "view" not in sent


@pytest.mark.parametrize("question,needle", [("   ", "empty"), ("x" * 1001, "too long"), ("?!", "no words")])
async def test_bad_questions_get_an_ephemeral_message_and_nothing_runs(make_bot, question, needle) -> None:
    bot = make_bot()
    cog = Ask(bot)
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, question)
    assert it.sent.kinds() == ["send_message"]
    assert needle in it.sent.last()["content"] and it.sent.last()["ephemeral"] is True
    assert bot.service.asked == []


async def test_mention_injection_in_question_and_answer_pings_nobody(make_bot) -> None:
    evil = "@everyone <@&123> <@42> @here"
    bot = make_bot(FakeService(answers={"*": answer(evil, evil * 50, [citation(1, text=evil * 100, title=evil)])}))
    cog = Ask(bot)
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, f"{evil} when?")
    sent = it.sent.last()  # check_message already asserted limits, no pings and AllowedMentions.none()
    assert "@\u200beveryone" in sent["embed"].description
    assert bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()


async def test_very_long_answer_fits(make_bot) -> None:
    long = "word " * 5000
    cites = [citation(i, text=long, title=long, outlet=long) for i in range(1, 11)]
    bot = make_bot(FakeService(answers={"*": answer("q?", long, cites)}))
    cog = Ask(bot)
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, "Why?")
    assert it.sent.last()["embed"].description.endswith("…")


async def test_cooldown_refuses_with_the_wait_time(make_bot) -> None:
    bot = make_bot(cooldown_questions=2, cooldown_seconds=30)
    cog = Ask(bot)
    for _ in range(2):
        await invoke(cog.ask, cog, make_interaction(bot), "When did parliament vote?")
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, "When did parliament vote?")
    assert it.sent.kinds() == ["send_message"] and it.sent.last()["ephemeral"] is True
    assert "try again in 30 s" in it.sent.last()["content"]
    other = make_interaction(bot, user_id=222)
    await invoke(cog.ask, cog, other, "When did parliament vote?")
    assert other.sent.kinds() == ["defer", "followup"]


async def test_busy_when_too_many_questions_wait(make_bot) -> None:
    bot = make_bot(max_concurrent=1)
    cog = Ask(bot)
    bot.limits.running = bot.limits.waiting = 1  # the only slot is taken and one question waits for it
    it = make_interaction(bot)
    await invoke(cog.ask, cog, it, "When did parliament vote?")
    assert "try again in a few seconds" in it.sent.last()["content"] and it.sent.last()["ephemeral"]


# -- feedback buttons ------------------------------------------------------------------------------------

async def test_vote_button_from_custom_id_records_a_vote(make_bot) -> None:
    import re

    bot = make_bot()
    aid = await bot.feedback.add_answer(answer())
    item = discord.ui.Button(custom_id=f"citebot:vote:up:{aid}")
    match = re.fullmatch(VoteButton.__discord_ui_compiled_template__, item.custom_id)
    it = make_interaction(bot)
    button = await VoteButton.from_custom_id(it, item, match)
    await button.callback(it)
    assert "Thanks" in it.sent.last()["content"] and it.sent.last()["ephemeral"]
    assert await bot.feedback.counts() == {"up": 1, "down": 0, "answers": 1}
    it2 = make_interaction(bot)
    await VoteButton("down", aid).callback(it2)
    assert await bot.feedback.counts() == {"up": 0, "down": 1, "answers": 1}


# -- /reindex and /status --------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,refusal", [
    ({}, ADMIN_ONLY), ({"guild_id": None}, NO_DMS), ({"guild_id": 9, "permissions": MANAGE_GUILD}, NOT_HERE)])
async def test_reindex_refused_and_nothing_runs(make_bot, kwargs, refusal) -> None:
    bot = make_bot(allowed_guild_ids=[555] if kwargs.get("guild_id") == 9 else [])
    cog = Admin(bot)
    it = make_interaction(bot, **kwargs)
    await invoke(cog.reindex, cog, it)
    assert it.sent.kinds() == ["send_message"]
    assert it.sent.last() == {"content": refusal, "ephemeral": True,
                              "allowed_mentions": it.sent.last()["allowed_mentions"]}
    assert bot.service.reindex_calls == 0


@pytest.mark.parametrize("kwargs,settings", [
    ({"permissions": MANAGE_GUILD}, {}), ({"roles": [42]}, {"admin_role_ids": [42]}),
    ({"user_id": 7}, {"admin_user_ids": [7]})])
async def test_reindex_runs_for_admins_and_reports_counts(make_bot, kwargs, settings) -> None:
    bot = make_bot(**settings)
    cog = Admin(bot)
    it = make_interaction(bot, **kwargs)
    await invoke(cog.reindex, cog, it)
    assert it.sent.kinds()[0] == "send_message" and "Reindexing" in it.sent[0][1]["content"]
    final = it.sent.last()["content"]
    assert it.sent.last() is not it.sent[0][1]
    assert "10 articles" in final and "120 passages" in final and "5 newly embedded" in final
    assert "115 reused" in final and "bad.txt" in final and "not UTF-8" in final
    assert bot.service.reindex_calls == 1


async def test_reindex_progress_is_edited_in_one_message_and_throttled(make_bot) -> None:
    bot = make_bot(FakeService(reindex_delay=2.5))
    cog = Admin(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(cog.reindex, cog, it)
    kinds = it.sent.kinds()
    assert kinds[0] == "send_message" and set(kinds[1:]) == {"edit"}
    assert 2 <= len(kinds) <= 4  # ~2.5 s of progress with at most one edit per 2 s, then the result
    assert any("%" in kw["content"] for k, kw in it.sent if k == "edit")


async def test_reindex_result_goes_to_the_channel_when_the_token_has_expired(make_bot) -> None:
    bot = make_bot()
    cog = Admin(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    resp = type("R", (), {"status": 401, "reason": "Unauthorized"})()
    it.edit_original_response.side_effect = discord.HTTPException(resp, "Invalid Webhook Token")
    it.channel = make_channel(777)
    await invoke(cog.reindex, cog, it)
    assert "Reindexed 10 articles" in it.channel.sent.last()["content"]


@pytest.mark.parametrize("gap", [0.0, 0.1])
async def test_second_reindex_is_told_one_is_running(make_bot, gap) -> None:
    bot = make_bot(FakeService(reindex_delay=0.5))
    cog = Admin(bot)
    first = make_interaction(bot, permissions=MANAGE_GUILD)
    second = make_interaction(bot, permissions=MANAGE_GUILD)
    task = asyncio.create_task(cog.reindex.callback(cog, first))
    await asyncio.sleep(gap)  # 0: both arrive before the first has even answered
    await invoke(cog.reindex, cog, second)
    await task
    assert second.sent.last()["content"] == ALREADY and second.sent.last()["ephemeral"]
    assert bot.service.reindex_calls == 1


async def test_questions_are_answered_while_reindexing(make_bot) -> None:
    bot = make_bot(FakeService(reindex_delay=0.5))
    admin, ask = Admin(bot), Ask(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    task = asyncio.create_task(admin.reindex.callback(admin, it))
    await asyncio.sleep(0.1)
    q = make_interaction(bot)
    await invoke(ask.ask, ask, q, "When did parliament vote?")
    assert not task.done() and q.sent.last()["embed"]
    await task


async def test_failed_reindex_says_why(make_bot) -> None:
    from corpus.errors import CorpusError

    bot = make_bot(FakeService(reindex_error=CorpusError("corpus/articles: folder not found")))
    cog = Admin(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(cog.reindex, cog, it)
    assert "Reindex failed: corpus/articles: folder not found" in it.sent.last()["content"]


async def test_status_for_admins_only(make_bot) -> None:
    bot = make_bot()
    cog = Admin(bot)
    it = make_interaction(bot)
    await invoke(cog.status, cog, it)
    assert it.sent.last()["content"] == ADMIN_ONLY
    await bot.feedback.vote(await bot.feedback.add_answer(answer()), 1, 1)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(cog.status, cog, it)
    fields = {f.name: f.value for f in it.sent.last()["embed"].fields}
    assert fields["Articles"] == "3" and fields["Passages"] == "42" and fields["Model"] == "hashing-256"
    assert fields["Uptime"].startswith("1h") and "👍 1" in fields["Feedback"]
    assert fields["Last reindex"] == "none since start"


# -- /sources and /timeline ------------------------------------------------------------------------------

async def test_sources_lists_articles(make_bot) -> None:
    bot = make_bot()
    cog = Sources(bot)
    it = make_interaction(bot)
    await invoke(cog.sources, cog, it)
    desc = it.sent.last()["embed"].description
    assert desc.index("Article 3") < desc.index("Article 1") and "LRT" in desc


async def test_timeline_pages_and_buttons_only_for_the_asker(make_bot) -> None:
    events = [{"date": f"2024-07-{i:02d}", "granularity": "day", "label": f"{i} July 2024",
               "text": f"Event {i} @everyone", "citations": [{"source": "001.txt", "text": "x", "start": 0, "end": 1}]}
              for i in range(1, 16)]
    bot = make_bot(FakeService(events=events))
    cog = Timeline(bot)
    it = make_interaction(bot)
    await invoke(cog.timeline, cog, it, "2024", "2024-12", "cluster munitions")
    assert bot.service.timeline_args == ("2024", "2024-12", "cluster munitions")
    sent = it.sent.last()
    assert len(sent["embed"].fields) == 10 and "[1] Article 1" in sent["embed"].footer.text
    view = sent["view"]
    assert isinstance(view, Pager) and view.previous.disabled and not view.next.disabled
    stranger = make_interaction(bot, user_id=222)
    assert not await view.interaction_check(stranger)
    assert "Only the person who asked" in stranger.sent.last()["content"]
    owner = make_interaction(bot)
    assert await view.interaction_check(owner)
    await view.next.callback(owner)
    assert owner.sent.kinds() == ["edit_message"] and len(owner.sent.last()["embed"].fields) == 5


async def test_pager_removes_its_buttons_when_it_times_out(make_bot) -> None:
    bot = make_bot()
    it = make_interaction(bot)
    await it.response.defer()
    view = Pager([discord.Embed(title="1"), discord.Embed(title="2")], 111, interaction=it)
    await view.on_timeout()
    assert it.sent.last() == {"view": None}


async def test_a_vote_that_cannot_be_stored_is_told_so(make_bot) -> None:
    bot = make_bot()
    bot.feedback.close()
    it = make_interaction(bot)
    await VoteButton("up", 1).callback(it)
    assert "could not be saved" in it.sent.last()["content"]


async def test_timeline_empty_and_bad_dates(make_bot) -> None:
    bot = make_bot(FakeService(events=[]))
    cog = Timeline(bot)
    it = make_interaction(bot)
    await invoke(cog.timeline, cog, it, "2030", None, None)
    assert "No dated events" in it.sent.last()["content"] and "wider" in it.sent.last()["content"]
    it = make_interaction(bot)
    await invoke(cog.timeline, cog, it, "July", None, None)
    assert it.sent.kinds() == ["send_message"] and "2024-07" in it.sent.last()["content"]
    it = make_interaction(bot)
    await invoke(cog.timeline, cog, it, "2025", "2024", None)
    assert "swap" in it.sent.last()["content"]


# -- errors ----------------------------------------------------------------------------------------------

async def test_tree_on_error_tells_the_user_and_logs_the_traceback(make_bot, caplog) -> None:
    from discord import app_commands

    bot = make_bot()
    await bot.add_cog(Ask(bot))
    it = make_interaction(bot)
    it.command = bot.tree.get_command("ask")
    try:
        raise app_commands.CommandInvokeError(it.command, RuntimeError("kaboom"))
    except app_commands.CommandInvokeError as exc:
        err = exc
    await bot.tree.on_error(it, err)
    assert "went wrong" in it.sent.last()["content"] and it.sent.last()["ephemeral"]
    assert "kaboom" in caplog.text and "Traceback" in caplog.text
    it2 = make_interaction(bot)
    await it2.response.defer()
    await bot.tree.on_error(it2, err)
    assert it2.sent.kinds() == ["defer", "followup"]


async def test_a_user_error_raised_after_the_acknowledgement_is_told_to_the_user_alone(make_bot, caplog) -> None:
    refusal = QuestionError("The question is too long (1,200 characters; the limit is 1,000).")
    bot = make_bot(FakeService(answers={"*": refusal}))
    await bot.add_cog(Ask(bot))
    cog = bot.get_cog("Ask")
    it = make_interaction(bot)
    it.command = bot.tree.get_command("ask")
    await invoke(cog.ask, cog, it, "When did parliament vote?")
    assert it.sent.kinds() == ["defer", "followup"]
    assert it.sent.last()["content"] == str(refusal) and it.sent.last()["ephemeral"] is True
    assert "Traceback" not in caplog.text  # the user's mistake, not the bot's: no traceback in the log


async def test_tree_refuses_servers_not_allowed(make_bot) -> None:
    bot = make_bot(allowed_guild_ids=[1])
    it = make_interaction(bot, guild_id=2)
    assert not await bot.tree.interaction_check(it)
    assert it.sent.last()["content"] == NOT_HERE
    assert await bot.tree.interaction_check(make_interaction(bot, guild_id=1))
