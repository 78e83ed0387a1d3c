"""Timeline: dated events found in the articles, merged across sources, each with verbatim citations.

Extraction is rule-based. Every temporal expression in an article's sentences is found (`expressions`) and
normalised (`resolve`) to a `When` (`dates`): an inclusive interval of days plus the granularity the text
supports (day, month, season, year, or approximate). Mentions of the same event are merged (`events`), and
the stored timeline is filtered for a request (`select`).

The stored form (`build_timeline`, whose events also keep their words and whole clause for `--query` and
`date_for`) and the filtered output (`select_events`) are plain JSON. An event is
``{"date", "granularity", "label", "text", "citations": [{"source", "text", "start", "end"}], "start", "end"}``
plus ``"note"`` when sources disagree. `date` is YYYY, YYYY-MM or YYYY-MM-DD (for a season, its first month);
`start` and `end` are the inclusive interval as YYYY-MM-DD; `label` is how a person reads the date.
An event's `text` is the clause that reports it, at most EVENT_CHARS characters: an opening phrase without the
date is dropped when a clause of its own follows, and a longer text is cut at its last clause boundary past
half the limit (else at a word), with an ellipsis.
"""

from index.timeline.dates import TimelineError, When, parse_iso
from index.timeline.events import TIMELINE_VERSION, build_timeline
from index.timeline.resolve import Mention, extract_mentions
from index.timeline.select import date_for, select_events
from index.timeline.text import EVENT_CHARS, context_terms, trim_text

__all__ = ["EVENT_CHARS", "TIMELINE_VERSION", "Mention", "TimelineError", "When", "build_timeline", "context_terms",
           "date_for", "extract_mentions", "parse_iso", "select_events", "trim_text"]
