"""`python -m bot timeline`: dated events from the articles, merged across sources."""

from __future__ import annotations

import argparse
import json
import sys

from bot.settings import Settings
from index.timeline import TimelineError, format_events, parse_iso, select_events


def date_arg(value: str) -> str:
    """An argparse type: YYYY, YYYY-MM or YYYY-MM-DD, refused with a clear message otherwise."""
    try:
        return parse_iso(value).value
    except TimelineError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(sub: argparse._SubParsersAction) -> None:
    tl = sub.add_parser("timeline", help="dated events from the articles, merged across sources")
    tl.add_argument("--from", dest="date_from", type=date_arg, metavar="DATE",
                    help="only events overlapping this date or later (YYYY, YYYY-MM or YYYY-MM-DD)")
    tl.add_argument("--to", dest="date_to", type=date_arg, metavar="DATE",
                    help="only events overlapping this date or earlier (YYYY, YYYY-MM or YYYY-MM-DD)")
    tl.add_argument("--query", metavar="TEXT", help="only events about this (matched by words)")
    tl.add_argument("--json", action="store_true", help='print {"events": [...]} as JSON')
    tl.set_defaults(func=cmd_timeline)


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import EXIT_USAGE, _ready_service, printable  # bot.cli imports this module: import it back late

    try:
        select_events(None, args.date_from, args.date_to, args.query)  # refuse a bad range before building
        events = _ready_service(settings).timeline_sync(args.date_from, args.date_to, args.query)
    except TimelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps({"events": events}, ensure_ascii=False, indent=1) if args.json
          else format_events(_printable(events, printable)))
    return 0


def _printable(events: list[dict], printable) -> list[dict]:
    """The events with the corpus's text (a line break or terminal escape in a sentence or file name) made
    safe to print one event per line."""
    def tidy(key: str, value):
        if not isinstance(value, str):
            return value
        return printable(value if key == "source" else " ".join(value.split()))  # a file name is shown as it is

    return [{k: ([{ck: tidy(ck, cv) for ck, cv in c.items()} for c in v] if k == "citations" else tidy(k, v))
             for k, v in ev.items()} for ev in events]
