"""RSS and Atom feeds: fetched conditionally (ETag / Last-Modified), their new items' pages added.

What each feed returned last lives in ``<data dir>/feeds.json``: its validators, when it was last fetched,
what came of it (or why it failed), and the items already looked at with their update stamps. An item seen
before whose stamp has not changed is not fetched again; one whose stamp changed is fetched, and its
stored article updated if the page's text changed. A new item whose address is already stored (added by
hand, or in another feed) is skipped without fetching it. Items that failed for a passing reason (network,
busy server) are tried again at the next poll.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import feedparser

from bot.fetch import FetchError, Fetcher
from bot.ingest import AddProgress, AddReport, Ingestor, Outcome, Source

log = logging.getLogger(__name__)

MAX_REMEMBERED = 1000  # items remembered per feed (the newest)


@dataclass(frozen=True)
class FeedResult:
    """One feed in one poll: 'ok', 'not modified' or 'failed' (with the reason), and its items' outcomes."""

    url: str
    status: str
    title: str | None = None
    error: str | None = None
    entries: int = 0
    outcomes: tuple[Outcome, ...] = ()

    def summary(self) -> str:
        if self.status == "failed":
            return f"failed: {self.error}"
        if self.status == "not modified":
            return "not modified"
        counts = {s: sum(1 for o in self.outcomes if o.status == s) for s in ("added", "updated", "skipped",
                                                                              "refused", "failed")}
        seen = self.entries - len(self.outcomes)
        parts = [f"{n} {s}" for s, n in counts.items() if n] + ([f"{seen} seen before"] if seen else [])
        return ", ".join(parts) or "no items"


@dataclass(frozen=True)
class PollReport:
    feeds: tuple[FeedResult, ...]
    add: AddReport | None = None


class FeedState:
    """The feeds' state file: read whole, written whole and atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("%s cannot be read (%s); starting the feeds afresh", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


class FeedPoller:
    """Polls the feeds in the settings and adds their new items through the ingestor."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.settings = ingestor.settings
        self.state = FeedState(self.settings.feeds_state_path)
        self._lock = asyncio.Lock()

    @property
    def polling(self) -> bool:
        return self._lock.locked()

    @property
    def urls(self) -> list[str]:
        return list(dict.fromkeys(self.settings.feeds.urls))

    async def poll(self, progress: AddProgress | None = None) -> PollReport:
        """Fetch every feed once and add what is new or changed; never raises for one bad feed."""
        async with self._lock:
            state = await asyncio.to_thread(self.state.load)
            async with Fetcher(self.settings.fetch, self.ingestor.politeness, self.ingestor.sleep) as fetcher:
                fetched = await asyncio.gather(*(self._fetch(fetcher, url, state.setdefault(url, {}))
                                                 for url in self.urls))
            sources: list[Source] = []
            owners: list[tuple[str, str, str]] = []
            for url, (result, entries) in zip(self.urls, fetched):
                items = state[url].setdefault("items", {})
                for key, stamp, source in entries:
                    if items.get(key) == stamp:
                        continue
                    sources.append(source if key in items else Source(source.ref, False, source.title,
                                                                        source.author, source.published))
                    owners.append((url, key, stamp))
            add = await self.ingestor.add(sources, progress) if sources else None
            by_feed: dict[str, list[Outcome]] = {url: [] for url in self.urls}
            for (url, key, stamp), outcome in zip(owners, add.outcomes if add else ()):
                by_feed[url].append(outcome)
                if outcome.status == "failed" and outcome.transient:
                    state[url]["etag"] = state[url]["last_modified"] = None  # fetch it whole next time, to retry
                else:
                    state[url]["items"][key] = stamp
            results = []
            now = _now()
            for url, (result, entries) in zip(self.urls, fetched):
                result = FeedResult(url, result.status, result.title, result.error, len(entries),
                                    tuple(by_feed[url]))
                results.append(result)
                _record(state[url], result, now)
            await asyncio.to_thread(self.state.save, state)
            for r in results:
                log.info("feed %s: %s", r.url, r.summary())
            return PollReport(tuple(results), add)

    async def _fetch(self, fetcher: Fetcher, url: str, st: dict) -> tuple[FeedResult, list[tuple[str, str, Source]]]:
        """The feed's result so far and its entries as (key, update stamp, source), newest first."""
        try:
            got = await fetcher.feed(url, st.get("etag"), st.get("last_modified"))
        except FetchError as exc:
            return FeedResult(url, "failed", st.get("title"), str(exc)), []
        if got.not_modified:
            return FeedResult(url, "not modified", st.get("title")), []
        parsed = await asyncio.to_thread(feedparser.parse, got.body, response_headers={
            "content-location": got.url, "content-type": got.content_type or "application/xml"})
        if not parsed.entries and parsed.get("bozo"):
            problem = parsed.get("bozo_exception")
            return FeedResult(url, "failed", st.get("title"), f"not a valid RSS or Atom feed ({problem})"), []
        st["etag"], st["last_modified"] = got.etag, got.last_modified
        title = parsed.feed.get("title") or None
        entries = []
        for entry in parsed.entries[: self.settings.feeds.max_items]:
            link = entry.get("link")
            if not link:
                continue
            key = entry.get("id") or link
            # dict.get: feedparser's own get() maps a missing 'updated' to 'published' with a warning
            stamp = dict.get(entry, "updated") or dict.get(entry, "published") or ""
            entries.append((key, stamp, Source(urljoin(got.url, link), True, entry.get("title"),
                                               entry.get("author"), _date(entry))))
        return FeedResult(url, "ok", title), entries


def _date(entry) -> str | None:
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return None
    return time.strftime("%Y-%m-%d", time.gmtime(calendar.timegm(parsed)))


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def _record(st: dict, result: FeedResult, now: str) -> None:
    st["checked"] = now
    if result.title:
        st["title"] = result.title
    if result.status == "failed":
        st["error"] = result.error
    else:
        st["ok"] = now
        st["error"] = None
        st["result"] = result.summary()
    st["problems"] = [f"{o.source}: {o.reason}" for o in result.outcomes if o.status in ("failed", "refused")][:5]
    items = st.get("items", {})
    if len(items) > MAX_REMEMBERED:
        st["items"] = dict(list(items.items())[-MAX_REMEMBERED:])


def feed_status(state: dict[str, dict], urls: Sequence[str]) -> list[tuple[str, str]]:
    """(feed, what happened last) for each configured feed, failing ones first, for /status."""
    rows = []
    for url in urls:
        st = state.get(url) or {}
        name = st.get("title") or url
        if not st.get("checked"):
            rows.append((0, name, "not fetched yet"))
        elif st.get("error"):
            last_ok = f"; last success {st['ok']}" if st.get("ok") else ""
            rows.append((-1, name, f"failed {st['checked']}: {st['error']}{last_ok}"))
        else:
            problems = "; ".join(st.get("problems") or [])
            rows.append((1, name, f"fetched {st['checked']}: {st.get('result', 'ok')}"
                                  + (f" (not added: {problems})" if problems else "")))
    return [(name, text) for _, name, text in sorted(rows, key=lambda r: r[0])]
