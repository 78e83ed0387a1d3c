"""Polling RSS and Atom feeds from the local news site through the real service (hashing encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.feeds import FeedPoller, feed_status
from bot.ingest import Ingestor
from bot.service import Service
from corpus.store import STAGING
from index.hashing_encoder import HashingEncoder
from tests.conftest import make_settings


def make_poller(tmp_path: Path, corpus_dir: Path, site, *paths: str) -> FeedPoller:
    settings = make_settings(tmp_path, corpus_dir, fetch={"allow_private_addresses": True, "backoff_seconds": 0.01},
                             feeds={"urls": [site.url(p) for p in paths]})
    svc = Service(settings, encoder=HashingEncoder())
    svc.ensure_index()
    return FeedPoller(Ingestor(svc))


def web_files(corpus_dir: Path) -> list[str]:
    return sorted(p.relative_to(corpus_dir).as_posix() for p in (corpus_dir / "web").rglob("*.txt"))


async def test_a_poll_adds_new_items_and_skips_one_already_stored(tmp_path, corpus_dir, site) -> None:
    poller = make_poller(tmp_path, corpus_dir, site, "/feeds/rss.xml")
    await poller.ingestor.add([site.url("/news/harbour.html")])
    site.requests.clear()
    report = await poller.poll()
    (feed,) = report.feeds
    assert feed.status == "ok" and feed.title == "Aldmere waterfront news" and feed.entries == 3
    got = [(o.status, o.path) for o in feed.outcomes]
    assert got == [("added", "web/127.0.0.1/ferry-night-crossing.txt"),
                   ("skipped", "web/127.0.0.1/aldmere-deep-water-berth.txt"),
                   ("added", "web/127.0.0.1/rail-freight-record.txt")]
    assert feed.outcomes[1].reason == "already stored as web/127.0.0.1/aldmere-deep-water-berth.txt"
    assert "/news/harbour.html" not in site.paths()  # recognised by its address, not fetched again
    assert feed.summary() == "2 added, 1 skipped"
    index = poller.ingestor.service.index
    assert {"web/127.0.0.1/ferry-night-crossing.txt", "web/127.0.0.1/rail-freight-record.txt"} <= set(index.articles)
    ferry = index.articles["web/127.0.0.1/ferry-night-crossing.txt"].meta
    assert ferry.url == site.url("/news/ferry.html")  # without the feed's tracking parameters
    assert ferry.canonical_url == site.url("/2025/06/ferry-night-crossing/")


async def test_the_next_poll_is_conditional_and_adds_nothing(tmp_path, corpus_dir, site) -> None:
    poller = make_poller(tmp_path, corpus_dir, site, "/feeds/rss.xml", "/feeds/atom.xml")
    first = await poller.poll()
    assert [f.summary() for f in first.feeds] == ["3 added", "2 added"]
    generation = poller.ingestor.service.index.path
    site.requests.clear()
    second = await poller.poll()
    assert [f.status for f in second.feeds] == ["not modified", "not modified"] and second.add is None
    assert {h.get("If-None-Match") is not None for p, h in site.requests if p.startswith("/feeds/")} == {True}
    assert not [p for p in site.paths() if p.startswith("/news/")]
    assert poller.ingestor.service.index.path == generation


async def test_an_item_whose_page_changed_is_updated_not_duplicated(tmp_path, corpus_dir, site) -> None:
    poller = make_poller(tmp_path, corpus_dir, site, "/feeds/rss.xml")
    await poller.poll()
    before = web_files(corpus_dir)
    site.versions["ferry"] = "ferry_v2.html"
    site.ferry_date = "Thu, 12 Jun 2025 09:00:00 GMT"
    site.requests.clear()
    report = await poller.poll()
    assert [(o.status, o.path) for o in report.feeds[0].outcomes] == [
        ("updated", "web/127.0.0.1/ferry-night-crossing.txt")]
    assert [p for p in site.paths() if p.startswith("/news/")] == ["/news/ferry.html?utm_source=rss&utm_medium=feed"]
    assert web_files(corpus_dir) == before
    text = (corpus_dir / "web/127.0.0.1/ferry-night-crossing.txt").read_text(encoding="utf-8")
    assert "second night departure" in text


async def test_items_that_failed_for_a_passing_reason_are_tried_again(tmp_path, corpus_dir, site) -> None:
    poller = make_poller(tmp_path, corpus_dir, site, "/feeds/atom.xml")
    orig = site._route
    site.down = True

    def route(h, path):
        if path == "/news/market.html" and site.down:
            h.send_response(503)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return None
        return orig(h, path)

    site._route = route
    poller.settings.fetch.retries = 0
    first = await poller.poll()
    assert [o.status for o in first.feeds[0].outcomes] == ["added", "failed"]
    assert "problems" in json.loads(poller.settings.feeds_state_path.read_text())[site.url("/feeds/atom.xml")]
    site.down = False
    second = await poller.poll()
    assert [(o.status, o.path) for o in second.feeds[0].outcomes] == [("added", "web/127.0.0.1/market.txt")]


async def test_a_broken_feed_is_reported_and_the_others_still_polled(tmp_path, corpus_dir, site) -> None:
    poller = make_poller(tmp_path, corpus_dir, site, "/news/harbour.html", "/feeds/nowhere.xml", "/feeds/atom.xml")
    report = await poller.poll()
    assert [f.status for f in report.feeds] == ["failed", "failed", "ok"]
    assert report.feeds[0].error == "not an RSS or Atom feed (content type text/html)"
    assert report.feeds[1].error == "the server answered 404 Not Found"
    state = json.loads(poller.settings.feeds_state_path.read_text())
    rows = dict(feed_status(state, poller.urls))
    assert list(rows)[:2] == [site.url("/news/harbour.html"), site.url("/feeds/nowhere.xml")]  # failing first
    assert rows["Aldmere Today"].startswith("fetched ") and rows["Aldmere Today"].endswith(": 2 added")
    assert "failed " in rows[site.url("/feeds/nowhere.xml")] and "404" in rows[site.url("/feeds/nowhere.xml")]
    assert not any(p.is_dir() for p in (corpus_dir / STAGING).iterdir())


def test_feed_status_before_any_poll() -> None:
    assert feed_status({}, ["https://news.example/rss"]) == [("https://news.example/rss", "not fetched yet")]


def test_feed_and_fetch_settings_are_checked_at_start(tmp_path) -> None:
    from bot.settings import SettingsError, load_settings

    config = tmp_path / "config" / "settings.toml"
    config.parent.mkdir()
    config.write_text('[feeds]\nurls = ["file:///etc/passwd"]\n[fetch]\nmax_redirects = 50\n', encoding="utf-8")
    with pytest.raises(SettingsError) as exc:
        load_settings(config)
    assert "feeds.urls" in str(exc.value) and "must start with http:// or https://" in str(exc.value)
    assert "fetch.max_redirects" in str(exc.value)
