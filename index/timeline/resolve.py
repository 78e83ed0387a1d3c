"""Resolving temporal expressions to dates, one small function per form.

Relative expressions ("last July", "on Thursday", "last summer") resolve against the article's publication
date (its `Anchor`); when that date is coarse (a year or a month) an expression is resolved against both ends
of it and, where the two answers differ, becomes an approximate interval covering both. Without a
publication date, relative expressions are not resolved at all (never against today's date); absolute ones
("in 2011") still are. "The following year" counts from the date mentioned last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from corpus.models import Article
from corpus.text import sentence_spans
from index.timeline.dates import (APPROXIMATE, DAY, MONTHS, WEEKDAYS, YEAR, Anchor, Date, When, anchor_of,
                                  approximately, in_month, in_season, in_year, on_day, spanning)
from index.timeline.expressions import APPROX_BEFORE, FUTURE, Expression, find_expressions
from index.timeline.text import clause_span


@dataclass(frozen=True)
class Mention:
    """A temporal expression in an article: where it is, what it says, and what it normalises to."""

    article_id: str
    start: int
    end: int
    when: When
    sentence: tuple[int, int]


def extract_mentions(article: Article) -> list[Mention]:
    """The resolved temporal expressions in an article's prose, in text order."""
    anchor = anchor_of(article)
    text = article.text
    mentions: list[Mention] = []
    narrative: When | None = None  # the date last mentioned, which "the following year" counts from
    for s, e in sentence_spans(text, article.body_start):
        for form, m in find_expressions(text, s, e):
            a, b = clause_span(text, s, e, m.start())
            approx = bool(APPROX_BEFORE.search(text[max(s, m.start() - 20):m.start()]))
            expression = Expression(form, m, bool(FUTURE.search(text[a:b])) and form != "unit", approx)
            if expression.cue == "following":
                expression = Expression(form, m, True, approx)
                when = resolve(expression, Anchor(narrative) if narrative else None)
            else:
                when = resolve(expression, anchor)
            if when is not None:
                mentions.append(Mention(article.id, m.start(), m.end(), when, (s, e)))
                narrative = when
    return mentions


def resolve(expression: Expression, anchor: Anchor | None) -> When | None:
    """The date an expression states, read against the anchor; None when it cannot be worked out."""
    return _RESOLVERS[expression.form](expression, anchor)


def _each_end(anchor: Anchor, fn: Callable[[Date], When | None]) -> When | None:
    """Resolve against both ends of the anchor; differing answers become an approximate span."""
    a, b = (fn(d) for d in anchor.ends)
    if a is None or b is None:
        return a or b
    return spanning(a, b)


def _month_index(d: Date) -> int:
    return d.year * 12 + d.month - 1


def _month_year(m: int, d: int | None, ref: Date, future: bool) -> int:
    """The year of a month (and day) named without one: the latest not after the reference, or next if future."""
    here = (ref.month, ref.day if d is not None else 0)
    there = (m, d if d is not None else 0)
    if future:
        return ref.year if there >= here else ref.year + 1
    return ref.year if there <= here or (d is None and m == ref.month) else ref.year - 1


def _month_of(x: Expression) -> int:
    return MONTHS[x.group("month").rstrip(".").lower()]


def _iso(x: Expression, anchor: Anchor | None) -> When | None:
    """2024-07-18."""
    try:
        return on_day(Date(x.year, int(x.group("mon")), int(x.group("day"))))
    except ValueError:
        return None


def _day_of_month(x: Expression, anchor: Anchor | None) -> When | None:
    """18 July 2024, July 18, 2024; without a year ("on 7 July"), the one the publication date implies."""
    mon, day = _month_of(x), int(x.group("day"))
    if x.year is not None:
        try:
            return on_day(Date(x.year, mon, day))
        except ValueError:
            return None
    if anchor is None:
        return None
    if anchor.when.granularity == YEAR:  # "on 7 July" in an article of 2023: 7 July 2023
        ys = [anchor.when.start.year]
    else:
        ys = [_month_year(mon, day if anchor.when.granularity == DAY else None, d, x.future) for d in anchor.ends]
    try:
        whens = [on_day(Date(y, mon, day)) for y in ys]
    except ValueError:
        return None
    return spanning(whens[0], whens[-1])


def _month_and_year(x: Expression, anchor: Anchor | None) -> When | None:
    """July 2024, mid-July 2023."""
    return in_month(x.year, _month_of(x), x.mod)


def _month(x: Expression, anchor: Anchor | None) -> When | None:
    """July, last July, in mid-August: the month's year from the cue and the publication date."""
    mon, cue = _month_of(x), x.cue
    if anchor is None:
        return None
    if cue is None and anchor.when.granularity == YEAR:  # "in mid-August" in an article of 2023
        return in_month(anchor.when.start.year, mon, x.mod)

    def month_at(ref: Date) -> When:
        if cue == "last":
            y = ref.year if mon < ref.month else ref.year - 1
        elif cue in ("next", "following"):
            y = ref.year if mon > ref.month else ref.year + 1
        elif cue == "this":
            y = ref.year
        else:
            y = _month_year(mon, None, ref, x.future)
        return in_month(y, mon, x.mod)

    return _each_end(anchor, month_at)


def _season(x: Expression, anchor: Anchor | None) -> When | None:
    """Summer 2024, last summer, in early autumn."""
    season, cue = x.group("season").lower(), x.cue
    if x.year is not None:
        return in_season(x.year, season, x.mod)
    if anchor is None:
        return None

    def season_at(ref: Date) -> When:
        here = _month_index(ref)
        options = [in_season(y, season) for y in range(ref.year - 2, ref.year + 3)]
        if cue == "last":  # the latest one already over
            pick = [s for s in options if _month_index(s.end) < here][-1]
        elif cue in ("next", "following") or (cue is None and x.future):
            pick = [s for s in options if _month_index(s.start) > here][0]
        elif cue == "this":  # the one of the publication year (winter: the one under way in Jan/Feb)
            pick = [s for s in options if s.start <= ref <= s.end or s.start.year == ref.year][0]
        else:  # "in early autumn": the latest one begun by then
            pick = [s for s in options if _month_index(s.start) <= here][-1]
        return in_season(pick.start.year, season, x.mod)

    return _each_end(anchor, season_at)


def _year_with_modifier(x: Expression, anchor: Anchor | None) -> When | None:
    """Early 2026, mid-2025."""
    return in_year(x.year, x.mod)


def _year(x: Expression, anchor: Anchor | None) -> When | None:
    """2011; "around 1997" is approximate."""
    exact = in_year(x.year)
    return approximately(exact.start, exact.end, exact) if x.approx else exact


def _unit(x: Expression, anchor: Anchor | None) -> When | None:
    """Last year, next month, this week: counted from the publication date."""
    if anchor is None:
        return None
    unit = x.group("unit").lower()
    step = {"last": -1, "this": 0, "next": 1, "following": 1}.get(x.cue, 0)
    if unit == "year":
        return _each_end(anchor, lambda ref: in_year(ref.year + step))
    if unit == "month":
        if anchor.when.granularity == YEAR:
            return approximately(anchor.when.start, anchor.when.end, anchor.when)

        def month_at(ref: Date) -> When:
            i = _month_index(ref) + step
            return in_month(i // 12, i % 12 + 1)

        return _each_end(anchor, month_at)
    # weeks: only a day-precise publication date pins them down
    if anchor.when.granularity != DAY:
        return approximately(anchor.when.start, anchor.when.end, anchor.when)
    monday = anchor.when.start - dt.timedelta(days=anchor.when.start.weekday()) + dt.timedelta(weeks=step)
    sunday = monday + dt.timedelta(days=6)
    return When(monday, sunday, APPROXIMATE, monday.isoformat(), f"week of {on_day(monday).label}")


def _deictic(x: Expression, anchor: Anchor | None) -> When | None:
    """Today, yesterday, tomorrow."""
    if anchor is None:
        return None
    shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[x.group("word").lower()]
    if anchor.when.granularity == DAY:
        return on_day(anchor.when.start + dt.timedelta(days=shift))
    return approximately(anchor.when.start + dt.timedelta(days=min(shift, 0)),
                         anchor.when.end + dt.timedelta(days=max(shift, 0)), anchor.when)


def _weekday(x: Expression, anchor: Anchor | None) -> When | None:
    """On Thursday, last Monday: a day only when the publication date is one."""
    if anchor is None:
        return None
    wd = WEEKDAYS[x.group("weekday").lower()]
    forward = x.cue == "next" or (x.cue is None and x.future)
    if anchor.when.granularity != DAY:  # some such weekday near the publication date
        if forward:
            return approximately(anchor.when.start, anchor.when.end + dt.timedelta(days=6), anchor.when)
        return approximately(anchor.when.start - dt.timedelta(days=6), anchor.when.end, anchor.when)
    ref = anchor.when.start
    if forward:
        delta = (wd - ref.weekday()) % 7 or 7
    else:  # the publication weekday itself usually means that very day, unless "last Thursday"
        delta = -((ref.weekday() - wd) % 7)
        if x.cue == "last" and delta == 0:
            delta = -7
    return on_day(ref + dt.timedelta(days=delta))


_RESOLVERS: dict[str, Callable[[Expression, Anchor | None], When | None]] = {
    "iso": _iso, "dmy": _day_of_month, "mdy": _day_of_month, "my": _month_and_year, "month": _month,
    "season": _season, "year_mod": _year_with_modifier, "year": _year, "unit": _unit, "deictic": _deictic,
    "weekday": _weekday,
}
