"""Timeline: dated events found in the articles, merged across sources, each with verbatim citations.

Extraction is rule-based and needs no model. Every temporal expression in an article's sentences is
normalised to a `When`: an inclusive interval of days plus the granularity the text supports (day, month,
season, year, or approximate). Relative expressions ("last July", "on Thursday", "last summer") resolve
against the article's publication date from its metadata; when that date is coarse (a year or a month),
an expression is resolved against both ends of it and, where the two answers differ, becomes an approximate
interval covering both. Without a publication date, relative expressions are not resolved at all (never
against today's date); absolute ones ("in 2011") still are.

Mentions of the same event in several articles (or twice in one) become one event: their dates must be
compatible and the words around the dates must agree, weighted by how rare each word is among all the
date contexts, with a few event verbs folded together (withdrew/withdrawn/exit -> withdraw, approve -> vote).
Where sources give clearly different dates for what reads as the same event, both are kept and the event's
`note` says so.

The stored form (`build_timeline`, whose events also keep their words and whole clause for `--query` and
`date_for`) and the filtered output (`select_events`) are plain JSON. An event is
``{"date", "granularity", "label", "text", "citations": [{"source", "text", "start", "end"}], "start", "end"}``
plus ``"note"`` when sources disagree. `date` is YYYY, YYYY-MM or YYYY-MM-DD (for a season, its first month);
`start` and `end` are the inclusive interval as YYYY-MM-DD; `label` is how a person reads the date.

Events are ordered by their interval, its first day and then its last, so a coarse date comes after the finer
ones it contains that start with it: 1 Jan 2025, Jan 2025, 2025 (on one interval: early, mid-, late, end of).
An event's `text` is the clause that reports it, at most EVENT_CHARS characters: an opening phrase without the
date is dropped when a clause of its own follows, and a longer text is cut at its last clause boundary past
half the limit (else at a word), with an ellipsis.
"""

from __future__ import annotations

import calendar
import itertools
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from corpus.load import valid_date
from corpus.models import Article
from corpus.text import sentence_spans, terms

Date = dt.date

DAY, MONTH, SEASON, YEAR, APPROXIMATE = "day", "month", "season", "year", "approximate"
_GRAN_RANK = {DAY: 0, MONTH: 1, SEASON: 2, YEAR: 3, APPROXIMATE: 4}

# English names written out: calendar.month_name would follow the process locale.
MONTH_NAMES = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]
MONTH_ABBR = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES) if name}
_MONTHS.update({a.lower(): i for i, a in enumerate(MONTH_ABBR) if a})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)}
_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}

EVENT_CHARS = 100  # an event's text: what a reader takes in at a glance beside its date


class TimelineError(ValueError):
    """A bad date or query for the timeline; the message is fit to show a user."""


# -- dates -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class When:
    """A normalised date: an inclusive interval of days, its granularity, ISO-like value and reading."""

    start: Date
    end: Date
    granularity: str
    value: str
    label: str

    def overlaps(self, other: When) -> bool:
        return self.start <= other.end and other.start <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_end(y: int, m: int) -> Date:
    return Date(y, m, calendar.monthrange(y, m)[1])


def _mod_prefix(mod: str | None, month_label: str) -> str:
    if not mod:
        return month_label
    if mod == "mid":
        return f"mid-{month_label}"
    if mod in ("start", "end"):
        return f"{mod} of {month_label}"
    return f"{mod} {month_label}"


def on_day(d: Date) -> When:
    return When(d, d, DAY, d.isoformat(), f"{d.day} {MONTH_ABBR[d.month]} {d.year}")


def in_month(y: int, m: int, mod: str | None = None) -> When:
    """A calendar month; with a modifier (mid, early, late, start, end) it is approximate, not narrowed."""
    label = _mod_prefix(mod, f"{MONTH_ABBR[m]} {y}")
    return When(Date(y, m, 1), _month_end(y, m), APPROXIMATE if mod else MONTH, f"{y:04d}-{m:02d}", label)


def in_year(y: int, mod: str | None = None) -> When:
    label = f"mid-{y}" if mod == "mid" else _mod_prefix(mod, str(y))
    return When(Date(y, 1, 1), Date(y, 12, 31), APPROXIMATE if mod else YEAR, f"{y:04d}", label)


def in_season(y: int, season: str, mod: str | None = None) -> When:
    """A (northern, meteorological) season; winter Y runs from December Y to February Y+1."""
    season = "autumn" if season == "fall" else season
    m = _SEASON_START[season]
    start = Date(y, m, 1)
    end_y, end_m = (y + 1, 2) if m == 12 else (y, m + 2)
    name = f"{season} {y}–{str(y + 1)[-2:]}" if m == 12 else f"{season} {y}"
    label = _mod_prefix(mod, name)
    return When(start, _month_end(end_y, end_m), SEASON, f"{y:04d}-{m:02d}", label)


def approximately(start: Date, end: Date, around: When) -> When:
    """An interval known only roughly, read as 'about' the given date."""
    return When(start, end, APPROXIMATE, around.value, f"≈ {around.label}")


def _spanning(a: When, b: When) -> When:
    """Two readings that differ: an approximate interval covering both."""
    if a == b:
        return a
    first, last = (a, b) if (a.start, a.end) <= (b.start, b.end) else (b, a)
    label = f"≈ {first.label.removeprefix('≈ ')} – {last.label.removeprefix('≈ ')}"
    return When(min(a.start, b.start), max(a.end, b.end), APPROXIMATE, first.value, label)


def parse_iso(value: str) -> When:
    """YYYY, YYYY-MM or YYYY-MM-DD as a When; raises TimelineError otherwise."""
    value = value.strip()
    if not valid_date(value):
        raise TimelineError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD "
                            "(e.g. 2024, 2024-07, 2024-07-18)")
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return on_day(Date(*parts))
    if len(parts) == 2:
        return in_month(*parts)
    return in_year(parts[0])


@dataclass(frozen=True)
class Anchor:
    """The publication date an article's relative expressions resolve against."""

    when: When
    inferred: bool = False

    @property
    def ends(self) -> tuple[Date, Date]:
        return self.when.start, self.when.end


def anchor_of(article: Article) -> Anchor | None:
    published = article.meta.published
    if not published or not valid_date(published):
        return None
    return Anchor(parse_iso(published), article.meta.published_inferred)


# -- finding temporal expressions ------------------------------------------------------------------------

_MONTH_RE = (r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December"
             r"|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)(?![\w-])")
_MOD_RE = (r"(?P<mod>(?i:mid-|mid\s+|(?:the\s+)?middle\s+of\s+(?:the\s+)?|early\s+|late\s+|"
           r"(?:the\s+)?(?:end|beginning|start)\s+of\s+(?:the\s+)?))")
_CUE_RE = r"(?P<cue>(?i:(?:the\s+)?(?:last|next|this|previous|following|coming))\s+)"
_YEAR_RE = r"(?P<year>1[89]\d\d|20\d\d)(?![\w%])"  # not "1990s", "2000m", "2011%"
_DAYNUM = r"(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
# Words before a bare year or a bare month name that make it a date rather than a number or a verb.
_DATE_CUE_BEFORE = re.compile(
    r"(?i:\b(?:in|since|by|until|till|from|to|through|throughout|during|of|on|before|after|around|about|circa|"
    r"between|and|or|the|year|early|late|mid|at|for|as|than|last|next|this|previous|following|coming))[\s-]+$")
# "May" and "March" are also a verb, a modal and a name: only these words before them make them months.
_STRONG_CUE_BEFORE = re.compile(
    r"(?i:\b(?:in|since|by|until|till|from|during|before|after|of|early|late|mid|last|next|this|through))[\s-]+$")
_NOT_YEAR_AFTER = re.compile(r"\s*(?i:million|billion|thousand|bn|m\b|per\s*cent|percent|%|people|troops|"
                             r"soldiers|km|kilomet|miles|metres|meters|tonnes|tons|dollars|euros)")
_APPROX_BEFORE = re.compile(r"(?i:\b(?:around|about|circa|approximately|roughly|c\.))\s+$")
_FUTURE = re.compile(r"(?i:\b(?:will|shall|'ll|next|upcoming|coming|scheduled|due\s+to|plans?\s+to|planned|"
                     r"is\s+to|are\s+to|expected\s+to)\b)")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})\b")),
    ("dmy", re.compile(rf"\b{_DAYNUM}(?:\s+of)?\s+{_MONTH_RE}(?:,?\s+{_YEAR_RE})?")),
    ("mdy", re.compile(rf"\b{_MONTH_RE}\s+{_DAYNUM}(?![\d:])(?:,?\s+{_YEAR_RE})?")),
    ("my", re.compile(rf"(?:{_MOD_RE})?{_MONTH_RE},?\s+(?:of\s+)?{_YEAR_RE}")),
    ("month", re.compile(rf"(?:{_CUE_RE})?(?:{_MOD_RE})?{_MONTH_RE}")),
    ("season", re.compile(rf"(?:{_CUE_RE})?(?:{_MOD_RE})?(?P<season>(?i:spring|summer|autumn|fall|winter))\b"
                          rf"(?:\s+(?:of\s+)?{_YEAR_RE})?")),
    ("year_mod", re.compile(rf"{_MOD_RE}\s*{_YEAR_RE}")),
    ("year", re.compile(rf"(?<![\d$€£¥.,/-]){_YEAR_RE}(?!,\d|\.\d)")),
    ("unit", re.compile(r"\b(?P<cue>(?i:(?:the\s+)?(?:last|next|this|previous|following)))\s+"
                        r"(?P<unit>(?i:year|month|week))\b")),
    ("deictic", re.compile(r"\b(?P<word>(?i:today|yesterday|tomorrow))\b")),
    ("weekday", re.compile(r"(?:\b(?P<cue>(?i:last|next|this|on|on\s+last|on\s+next))\s+)?"
                           r"(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?![\w'’])")),
]


@dataclass(frozen=True)
class Mention:
    """A temporal expression in an article: where it is, what it says, and what it normalises to."""

    article_id: str
    start: int
    end: int
    surface: str
    when: When
    sentence: tuple[int, int]


def _norm_mod(mod: str | None) -> str | None:
    if not mod:
        return None
    m = " ".join(mod.lower().replace("-", " ").split())
    for key, value in (("mid", "mid"), ("middle", "mid"), ("early", "early"), ("late", "late"),
                       ("beginning", "start"), ("start", "start"), ("end", "end")):
        if key in m.split():
            return value
    return None


def _norm_cue(cue: str | None) -> str | None:
    if not cue:
        return None
    c = cue.lower().split()[-1]
    return {"previous": "last", "coming": "next", "following": "following", "on": None}.get(c, c)


def find_expressions(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, re.Match[str]]]:
    """Candidate temporal expressions in text[start:end], longest first where they overlap, in text order."""
    end = len(text) if end is None else end
    found: list[tuple[str, re.Match[str]]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text, start, end):
            if _plausible(kind, m, text):
                found.append((kind, m))
    found.sort(key=lambda km: (-(km[1].end() - km[1].start()), km[1].start()))
    taken: list[tuple[str, re.Match[str]]] = []
    for kind, m in found:
        if all(m.end() <= t.start() or m.start() >= t.end() for _, t in taken):
            taken.append((kind, m))
    return sorted(taken, key=lambda km: km[1].start())


def _plausible(kind: str, m: re.Match[str], text: str) -> bool:
    before = text[max(0, m.start() - 30):m.start()]
    after = text[m.end():m.end() + 20]
    if kind == "month":
        # A bare month name is a date after a cue word or with a modifier ("May" and "March" are words too).
        if m.group("cue") or m.group("mod"):
            return True
        if m.group("month") in ("May", "March", "Mar", "Mar."):
            return bool(_STRONG_CUE_BEFORE.search(before))
        return bool(_DATE_CUE_BEFORE.search(before))
    if kind == "season":
        if m.group("cue") or m.group("mod") or m.group("year"):
            return True
        return m.group("season").lower() != "fall" and bool(_DATE_CUE_BEFORE.search(before))
    if kind == "year":
        if _NOT_YEAR_AFTER.match(after):
            return False
        # "in 2011", "2011." and "the 1997 Convention" are years; "2000 people" is a number.
        nxt = re.match(r"\s+(\w)", after)
        return bool(_DATE_CUE_BEFORE.search(before)) or not nxt or not nxt.group(1).islower()
    return True


# -- resolving them --------------------------------------------------------------------------------------

def _month_index(d: Date) -> int:
    return d.year * 12 + d.month - 1


def _resolve_each(anchor: Anchor, fn) -> When | None:
    """Resolve against both ends of the publication date; differing answers become an approximate span."""
    a, b = (fn(d) for d in anchor.ends)
    if a is None or b is None:
        return a or b
    return _spanning(a, b)


def _month_year(m: int, d: int | None, ref: Date, future: bool) -> int:
    """The year of a month (and day) named without one: the latest not after the reference, or next if future."""
    here = (ref.month, ref.day if d is not None else 0)
    there = (m, d if d is not None else 0)
    if future:
        return ref.year if there >= here else ref.year + 1
    return ref.year if there <= here or (d is None and m == ref.month) else ref.year - 1


def _season_instances(season: str, around: int) -> list[When]:
    return [in_season(y, season) for y in range(around - 2, around + 3)]


def _resolve(kind: str, m: re.Match[str], anchor: Anchor | None, future: bool, approx: bool) -> When | None:
    g = m.groupdict()
    year = int(g["year"]) if g.get("year") else None
    mod = _norm_mod(g.get("mod"))
    cue = _norm_cue(g.get("cue"))
    if kind == "iso":
        try:
            return on_day(Date(year, int(g["mon"]), int(g["day"])))
        except ValueError:
            return None
    if kind in ("dmy", "mdy"):
        mon, day = _MONTHS[g["month"].rstrip(".").lower()], int(g["day"])
        if year is not None:
            try:
                return on_day(Date(year, mon, day))
            except ValueError:
                return None
        if anchor is None:
            return None
        if anchor.when.granularity == YEAR:  # "on 7 July" in an article of 2023: 7 July 2023
            ys = [anchor.when.start.year]
        else:
            ys = [_month_year(mon, day if anchor.when.granularity == DAY else None, d, future) for d in anchor.ends]
        try:
            whens = [on_day(Date(y, mon, day)) for y in ys]
        except ValueError:
            return None
        return _spanning(whens[0], whens[-1])
    if kind == "my":
        return in_month(year, _MONTHS[g["month"].rstrip(".").lower()], mod)
    if kind == "month":
        mon = _MONTHS[g["month"].rstrip(".").lower()]
        if anchor is None:
            return None
        if cue is None and anchor.when.granularity == YEAR:  # "in mid-August" in an article of 2023
            return in_month(anchor.when.start.year, mon, mod)

        def month_at(ref: Date) -> When:
            if cue == "last":
                y = ref.year if mon < ref.month else ref.year - 1
            elif cue in ("next", "following"):
                y = ref.year if mon > ref.month else ref.year + 1
            elif cue == "this":
                y = ref.year
            else:
                y = _month_year(mon, None, ref, future)
            return in_month(y, mon, mod)

        return _resolve_each(anchor, month_at)
    if kind == "season":
        season = g["season"].lower()
        if year is not None:
            return in_season(year, season, mod)
        if anchor is None:
            return None

        def season_at(ref: Date) -> When:
            here = _month_index(ref)
            options = _season_instances(season, ref.year)
            if cue == "last":  # the latest one already over
                pick = [s for s in options if _month_index(s.end) < here][-1]
            elif cue in ("next", "following") or (cue is None and future):
                pick = [s for s in options if _month_index(s.start) > here][0]
            elif cue == "this":  # the one of the publication year (winter: the one under way in Jan/Feb)
                pick = [s for s in options if s.start <= ref <= s.end or s.start.year == ref.year][0]
            else:  # "in early autumn": the latest one begun by then
                pick = [s for s in options if _month_index(s.start) <= here][-1]
            return in_season(pick.start.year, season, mod)

        return _resolve_each(anchor, season_at)
    if kind == "year_mod":
        return in_year(year, mod)
    if kind == "year":
        exact = in_year(year)
        return approximately(exact.start, exact.end, exact) if approx else exact
    if kind == "unit":
        if anchor is None:
            return None
        unit = g["unit"].lower()
        step = {"last": -1, "this": 0, "next": 1, "following": 1}.get(cue, 0)
        if unit == "year":
            return _resolve_each(anchor, lambda ref: in_year(ref.year + step))
        if unit == "month":
            if anchor.when.granularity == YEAR:
                return approximately(anchor.when.start, anchor.when.end, anchor.when)

            def month_at(ref: Date) -> When:
                i = _month_index(ref) + step
                return in_month(i // 12, i % 12 + 1)

            return _resolve_each(anchor, month_at)
        # weeks: only a day-precise publication date pins them down
        if anchor.when.granularity != DAY:
            return approximately(anchor.when.start, anchor.when.end, anchor.when)
        monday = anchor.when.start - dt.timedelta(days=anchor.when.start.weekday()) + dt.timedelta(weeks=step)
        sunday = monday + dt.timedelta(days=6)
        return When(monday, sunday, APPROXIMATE, monday.isoformat(), f"week of {on_day(monday).label}")
    if kind == "deictic":
        if anchor is None:
            return None
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[g["word"].lower()]
        if anchor.when.granularity == DAY:
            return on_day(anchor.when.start + dt.timedelta(days=shift))
        return approximately(anchor.when.start + dt.timedelta(days=min(shift, 0)),
                             anchor.when.end + dt.timedelta(days=max(shift, 0)), anchor.when)
    if kind == "weekday":
        if anchor is None:
            return None
        wd = _WEEKDAYS[g["weekday"].lower()]
        forward = cue == "next" or (cue is None and future)
        if anchor.when.granularity != DAY:  # some such weekday near the publication date
            if forward:
                return approximately(anchor.when.start, anchor.when.end + dt.timedelta(days=6), anchor.when)
            return approximately(anchor.when.start - dt.timedelta(days=6), anchor.when.end, anchor.when)
        ref = anchor.when.start
        if forward:
            delta = (wd - ref.weekday()) % 7 or 7
        else:  # the publication weekday itself usually means that very day, unless "last Thursday"
            delta = -((ref.weekday() - wd) % 7)
            if cue == "last" and delta == 0:
                delta = -7
        return on_day(ref + dt.timedelta(days=delta))
    return None


def extract_mentions(article: Article) -> list[Mention]:
    """The resolved temporal expressions in an article's prose, in text order."""
    anchor = anchor_of(article)
    text = article.text
    mentions: list[Mention] = []
    narrative: When | None = None  # the date last mentioned, which "the following year" counts from
    for s, e in sentence_spans(text, article.body_start):
        for kind, m in find_expressions(text, s, e):
            clause = _clause_text(text, s, e, m.start())
            future = bool(_FUTURE.search(clause)) and kind not in ("unit",)
            approx = bool(_APPROX_BEFORE.search(text[max(s, m.start() - 20):m.start()]))
            following = _norm_cue(m.groupdict().get("cue")) == "following"
            if following:
                when = _resolve(kind, m, Anchor(narrative) if narrative else None, True, approx)
            else:
                when = _resolve(kind, m, anchor, future, approx)
            if when is not None:
                mentions.append(Mention(article.id, m.start(), m.end(), m.group(), when, (s, e)))
                narrative = when
    return mentions


# -- events ----------------------------------------------------------------------------------------------

_BOUNDARY = re.compile(
    r",\s+(?=(?:when|which|who|whom|whose|while|although|though|but|after\s+which|completing|citing|drawing|"
    r"following|as|and\s+(?=[A-Z]|it\b|the\b|he\b|she\b|they\b))\b)|;\s+|:\s+")
_ANAPHOR = re.compile(r"^(?:This|That|These|Those|It|The\s+move|The\s+decision|The\s+step|Such\s+a\s+\w+)\b")
_LEAD_IN = re.compile(r"^(?:when|and|but|while|after\s+which|meanwhile,?|however,?)\s+", re.IGNORECASE)


def _segments(text: str, s: int, e: int) -> list[tuple[int, int]]:
    cuts = [s] + [s + m.end() for m in _BOUNDARY.finditer(text[s:e])] + [e]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _clause_span(text: str, s: int, e: int, at: int, widen: bool = True) -> tuple[int, int]:
    """The clause of sentence text[s:e] around position `at`, widened until it reads on its own."""
    segs = _segments(text, s, e)
    i = next(k for k, (a, b) in enumerate(segs) if a <= at < b or k == len(segs) - 1)
    a, b = segs[i]
    if not widen:
        return a, b
    lo, hi = i, i
    while len(text[a:b].split()) < 7 and (lo > 0 or hi < len(segs) - 1):
        if lo > 0:  # the subject usually comes before
            lo -= 1
            a = segs[lo][0]
        elif hi < len(segs) - 1:
            hi += 1
            b = segs[hi][1]
    return a, b


def _clause_text(text: str, s: int, e: int, at: int) -> str:
    a, b = _clause_span(text, s, e, at)
    return text[a:b]


def _one_line(raw: str, at: int) -> tuple[str, str]:
    """A clause as one line a reader takes in at a glance (at most EVENT_CHARS), cut only at clause or word
    boundaries, with an ellipsis where it was cut; and the whole clause on one line, for matching words.
    raw[at] is where the date begins."""
    squeeze = lambda t: re.sub(r"\s+", " ", t)  # noqa: E731
    line, at = squeeze(raw), len(squeeze(raw[:at]))
    lead = re.match(r"[\s,;:–—-]*", line).end()
    if len(line.split()) > 8:
        lead_in = _LEAD_IN.match(line, lead)
        lead = lead_in.end() if lead_in and lead_in.end() <= at else lead
    line, at = line[lead:].rstrip(" ,;:–—-."), at - lead
    whole = line
    if len(line) > EVENT_CHARS:
        # An opening phrase that does not hold the date goes first ("In addition to ..., Lithuania's government
        # is ..."), when what follows starts a clause of its own.
        for m in reversed(list(_CLAUSE_CUT.finditer(line, 0, max(at, 0)))):
            rest, dropped = line[m.end():], line[:m.start()]
            inside_quote = dropped.count("“") > dropped.count("”") or dropped.count('"') % 2
            if _CLAUSE_START.match(rest) and len(rest.split()) >= 6 and not inside_quote:
                line = rest
                break
    if line:
        line = line[0].upper() + line[1:]
    return trim_text(line, EVENT_CHARS), whole


_CLAUSE_CUT = re.compile(r"(?:,|;|:|\s[–—])\s+")
_CLAUSE_START = re.compile(r"(?:[A-Z“\"]|(?:the|it|he|she|they|this|that)\b)")


def trim_text(text: str, limit: int) -> str:
    """The text within `limit` characters: cut at the last clause boundary that keeps most of it, else at a
    word, with an ellipsis."""
    if len(text) <= limit:
        return text
    room = text[:limit - 1]
    cuts = [m.start() for m in _CLAUSE_CUT.finditer(room) if m.start() >= limit * 0.5]
    end = cuts[-1] if cuts else room.rfind(" ")
    if end <= 0:
        end = limit - 1
    return text[:end].rstrip(" ,;:–—-(") + "…"


# Event words that different writers use for the same thing, folded together for comparing contexts.
_FOLD = {
    "withdrew": "withdraw", "withdrawn": "withdraw", "withdraw": "withdraw", "withdrawal": "withdraw",
    "exit": "withdraw", "leav": "withdraw", "quit": "withdraw",
    "approv": "vote", "vote": "vote", "pass": "vote", "parliamentari": "parliament", "seima": "parliament",
    "treati": "convent", "convent": "convent", "ban": "convent",
    "acced": "join", "access": "join", "join": "join", "ratifi": "join",
    "adopt": "establish", "establish": "establish", "creat": "establish",
    "suppli": "suppli", "provid": "suppli", "sent": "suppli", "send": "suppli", "deliv": "suppli",
    "deliveri": "suppli", "transfer": "suppli",
    "invas": "war", "invad": "war", "war": "war", "conflict": "war",
    "submit": "notifi", "file": "notifi", "notifi": "notifi", "document": "notifi", "notif": "notifi",
    "effect": "effect", "complet": "effect", "conclud": "effect",
}
_DATE_WORDS = set(terms(" ".join([*MONTH_NAMES[1:], *MONTH_ABBR[1:], *WEEKDAY_NAMES,
                                  "last next previous following coming year month week day today yesterday "
                                  "tomorrow spring summer autumn fall winter early late mid middle end beginning "
                                  "start sept"])))


def context_terms(text: str) -> list[str]:
    """Comparable words of an event's context: folded synonyms, no date words, 'US' kept apart from 'us'."""
    text = re.sub(r"\bU\.?S\.?A?\b|\bUnited\s+States\b|\bAmerica\b", " usa ", text)
    out = []
    for t in terms(text):
        if t in _DATE_WORDS or t.isdigit():
            continue
        out.append(_FOLD.get(t, t))
    return out


@dataclass(frozen=True)
class _Item:
    mention: Mention
    line: str
    whole: str  # the clause before it was cut to `line`: its words match queries and answers
    cite: tuple[int, int]
    context: frozenset[str]
    order: int
    crowded: int  # other dates in the same line: fewer makes a better line for the event


def _items(articles: Sequence[Article]) -> list[_Item]:
    items: list[_Item] = []
    for article in articles:
        text = article.text
        sentences = sentence_spans(text, article.body_start)
        mentions = extract_mentions(article)
        for m in mentions:
            s, e = m.sentence
            a, b = _clause_span(text, s, e, m.start)
            context = text[a:b]
            cite = (s, e)
            k = sentences.index((s, e))
            # "The move, announced on Thursday, ...": the event is named in the sentence before.
            if _clause_span(text, s, e, m.start, widen=False)[0] == s and _ANAPHOR.match(text[s:e]) and k > 0:
                cite = (sentences[k - 1][0], e)
                context = text[sentences[k - 1][0]:sentences[k - 1][1]] + " " + context
            line, whole = _one_line(text[a:b], m.start - a)
            crowded = sum(1 for o in mentions if o is not m and a <= o.start < b)
            items.append(_Item(m, line, whole, cite, frozenset(context_terms(context)), len(items), crowded))
    return items


def _weights(items: Sequence[_Item]) -> dict[str, float]:
    df: dict[str, int] = {}
    for it in items:
        for t in it.context:
            df[t] = df.get(t, 0) + 1
    n = len(items)
    return {t: math.log(1 + n / c) for t, c in df.items()}


def _similarity(a: _Item, b: _Item, w: dict[str, float]) -> float:
    """Overlap of the rarer words of two contexts, relative to the smaller context."""
    shared = sum(w[t] for t in a.context & b.context)
    smaller = min(sum(w[t] for t in a.context), sum(w[t] for t in b.context))
    return shared / smaller if smaller else 0.0


def _dice(a: _Item, b: _Item, w: dict[str, float]) -> float:
    """Overlap relative to both contexts: high only when they say much the same thing."""
    total = sum(w[t] for t in a.context) + sum(w[t] for t in b.context)
    return 2 * sum(w[t] for t in a.context & b.context) / total if total else 0.0


def _same_event(a: _Item, b: _Item, w: dict[str, float]) -> float | None:
    """How far above the bar the pair is for being one event (None: not one event), given dates and words."""
    x, y = a.mention.when, b.mention.when
    if a.mention.article_id == b.mention.article_id and a.mention.sentence == b.mention.sentence:
        return None  # two dates in one sentence are two things
    if x.overlaps(y):
        if x.value == y.value and x.granularity == y.granularity:
            if x.granularity == DAY and a.mention.article_id == b.mention.article_id:
                need = 0.05  # one article naming the same day twice means one thing
            else:
                need = 0.2 if x.granularity in (DAY, MONTH, SEASON) else 0.3
        else:
            need = 0.3 if max(x.days, y.days) <= 92 else 0.35  # within a season or so / wider
        sim = _similarity(a, b, w)
    elif (x.granularity == y.granularity and x.granularity in (DAY, MONTH, YEAR)
          and (max(x.start, y.start) - min(x.end, y.end)).days <= 2 * 366
          and a.mention.article_id != b.mention.article_id):
        # Different dates for what reads as the same thing: the sources disagree (both dates are kept).
        need, sim = 0.7, _dice(a, b, w)
        if min(len(a.context), len(b.context)) < 3:
            return None
    else:
        return None
    return sim - need if sim >= need else None


# A word that more mentions than this share within a few years says nothing about their being one event;
# skipping such words keeps the pairs to compare from growing with the square of the corpus.
_COMMON_WORD = 60


def _candidate_pairs(items: Sequence[_Item]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of mentions within two years of each other that share a not-too-common word."""
    by_year: dict[int, list[int]] = {}
    for k, it in enumerate(items):
        w = it.mention.when
        for y in range(w.start.year, min(w.end.year, w.start.year + 30) + 1):
            by_year.setdefault(y, []).append(k)
    pairs: set[tuple[int, int]] = set()
    for y in by_year:
        pool = sorted(set(by_year[y]).union(by_year.get(y + 1, ()), by_year.get(y + 2, ())))
        postings: dict[str, list[int]] = {}
        for k in pool:
            for t in items[k].context:
                postings.setdefault(t, []).append(k)
        for ks in postings.values():
            if 1 < len(ks) <= _COMMON_WORD:
                pairs.update(itertools.combinations(ks, 2))
    return pairs


def _cluster(items: Sequence[_Item]) -> list[list[_Item]]:
    w = _weights(items)
    pairs = []
    for i, j in _candidate_pairs(items):
        a, b = items[i], items[j]
        margin = _same_event(a, b, w)
        if margin is not None:
            pairs.append((margin, a.order, b.order))
    group = {it.order: [it] for it in items}
    owner = {it.order: it.order for it in items}
    for _, i, j in sorted(pairs, reverse=True):
        gi, gj = owner[i], owner[j]
        if gi == gj:
            continue
        if all(_compatible(x, y, w) for x in group[gi] for y in group[gj]):
            group[gi].extend(group[gj])
            for it in group.pop(gj):
                owner[it.order] = gi
    return [sorted(g, key=lambda it: it.order) for g in group.values()]


def _compatible(x: _Item, y: _Item, w: dict[str, float]) -> bool:
    """Whether two members may share an event: different sentences, and dates that agree or words that do."""
    if x.mention.article_id == y.mention.article_id and x.mention.sentence == y.mention.sentence:
        return False
    return x.mention.when.overlaps(y.mention.when) or _same_event(x, y, w) is not None


def _precision_key(it: _Item) -> tuple:
    return (it.mention.when.days, _GRAN_RANK[it.mention.when.granularity], it.order)


def _event(members: list[_Item], articles: dict[str, Article]) -> dict:
    whens = [it.mention.when for it in members]
    common_start, common_end = max(w.start for w in whens), min(w.end for w in whens)
    best = min(members, key=_precision_key)
    when = best.mention.when
    note = None
    start, end = when.start, when.end
    if common_start > common_end:  # the sources disagree: keep every reading, date the event by the earliest
        readings: dict[str, list[str]] = {}
        for it in sorted(members, key=lambda it: (it.mention.when.start, it.order)):
            readings.setdefault(it.mention.when.label, [])
            if it.mention.article_id not in readings[it.mention.when.label]:
                readings[it.mention.when.label].append(it.mention.article_id)
        first = min(whens, key=lambda w: (w.start, w.days))
        when = first
        start, end = min(w.start for w in whens), max(w.end for w in whens)
        label = " or ".join(readings)
        note = "sources differ on the date: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in readings.items())
    else:
        label = when.label
    # The line: from the most precise report; among equals, the one sharing most words with the others.
    equals = [it for it in members if _precision_key(it)[:2] == _precision_key(best)[:2]]
    line_from = max(equals, key=lambda it: (-it.crowded, sum(len(it.context & o.context) for o in members
                                                             if o is not it), -it.order))
    citations, seen = [], set()
    for it in sorted(members, key=lambda it: (it.mention.article_id, it.cite)):
        key = (it.mention.article_id, it.cite)
        if key in seen:
            continue
        seen.add(key)
        a, b = it.cite
        citations.append({"source": it.mention.article_id, "text": articles[it.mention.article_id].text[a:b],
                          "start": a, "end": b})
    event = {"date": when.value, "granularity": when.granularity, "label": label, "text": line_from.line,
             "clause": line_from.whole,
             "citations": citations, "start": start.isoformat(), "end": end.isoformat()}
    if note:
        event["note"] = note
    # Words for --query: from each report's own line, not from whole sentences that tell other things too.
    event["terms"] = sorted({t for it in members for t in context_terms(it.whole)})
    return event


def build_timeline(articles: Sequence[Article]) -> dict:
    """The timeline of a corpus as a JSON-serialisable object (stored with the index as the 'timeline' extra)."""
    items = _items(articles)
    by_id = {a.id: a for a in articles}
    events = [_event(g, by_id) for g in _cluster(items)]
    events.sort(key=_event_order)
    return {"version": 1, "mentions": len(items), "events": events}


_LABEL_ORDER = (("start of", 1), ("early", 1), ("mid-", 2), ("late", 3), ("end of", 4))


def _event_order(ev: dict) -> tuple:
    # By the interval: its first day, then its last, so "1 Jan 2025" < "Jan 2025" < "2025" = "mid-2025";
    # on the same interval, early before mid- before late before end of.
    within = next((rank for prefix, rank in _LABEL_ORDER if ev["label"].startswith(prefix)), 0)
    return (ev["start"], ev["end"], within, ev["label"], ev["citations"][0]["source"], ev["citations"][0]["start"])


# -- selecting -------------------------------------------------------------------------------------------

def select_events(timeline: dict | None, date_from: str | None = None, date_to: str | None = None,
                  query: str | None = None) -> list[dict]:
    """The events overlapping [date_from, date_to] (YYYY, YYYY-MM or YYYY-MM-DD) and relevant to `query`."""
    lo = parse_iso(date_from).start if date_from else None
    hi = parse_iso(date_to).end if date_to else None
    if lo and hi and lo > hi:
        raise TimelineError(f"--from {date_from} is after --to {date_to}")
    wanted: set[str] = set()
    if query is not None and query.strip():
        wanted = set(context_terms(query))
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
    return set(ev.get("terms") or context_terms(ev["text"]))


def _query_weights(events: Sequence[dict], wanted: set[str]) -> dict[str, float]:
    """Query word -> weight: words found in few events count more ('joined' over 'Lithuania')."""
    sets = [_event_terms(ev) for ev in events]
    return {t: math.log(1 + len(sets) / max(1, sum(t in s for s in sets))) for t in wanted}


def _relevant(ev: dict, weight: dict[str, float]) -> bool:
    """The event's reports hold at least half of the query's weight."""
    have = _event_terms(ev)
    return sum(w for t, w in weight.items() if t in have) >= 0.5 * sum(weight.values()) > 0


def format_events(events: Iterable[dict], titles: Mapping[str, str] | None = None) -> str:
    """One line per event: the date as read, the event, its sources as [n]; then the numbered sources."""
    rows = list(events)
    if not rows:
        return "No dated events match."
    width = min(max(len(ev["label"]) for ev in rows), 28)
    numbers: dict[str, int] = {}
    lines = []
    for ev in rows:
        marks = sorted({numbers.setdefault(c["source"], len(numbers) + 1) for c in ev["citations"]})
        line = f"{ev['label']:<{width}}  {ev['text']}  {''.join(f'[{n}]' for n in marks)}"
        if ev.get("note"):
            line += f"  ({ev['note']})"
        lines.append(line)
    lines += ["", "Sources:"]
    for source, n in numbers.items():
        title = (titles or {}).get(source)
        lines.append(f"[{n}] {title} ({source})" if title and title != source else f"[{n}] {source}")
    return "\n".join(lines)


def date_for(timeline: dict | None, source: str, start: int, end: int, question_terms: Iterable[str]) -> str | None:
    """The label of the event whose date the sentence article[start:end] states, if exactly one fits.

    An event counts when the sentence that states its date is this one (a date stated in a neighbouring
    sentence dates another event). Where the sentence states several, the one sharing most of the
    question's terms wins; a tie gives no date rather than a guess.
    """
    if not timeline:
        return None
    wanted = set(question_terms)
    scored = []
    for ev in timeline.get("events", []):
        if any(c["source"] == source and start < c["end"] <= end for c in ev.get("citations", [])):
            scored.append((len(wanted & set(terms(ev.get("clause") or ev.get("text", "")))), ev["label"]))
    if not scored:
        return None
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0] and scored[0][1] != scored[1][1]:
        return None
    return scored[0][1]
