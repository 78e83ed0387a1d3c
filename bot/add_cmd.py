"""`python -m bot add URL|FILE.html ...` and `python -m bot feeds [--once]`: bring in articles from the web."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import asdict

from bot.feeds import FeedPoller, PollReport
from bot.ingest import AddReport, Ingestor, outcome_lines
from bot.settings import Settings, SettingsError
from bot.terminal import format_build, open_service


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the `add` and `feeds` commands through the CLI's `command(name, summary, description)` helper."""
    add = command("add", "fetch web pages or read .html files, store their articles, index them",
                  "Each page's main text and metadata (title, author, date, outlet, canonical URL, language) are\n"
                  "extracted and stored as a .txt article with a .meta.toml sidecar in the articles folder, then\n"
                  "indexed. A page already stored (same URL or same text) is skipped; a changed one is updated.")
    add.add_argument("sources", nargs="+", metavar="URL|FILE", help="http(s) address or .html file")
    add.add_argument("--json", action="store_true", help="print the outcome of each as JSON")
    add.set_defaults(func=cmd_add)

    feeds = command("feeds", "poll the RSS/Atom feeds in [feeds] and add their new items",
                    "Fetches each feed in feeds.urls (with ETag / Last-Modified, so an unchanged feed costs one\n"
                    "request), adds the pages of new items as `add` does, and indexes them.")
    feeds.add_argument("--once", action="store_true", help="poll once and exit (for cron); default: every "
                       "feeds.interval_minutes until stopped")
    feeds.add_argument("--json", action="store_true", help="print each poll's outcome as JSON")
    feeds.set_defaults(func=cmd_feeds)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    ingestor = Ingestor(open_service(settings))
    with _Bars() as bars:
        report = asyncio.run(ingestor.add(args.sources, bars.update))
    print(json.dumps(report_json(report), ensure_ascii=False, indent=1) if args.json else format_add(report))
    return 1 if report.count("failed") or report.count("refused") else 0


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.feeds.urls:
        raise SettingsError("no feeds to poll: list their addresses in [feeds] urls in the settings "
                            "(or CITEBOT_FEEDS__URLS='[\"https://...\"]')")
    poller = FeedPoller(Ingestor(open_service(settings)))

    async def run() -> int:
        while True:
            with _Bars() as bars:
                report = await poller.poll(bars.update)
            if args.json:
                print(json.dumps(poll_json(report), ensure_ascii=False, indent=1), flush=True)
            else:
                print(format_poll(report), flush=True)
            if args.once:
                return 1 if any(f.status == "failed" for f in report.feeds) else 0
            await asyncio.sleep(settings.feeds.interval_minutes * 60)

    return asyncio.run(run())


def format_add(report: AddReport) -> str:
    lines = [line for o in report.outcomes for line in outcome_lines(o)]
    if report.build is not None:
        lines.append(format_build(report.build))
    lines.append(f"Done: {report.summary()}.")
    return "\n".join(lines)


def format_poll(report: PollReport) -> str:
    lines = []
    for f in report.feeds:
        lines.append(f"feed {f.url}{f' ({f.title})' if f.title else ''}: {f.summary()}")
        lines += [f"  {line}" for o in f.outcomes for line in outcome_lines(o)]
    if report.add is not None and report.add.build is not None:
        lines.append(format_build(report.add.build))
    return "\n".join(lines)


def report_json(report: AddReport) -> dict:
    return {"outcomes": [_outcome_json(o) for o in report.outcomes],
            "index": report.build.as_dict() if report.build else None}


def poll_json(report: PollReport) -> dict:
    return {"feeds": [{"url": f.url, "title": f.title, "status": f.status, "error": f.error, "entries": f.entries,
                       "outcomes": [_outcome_json(o) for o in f.outcomes]} for f in report.feeds],
            "index": report.add.build.as_dict() if report.add and report.add.build else None}


def _outcome_json(o) -> dict:
    d = asdict(o)
    d["meta"] = {k: v for k, v in (d["meta"] or {}).items() if v not in (None, False)}
    d["missing"] = list(o.missing)
    return d


class _Bars:
    """Progress on stderr: a bar for the pages fetched, then one for the texts embedded."""

    def __init__(self) -> None:
        self.bars: dict[str, object] = {}

    def __enter__(self) -> _Bars:
        return self

    def update(self, stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        bar = self.bars.get(stage)
        if bar is None:
            from tqdm import tqdm

            desc, unit = (("Fetching and extracting", "page") if stage == "fetch"
                          else ("Embedding passages and sentences", "text"))
            bar = self.bars[stage] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
        bar.update(done - bar.n)

    def __exit__(self, *exc) -> None:
        for bar in self.bars.values():
            bar.close()
