"""Questions in messages: a mention or a question channel opens a thread, follow-ups there lean on the question
before, and what is refused or fails is said in a reply."""

from __future__ import annotations

import discord

from bot.cogs.ask import Ask
from index.answer import ABSTAIN_TEXT
from tests.helpers import FakeService, answer, make_channel, make_message

async def test_mention_opens_a_thread_and_a_follow_up_there_uses_the_previous_question(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    me = bot.user
    msg = make_message(f"<@{me.id}> When did parliament vote to leave the convention?", me=me)
    await cog.on_message(msg)
    msg.create_thread.assert_awaited_once()
    assert msg.create_thread.await_args.kwargs["name"] == "When did parliament vote to leave the convention?"
    assert msg.sent.kinds() == ["send"] and msg.sent.last()["embed"].fields
    thread = await msg.create_thread()
    follow = make_message(f"<@{me.id}> and when did it take effect?", me=me, channel=thread)
    await cog.on_message(follow)
    assert bot.service.asked[-1] == "When did it take effect? When did parliament vote to leave the convention?"
    follow.create_thread.assert_not_awaited()
    assert follow.sent.kinds() == ["reply"] and follow.sent.last()["embed"]  # a reply inside the thread
    e = follow.sent.last()["embed"]
    assert e.title == "and when did it take effect?" and "previous question" in e.footer.text
    # without a mention, a question in the bot's thread is still answered (with the Message Content intent)
    again = make_message("and who proposed it?", me=me, channel=thread, mention_bot=False)
    await cog.on_message(again)
    assert bot.service.asked[-1].startswith("Who proposed it? When did it take effect?")


async def test_thread_context_survives_a_restart(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    me = bot.user
    await cog.on_message(make_message(f"<@{me.id}> When did parliament vote to leave the convention?", me=me))
    fresh = Ask(bot)  # new memory, same database
    thread = make_channel(8888, thread=True)
    await fresh.on_message(make_message(f"<@{me.id}> and when did it take effect?", me=me, channel=thread))
    assert bot.service.asked[-1] == "When did it take effect? When did parliament vote to leave the convention?"


async def test_mentioning_the_bots_own_role_counts_as_a_mention(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    role = discord.Object(77)
    role.tags = type("Tags", (), {"bot_id": bot.user.id})()
    other = discord.Object(78)
    other.tags = None
    msg = make_message("<@&77> When did parliament vote?", me=bot.user, mention_bot=False)
    msg.role_mentions = [role]
    await cog.on_message(msg)
    assert bot.service.asked == ["When did parliament vote?"]
    msg = make_message("<@&78> When did parliament vote?", me=bot.user, mention_bot=False)
    msg.role_mentions = [other]
    await cog.on_message(msg)
    assert len(bot.service.asked) == 1


async def test_messages_that_do_not_concern_the_bot_are_ignored(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    me = bot.user
    await cog.on_message(make_message("just chatting", me=me, mention_bot=False))
    await cog.on_message(make_message("a question?", me=me, mention_bot=False))  # not a question channel
    bot_msg = make_message(f"<@{me.id}> hi?", me=me)
    bot_msg.author.bot = True
    await cog.on_message(bot_msg)
    assert bot.service.asked == []


async def test_question_channel_takes_messages_ending_in_a_question_mark(make_bot) -> None:
    bot = make_bot(question_channel_ids=[777])
    assert bot.intents.message_content
    cog = Ask(bot)
    msg = make_message("When did parliament vote?", me=bot.user, mention_bot=False)
    await cog.on_message(msg)
    assert bot.service.asked == ["When did parliament vote?"]
    await cog.on_message(make_message("not a question.", me=bot.user, mention_bot=False))
    assert len(bot.service.asked) == 1


async def test_mention_without_question_and_outside_allowed_servers(make_bot) -> None:
    bot = make_bot(allowed_guild_ids=[1])
    cog = Ask(bot)
    me = bot.user
    await cog.on_message(make_message(f"<@{me.id}> When?", me=me, guild_id=555))
    assert bot.service.asked == []
    msg = make_message(f"<@{me.id}>", me=me, guild_id=1)
    await cog.on_message(msg)
    assert "Ask me a question" in msg.sent.last()["content"]


async def test_mention_abstention_and_injection_reply_plain_and_inert(make_bot) -> None:
    bot = make_bot(FakeService(answers={"*": answer(abstained=True)}))
    cog = Ask(bot)
    me = bot.user
    msg = make_message(f"<@{me.id}> @everyone what is on Mars?", me=me)
    await cog.on_message(msg)
    assert ABSTAIN_TEXT in msg.sent.last()["content"]


async def test_mention_when_a_thread_cannot_be_opened_replies_in_place(make_bot) -> None:
    bot = make_bot()
    cog = Ask(bot)
    me = bot.user
    msg = make_message(f"<@{me.id}> When did parliament vote?", me=me)
    resp = type("R", (), {"status": 403, "reason": "Forbidden"})()
    msg.create_thread.side_effect = discord.Forbidden(resp, "Missing Permissions")
    await cog.on_message(msg)
    assert msg.sent.kinds() == ["reply"] and msg.sent.last()["embed"]


async def test_a_failure_while_answering_a_mention_is_logged_and_reported(make_bot, caplog) -> None:
    bot = make_bot(FakeService(answers={"*": RuntimeError("boom")}))
    cog = Ask(bot)
    msg = make_message(f"<@{bot.user.id}> When did parliament vote?", me=bot.user)
    await cog.on_message(msg)
    assert "went wrong" in msg.sent.last()["content"]
    assert "boom" in caplog.text


