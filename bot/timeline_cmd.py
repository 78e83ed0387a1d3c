"""`python -m bot timeline`: dated events from the articles, merged across sources."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from bot.settings import Settings
from bot.terminal import format_events, ready_service
from index.timeline import TimelineError, parse_iso, select_events


def date_arg(value: str) -> str:
    """An argparse type: YYYY, YYYY-MM or YYYY-MM-DD, refused with a clear message otherwise."""
    try:
        return parse_iso(value).value
    except TimelineError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the `timeline` command through the CLI's `command(name, summary, description)` helper."""
    tl = command("timeline", "list the dated events the articles report, oldest first",
                 "Events reported by several articles are one line citing all of them. A date is as precise as\n"
                 "the text allows: 'Jul 2024', 'mid-Aug 2023', '≈ 2024' when only roughly known. Coarse dates are\n"
                 "ordered by their interval: by its first day, then by its last (1 Jan 2025, Jan 2025, 2025).")
    tl.add_argument("--from", dest="date_from", type=date_arg, metavar="DATE",
                    help="only events that overlap this date or come later (YYYY, YYYY-MM or YYYY-MM-DD)")
    tl.add_argument("--to", dest="date_to", type=date_arg, metavar="DATE",
                    help="only events that overlap this date or come earlier (YYYY, YYYY-MM or YYYY-MM-DD)")
    tl.add_argument("--query", metavar="WORDS",
                    help="only events about these words; not every word must match: an event matches when its "
                         "reports hold words making up at least half of the query's weight, rarer words weighing "
                         "more (e.g. 'parliament vote')")
    tl.add_argument("--json", action="store_true",
                    help='print {"events": [...]}, each with date, granularity, label, text, start, end and '
                         "citations (source, text, start, end)")
    tl.set_defaults(func=cmd_timeline)


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    select_events(None, args.date_from, args.date_to, args.query)  # refuse a bad range before building anything
    service = ready_service(settings)
    events = service.timeline_sync(args.date_from, args.date_to, args.query)
    if args.json:
        print(json.dumps({"events": events}, ensure_ascii=False, indent=1))
    else:
        titles = {aid: rec.meta.title for aid, rec in service.index.articles.items() if rec.meta.title}
        print(format_events(events, titles))
    return 0
