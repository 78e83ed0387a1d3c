"""End to end: the real bot process against the local fake Discord API and the local news site.

The bot runs with the hashing encoder (no model to load) and one RSS feed; it polls the feed when it
connects. Private addresses are allowed so that it can reach the news site on 127.0.0.1.
"""

from __future__ import annotations

import json

import pytest

from tests.botproc import MANAGE_GUILD, BotProcess, answered
from tests.fakediscord import EPHEMERAL
from tests.newsserver import NewsServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site():
    """The news site for the whole module (the bot process polls its feed): overrides the per-test one."""
    with NewsServer() as s:
        yield s


@pytest.fixture(scope="module")
def bot(fake, site, tmp_path_factory):
    """The fake Discord the bot (hashing encoder, one feed) is connected to; `.corpus` and `.data` are its folders."""
    b = BotProcess(fake, tmp_path_factory.mktemp("e2e-add"), CITEBOT_FETCH__ALLOW_PRIVATE_ADDRESSES="true",
                   CITEBOT_FETCH__BACKOFF_SECONDS="0.01",
                   CITEBOT_FEEDS__URLS=json.dumps([site.url("/feeds/rss.xml")])).start()
    fake.corpus, fake.data = b.corpus, b.data
    yield fake
    b.stop()


def test_add_is_registered_for_managers_only(bot) -> None:
    cmds = {c["name"]: c for c in bot.commands["global"]}
    add = cmds["add"]
    assert add["default_member_permissions"] == str(MANAGE_GUILD)
    assert [(o["name"], o["type"], o["required"]) for o in add["options"]] == [("url", 3, True)]


def test_the_feed_was_polled_on_connecting(bot) -> None:
    state_file = bot.data / "feeds.json"
    bot.wait_for(lambda: state_file.exists(), 60, "the first feed poll")
    assert sorted(p.name for p in (bot.corpus / "web" / "127.0.0.1").glob("*.txt")) == [
        "aldmere-deep-water-berth.txt", "ferry-night-crossing.txt", "rail-freight-record.txt"]


def test_add_refused_for_a_member(bot, site) -> None:
    before = len(site.requests)
    it = bot.slash("add", url=site.url("/news/wind.html"))
    bot.wait_for(answered(it), 10, "the refusal")
    cb = it.callbacks[0]
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL and "Manage Server" in cb["data"]["content"]
    assert len(site.requests) == before and not (bot.corpus / "web/127.0.0.1/kelmar-bank-tender.txt").exists()


def test_add_run_for_an_admin_then_sources_and_status_show_it(bot, site) -> None:
    it = bot.slash("add", who=bot.admin, permissions=MANAGE_GUILD, url=site.url("/news/wind.html"))
    final = bot.wait_for(lambda: next((e for e in it.edits if "Added" in (e.get("content") or "")), None), 60,
                         "the add result")
    assert not it.errors, it.errors
    assert it.callbacks[0]["type"] == 4 and it.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert "Fetching and extracting" in it.callbacks[0]["data"]["content"]
    text = final["content"]
    assert "**Added:** Kelmar Bank offshore wind tender won by Nordvind consortium" in text
    assert "outlet: Seaboard Energy Review" in text and "language: en-GB" in text
    assert (bot.corpus / "web/127.0.0.1/kelmar-bank-tender.txt").is_file()

    s = bot.slash("sources")
    bot.wait_for(answered(s), 10, "/sources")
    desc = s.callbacks[0]["data"]["embeds"][0]["description"]
    assert "Kelmar Bank offshore wind tender won by Nordvind consortium" in desc

    st = bot.slash("status", who=bot.admin, permissions=MANAGE_GUILD)
    bot.wait_for(answered(st), 10, "/status")
    fields = {f["name"]: f["value"] for f in st.callbacks[0]["data"]["embeds"][0]["fields"]}
    assert fields["Articles"] == "9" and fields["Feeds"].startswith("1, polled every 60 min")
    assert fields["Feed: Aldmere waterfront news"].endswith(": 3 added")


def test_a_question_about_an_added_article_cites_it(bot) -> None:
    it = bot.slash("ask", question="How much did the Nordvind consortium bid for the Kelmar Bank wind farm?")
    bot.wait_for(answered(it), 30, "the answer")
    assert not it.errors, it.errors
    fields = it.followups[0]["embeds"][0]["fields"]
    assert any("Kelmar Bank offshore wind tender" in f["name"] for f in fields), fields
