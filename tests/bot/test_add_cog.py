"""/add, /sources and /status on the real service (hashing encoder) with articles from the local news site."""

from __future__ import annotations

import asyncio

import pytest

from bot.checks import ADMIN_ONLY, NO_DMS
from bot.cogs.add import Add, add_progress_text
from bot.cogs.admin import Admin
from bot.cogs.feeds import Feeds
from bot.cogs.sources import Sources
from bot.feeds import FeedPoller
from bot.service import Service
from index.hashing_encoder import HashingEncoder
from tests.conftest import make_settings
from tests.helpers import invoke, make_interaction

MANAGE_GUILD = 1 << 5


@pytest.fixture
def service(tmp_path, corpus_dir, site) -> Service:
    settings = make_settings(tmp_path, corpus_dir, fetch={"allow_private_addresses": True, "backoff_seconds": 0.01},
                             feeds={"urls": [site.url("/feeds/atom.xml"), site.url("/feeds/nowhere.xml")]})
    svc = Service(settings, encoder=HashingEncoder())
    svc.ensure_index()
    return svc


def on_service(make_bot, service):
    return make_bot(service, service.settings)  # the cogs read fetch and feed settings from the bot


@pytest.mark.parametrize("kwargs,refusal", [({}, ADMIN_ONLY), ({"guild_id": None}, NO_DMS)])
async def test_add_is_refused_for_members_and_nothing_is_fetched(make_bot, service, site, kwargs, refusal) -> None:
    bot = on_service(make_bot, service)
    cog = Add(bot)
    it = make_interaction(bot, **kwargs)
    await invoke(cog.add, cog, it, site.url("/news/harbour.html"))
    assert it.sent.kinds() == ["send_message"]
    assert it.sent.last()["content"] == refusal and it.sent.last()["ephemeral"]
    assert site.requests == [] and "web/127.0.0.1/aldmere-deep-water-berth.txt" not in service.index.articles


async def test_add_runs_for_an_admin_in_one_edited_message_and_sources_shows_it(make_bot, service, site) -> None:
    bot = on_service(make_bot, service)
    cog = Add(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(cog.add, cog, it, site.url("/news/harbour.html"))
    kinds = it.sent.kinds()
    assert kinds[0] == "send_message" and set(kinds[1:]) == {"edit"}
    assert it.sent[0][1]["content"].startswith("Fetching and extracting the page…") and it.sent[0][1]["ephemeral"]
    final = it.sent.last()["content"]
    assert final.startswith("**Added:** Aldmere council approves deep-water berth as port traffic grows\n")
    assert "`web/127.0.0.1/aldmere-deep-water-berth.txt` (248 words)" in final
    assert "author: Ieva Petraitė" in final and "published: 2025-05-14" in final
    assert "outlet: Baltic Coast Herald" in final and "The index now holds 6 articles" in final

    sources = Sources(bot)
    it = make_interaction(bot)
    await invoke(sources.sources, sources, it)
    embed = it.sent.last()["embed"]
    assert embed.title == "Sources (6 articles)"
    assert "Aldmere council approves deep-water berth as port traffic grows" in embed.description
    assert "Baltic Coast Herald" in embed.description


async def test_add_of_a_cookie_wall_says_why_nothing_was_added(make_bot, service, site) -> None:
    bot = on_service(make_bot, service)
    cog = Add(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(cog.add, cog, it, f"<{site.url('/news/cookiewall.html')}>")
    final = it.sent.last()["content"]
    assert final.startswith(f"**Not added** <{site.url('/news/cookiewall.html')}>: the page shows only a cookie")
    assert len(service.index.articles) == 5


async def test_add_refuses_what_is_not_a_web_address(make_bot, service) -> None:
    bot = on_service(make_bot, service)
    cog = Add(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(cog.add, cog, it, "file:///etc/passwd")
    assert it.sent.kinds() == ["send_message"] and "not a web address" in it.sent.last()["content"]


async def test_extraction_storing_and_indexing_run_off_the_event_loop(make_bot, service, site, monkeypatch) -> None:
    import threading

    import bot.ingest

    loop_thread = threading.current_thread()
    threads = {}

    def spy(name, fn):
        def wrapper(*args, **kwargs):
            threads[name] = threading.current_thread()
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(bot.ingest, "extract_article", spy("extract", bot.ingest.extract_article))
    monkeypatch.setattr(service, "reindex_sync", spy("index", service.reindex_sync))
    b = on_service(make_bot, service)
    cog = Add(b)
    it = make_interaction(b, permissions=MANAGE_GUILD)
    await invoke(cog.add, cog, it, site.url("/news/budget.html"))
    assert "**Added:**" in it.sent.last()["content"]
    assert set(threads) == {"extract", "index"} and loop_thread not in threads.values()


async def test_status_shows_the_feeds_when_each_was_fetched_and_what_failed(make_bot, service, site) -> None:
    bot = on_service(make_bot, service)
    await FeedPoller(bot.ingestor).poll()
    admin = Admin(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(admin.status, admin, it)
    fields = {f.name: f.value for f in it.sent.last()["embed"].fields}
    assert fields["Feeds"] == "2, polled every 60 min; 1 failing"
    failing = fields[f"Feed: {site.url('/feeds/nowhere.xml')}"]
    assert failing.startswith("failed ") and "the server answered 404 Not Found" in failing
    assert fields["Feed: Aldmere Today"].startswith("fetched ") and fields["Feed: Aldmere Today"].endswith(
        ": 2 added")
    assert list(fields).index(f"Feed: {site.url('/feeds/nowhere.xml')}") < list(fields).index("Feed: Aldmere Today")


async def test_the_feeds_cog_polls_in_the_background_and_status_says_so(make_bot, service, site) -> None:
    bot = on_service(make_bot, service)
    bot.wait_until_ready = lambda: asyncio.sleep(0)
    cog = Feeds(bot)
    await bot.add_cog(cog)
    while not cog.poller.polling:
        await asyncio.sleep(0.01)
    admin = Admin(bot)
    it = make_interaction(bot, permissions=MANAGE_GUILD)
    await invoke(admin.status, admin, it)
    fields = {f.name: f.value for f in it.sent.last()["embed"].fields}
    assert fields["Feeds"] == "2, polled every 60 min; polling now"
    for _ in range(400):
        if service.settings.feeds_state_path.exists():
            break
        await asyncio.sleep(0.05)
    await bot.remove_cog("Feeds")
    assert "web/127.0.0.1/budget-2026.txt" in service.index.articles


def test_progress_text_for_each_stage() -> None:
    assert add_progress_text("wait", 0, 0, 0.0, 5.0) == "Waiting for another add to finish… (5s)"
    assert add_progress_text("fetch", 0, 1, 0.0, 1.0) == "Fetching and extracting the page… (1s)"
    assert add_progress_text("index", 30, 60, 0.0, 2.0).startswith("Indexing… █████░░░░░ 50% (30/60")
