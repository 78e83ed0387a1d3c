"""Dates as the timeline reads them: an inclusive interval of days with the granularity the text supports."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from corpus.errors import CitebotError
from corpus.load import valid_date
from corpus.models import Article

Date = dt.date

DAY, MONTH, SEASON, YEAR, APPROXIMATE = "day", "month", "season", "year", "approximate"
GRANULARITY_RANK = {DAY: 0, MONTH: 1, SEASON: 2, YEAR: 3, APPROXIMATE: 4}

# English names written out: calendar.month_name would follow the process locale.
MONTH_NAMES = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]
MONTH_ABBR = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES) if name}
MONTHS.update({a.lower(): i for i, a in enumerate(MONTH_ABBR) if a})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)}
_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


class TimelineError(CitebotError):
    """A bad date or query for the timeline; the message is fit to show a user."""

    exit_status = 2  # a bad --from, --to or --query is a usage error, as argparse reports one


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


def spanning(a: When, b: When) -> When:
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
    """The date an article's relative expressions resolve against: its publication date, or for "the following
    year" the date mentioned last."""

    when: When

    @property
    def ends(self) -> tuple[Date, Date]:
        return self.when.start, self.when.end


def anchor_of(article: Article) -> Anchor | None:
    published = article.meta.published
    if not published or not valid_date(published):
        return None
    return Anchor(parse_iso(published))
