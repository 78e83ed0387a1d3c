"""Choosing events: by dates and query words (`select_events`), and the one a quoted sentence dates (`date_for`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from corpus.text import terms
from index.timeline.dates import Date, TimelineError, parse_iso
from index.timeline.text import query_terms

# An answer's date is shown only for an event whose clause holds this share of the question's term weight.
ASKED_SHARE = 0.5
# Words of a "when" question that ask for the date ("On what date ...", "In which year ...") and so never
# name the event it asks about.
_WHEN_WORDS = frozenset(terms("date day month year time"))


def select_events(timeline: dict | None, date_from: str | None = None, date_to: str | None = None,
                  query: str | None = None) -> list[dict]:
    """The events overlapping [date_from, date_to] (YYYY, YYYY-MM or YYYY-MM-DD) and relevant to `query`."""
    lo = parse_iso(date_from).start if date_from else None
    hi = parse_iso(date_to).end if date_to else None
    if lo and hi and lo > hi:
        raise TimelineError(f"--from {date_from} is after --to {date_to}")
    wanted: set[str] = set()
    if query is not None and query.strip():
        wanted = set(query_terms(query))
        if not wanted:
            raise TimelineError(f"the query {query!r} has no words to look for")
    events = (timeline or {}).get("events", [])
    weight = _query_weights(events, wanted)
    out = []
    for ev in events:
        if lo and Date.fromisoformat(ev["end"]) < lo or hi and Date.fromisoformat(ev["start"]) > hi:
            continue
        if wanted and not _relevant(ev, weight):
            continue
        out.append({k: v for k, v in ev.items() if k not in _STORED_ONLY})
    return out


_STORED_ONLY = ("terms", "clause")  # kept in the index for matching; not part of an event as shown


def _event_terms(ev: dict) -> set[str]:
    return set(ev.get("terms") or query_terms(ev["text"]))


def _query_weights(events: Sequence[dict], wanted: set[str]) -> dict[str, float]:
    """Query word -> weight: words found in few events count more ('joined' over 'Lithuania')."""
    sets = [_event_terms(ev) for ev in events]
    return {t: math.log(1 + len(sets) / max(1, sum(t in s for s in sets))) for t in wanted}


def _held(weight: Mapping[str, float], have: set[str]) -> float:
    """How much of the query's term weight the terms `have` hold."""
    return sum(w for t, w in weight.items() if t in have)


def _relevant(ev: dict, weight: dict[str, float]) -> bool:
    """The event's reports hold at least half of the query's weight."""
    return _held(weight, _event_terms(ev)) >= 0.5 * sum(weight.values()) > 0


def date_for(timeline: dict | None, source: str, start: int, end: int,
             question_weights: Mapping[str, float]) -> str | None:
    """The label of the event whose date the sentence article[start:end] states, if exactly one fits and it
    is the event the question asks about.

    An event counts when the sentence that states its date is this one (a date stated in a neighbouring
    sentence dates another event), and when its terms (the clauses that state it, in every article) hold at
    least ASKED_SHARE of the question's term weight, words asking for the date aside ("When did Estonia
    leave?" is not dated by "..., which was established in 2008"). Where the sentence states several, the
    one whose own clause holds most of it wins; a tie gives no date rather than a guess.
    """
    if not timeline:
        return None
    asked = {t: w for t, w in question_weights.items() if t not in _WHEN_WORDS}
    total = sum(asked.values())
    if total <= 0:
        return None
    scored = []
    for ev in timeline.get("events", []):
        if any(c["source"] == source and start < c["end"] <= end for c in ev.get("citations", [])):
            clause = set(terms(ev.get("clause") or ev.get("text", "")))
            if _held(asked, clause | set(ev.get("terms") or ())) >= ASKED_SHARE * total:
                scored.append((round(_held(asked, clause), 6), ev["label"]))
    if not scored:
        return None
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0] and scored[0][1] != scored[1][1]:
        return None
    return scored[0][1]
