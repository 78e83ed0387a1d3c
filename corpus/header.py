"""What an article's first lines say about it: headline, byline, publication date, dateline.

News text as people save it starts with a few header lines in any order, then the prose::

    Lithuania completes its withdrawal from the cluster munitions convention     <- headline
    By Marieke de Vries                                                          <- byline
    Published 6 March 2025, 10:42 CET                                            <- date line
    VILNIUS (Reuters) – Lithuania officially withdrew ...                        <- dateline, then the prose

The rules, applied to the first `HEADER_LINES` non-blank lines, stopping at the first line that is none of these:

- **Date line**: a whole line that is a date, optionally labelled (`Published`, `Posted`, `Updated`, `Date`,
  `First published`, `Published on`), optionally with a weekday and a time and zone (`Thu 6 Mar 2025 10.42 GMT`,
  `March 6, 2025 10:42 a.m. CET`, `2025-03-06T10:42:00+01:00`, `06.03.2025 10:42`). The date as written
  is kept (no conversion to another time zone); a line giving only a month and year gives `YYYY-MM`. A date
  with dots is read day first (`06.03.2025`); a date with slashes is read only when it cannot be misread
  (`25/03/2025`), never `03/06/2025`, which outlets write both ways. A published date wins over an updated
  one. A leading `date YYYY-MM-DD` is also read when the prose follows on the same line.
- **Byline**: `By NAME` (also `Written by`, `Reporting by`), names with lowercase particles
  (`Marieke de Vries`, `Ludwig van der Berg`, `Omar bin Laden`), several names joined by `,`, `and` or `&`;
  an outlet after `|`, `·`, `/` or a final comma (`By Leila Nezirevic | Anadolu Agency`).
- **Headline**: one short line (16 words or fewer) without final punctuation.
- **Dateline**, at the start of the first prose line: `PLACE[, DATE] (AGENCY) –`, e.g. `LONDON (AA) –` or
  `VILNIUS, March 6, 2025 (Reuters) -`: the agency is taken as the outlet, the date when it has a year.
  The dateline stays part of the prose.

Dates are read by the rules in this module first; a line that looks like a date (a year and a month name
or a numeric date, 12 words or fewer) that the rules cannot read goes to the `dateparser` library (loaded
only then), whose answer is kept only when its year is written in the line. `benchmarks/bench_headers.py`
measures both on `tests/fixtures/header_dates.jsonl`.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

HEADER_LINES = 6

_MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december"]
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS.update({name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)})
_MONTHS["sept"] = 9
_MONTH = r"(?P<mon>(?i:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r"))\.?"
_WEEKDAY = r"(?:(?i:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?i:day|sday|nesday|rsday|urday)?\.?,?\s+)"
_LABEL = (r"(?P<label>(?i:(?:first\s+|originally\s+)?published|posted|(?:last\s+)?(?:updated|modified)|dated?|"
          r"filed)(?:\s+(?i:on|at))?)\s*[:\-–—]?\s*")
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_TIME = (r"(?:\d{1,2}(?:[:.]\d{2}){1,2}\s*(?i:[ap]\.?m\.?)?|\d{1,2}\s*(?i:[ap]\.?m\.?))"
         r"(?:\s*(?:\(?[A-Z]{2,5}(?:[+-]\d{1,2}(?::?\d{2})?)?\)?|[+-]\d{2}:?\d{2}))?")
_DATES = [
    r"(?P<iso>(?P<iy>(?:19|20)\d\d)-(?P<im>\d{2})-(?P<id>\d{2}))(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?",
    r"(?P<day>\d{1,2})" + _ORD + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR,
    _MONTH.replace("mon", "mon2") + r"\s+(?P<day2>\d{1,2})" + _ORD + r",?\s+" + _YEAR.replace("year", "year2"),
    _MONTH.replace("mon", "mon3") + r",?\s+" + _YEAR.replace("year", "year3"),
    r"(?P<dd>\d{1,2})\.\s?(?P<dm>\d{1,2})\.\s?(?P<dy>(?:19|20)\d\d)",  # 06.03.2025: day first
    r"(?P<yy>(?:19|20)\d\d)[./](?P<ym>\d{1,2})[./](?P<yd>\d{1,2})",  # 2025.03.06, 2025/03/06
    r"(?P<s1>\d{1,2})/(?P<s2>\d{1,2})/(?P<sy>(?:19|20)\d\d)",  # read only when unambiguous
]
_SEP = r"\s*(?:,|\||·|-|–|—|/|(?i:at))?\s*"
_DATE_LINE = re.compile(
    r"^(?:" + _LABEL + r")?(?:" + _TIME + _SEP + r")?" + _WEEKDAY + r"?" + r"(?:" + "|".join(_DATES) + r")"
    + r"(?:" + _SEP + _TIME + r")?" + r"\s*$")
_PARTS = re.compile(r"\s*[|·•]\s*")
_PLACE = re.compile(r"^[A-Z][\w’'.-]+(?:\s[A-Z][\w’'.-]+)?$")
_PLACE_FIRST = re.compile(r"^([A-Z][\w’'.-]+(?:\s[A-Z][\w’'.-]+)?),\s+(.*\d.*)$")
_TIME_ONLY = re.compile(r"^" + _TIME + r"$")
_READING_TIME = re.compile(r"^\d+\s*(?i:min(?:ute)?s?)\s+(?i:read)$")
_NUMERIC = re.compile(r"\b(\d{1,2})[-/](\d{1,2})[-/](?:19|20)\d\d\b")
_DATE_PREFIX = re.compile(r"^\s*date[:\s]+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)

_PARTICLES = ("de", "del", "della", "der", "den", "van", "von", "da", "das", "do", "dos", "di", "du", "la", "le",
              "ter", "ten", "bin", "ibn", "al", "el", "y", "zu", "af", "av", "st.")
_NAME_WORD = r"(?:[A-Z][\w’'.-]*|(?:O’|O'|Mc|Mac|D’|D')[A-Z][\w’'-]*)"
_NAME = (_NAME_WORD + r"(?:\s+(?:(?:" + "|".join(re.escape(p) for p in _PARTICLES) + r")\s+)*" + _NAME_WORD
         + r"){0,4}")
_NAMES = _NAME + r"(?:(?:\s*,\s*|\s+and\s+|\s*&\s*)" + _NAME + r")*"
_BYLINE = re.compile(r"^(?i:by|written\s+by|reporting\s+by|words\s+by)\s+(?P<names>" + _NAMES + r")"
                     r"(?:\s*(?:\||·|/|,|–|—)\s*(?P<outlet>[^|·/,]{2,60}?))?\s*$")
_DATELINE = re.compile(r"(?P<head>[A-Z][A-Z’'.\-]+(?:[ ,]+[\w’'.\-]+){0,6}?)\s*"
                       r"\((?P<agency>[A-Za-z][\w&.’' -]{0,40})\)\s*[–—-]{1,2}\s+")
_DATE_LIKE = re.compile(r"(?:19|20)\d\d")
_RELATIVE = re.compile(r"(?i:\b(?:ago|yesterday|today|tomorrow|now|last|next|this)\b)")
_UPDATED = re.compile(r"(?i:updated|modified)")
_OUTLET_WORDS = {"agency", "news", "press", "service", "times", "post", "radio", "television", "tv", "broadcasting",
                 "herald", "journal", "gazette", "review", "daily", "network", "media", "wire", "online"}
_TITLE_END = (".", "!", "?", ":", ",", ";", "”", '"')


@dataclass(frozen=True)
class Header:
    """What the header lines say, and where the quotable text and the prose begin."""

    title: str | None = None
    author: str | None = None
    outlet: str | None = None
    published: str | None = None  # YYYY-MM or YYYY-MM-DD
    quote_start: int = 0  # after leading date lines: a bare date is not worth quoting
    body_start: int = 0  # after every header line: where the prose (and its dateline) begins


def read_header(text: str) -> Header:
    """The header of an article's text (see the module's docstring for the rules)."""
    title = author = outlet = published = updated = None
    quote_start = pos = 0
    leading = True  # only date lines so far
    seen = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not stripped:
            pos += len(line)
            if leading:
                quote_start = pos
            continue
        seen += 1
        if seen > HEADER_LINES:
            break
        when = parse_date_line(stripped)
        if when is not None:
            if _UPDATED.match(stripped):
                updated = updated or when
            else:
                published = published or when
            pos += len(line)
            if leading:
                quote_start = pos
            continue
        prefix = _DATE_PREFIX.match(line)
        if prefix and _valid(prefix.group(1)):  # "date 2025-03-06 Lithuania officially withdrew ..."
            published = published or prefix.group(1)
            pos += prefix.end()
            if leading:
                quote_start = pos
            break
        leading = False
        by = parse_byline(stripped)
        if by is not None and author is None:
            author, outlet = by[0], outlet or by[1]
        elif title is None and looks_like_title(stripped):
            title = stripped
        else:
            break
        pos += len(line)
    line_end = text.find("\n", pos)
    agency, dated = parse_dateline(text[pos:line_end if line_end >= 0 else len(text)])
    return Header(title, author, outlet or agency, published or updated or dated, quote_start, pos)


def looks_like_title(line: str) -> bool:
    return 0 < len(line.split()) <= 16 and not line.endswith(_TITLE_END)


def parse_byline(line: str) -> tuple[str, str | None] | None:
    """(author, outlet or None) from a `By NAME` line; None when the line is not a byline."""
    m = _BYLINE.match(line.strip())
    if not m:
        return None
    names, outlet = m.group("names").strip(), m.group("outlet")
    head, comma, last = names.rpartition(",")
    if comma and outlet is None and not re.search(r"\sand\s|&", names):
        words = last.split()
        if len(words) == 1 or {w.lower() for w in words} & _OUTLET_WORDS:  # "By Ann Lee, Reuters"
            names, outlet = head.strip(), last
    return names, outlet.strip() if outlet else None


def parse_dateline(line: str) -> tuple[str | None, str | None]:
    """(agency, date) from a dateline such as `VILNIUS, March 6, 2025 (Reuters) –` starting the line."""
    m = _DATELINE.match(line)
    if not m:
        return None, None
    parts = [p.strip() for p in m.group("head").split(",")]
    date = None
    for k in range(1, len(parts)):  # the longest tail of the place that reads as a date
        date = parse_date_line(", ".join(parts[k:]))
        if date:
            break
    return m.group("agency").strip(), date


def parse_date_line(line: str) -> str | None:
    """YYYY-MM-DD or YYYY-MM when the whole line is a date (see the rules above), else None."""
    if len(line) > 80 or not _DATE_LIKE.search(line):
        return None
    found = read_date_by_rules(line)
    if found is not None:
        return found or None  # "" marks a date the rules refuse to guess (03/06/2025)
    return read_date_with_library(line) if _date_shaped(line) else None


def read_date_by_rules(line: str) -> str | None:
    """The date the rules read; "" for a date line that cannot be read without guessing; None: not a date line.

    A line of several parts (`Published: 6 March 2025 | Last updated: 7 March 2025`, `Mar 6, 2025 · 4 min read`,
    `Vilnius, 6 March 2025`) is a date line when each part is a date, a time, a reading time or a place name;
    its first date that is not an update wins.
    """
    whole = _read_one(line.strip())
    if whole is not None:
        return whole
    parts = [p.strip() for p in _PARTS.split(line.replace("(", " | ").replace(")", " | ")) if p.strip()]
    place = _PLACE_FIRST.match(parts[0]) if parts else None
    if place:  # "Vilnius, 6 March 2025"
        parts[0:1] = [place.group(1), place.group(2)]
    if len(parts) < 2:
        return None
    dates, updates = [], []
    for part in parts:
        value = _read_one(part)
        if value is not None:
            (updates if _UPDATED.match(part) else dates).append(value)
        elif not (_TIME_ONLY.match(part) or _READING_TIME.match(part) or _PLACE.match(part)):
            return None
    found = dates + updates
    return found[0] if found else None


def _read_one(line: str) -> str | None:
    m = _DATE_LINE.match(line)
    if not m:
        return None
    g = m.groupdict()
    if g["iso"]:
        y, mo, d = int(g["iy"]), int(g["im"]), int(g["id"])
    elif g["day"]:
        y, mo, d = int(g["year"]), _MONTHS[g["mon"].lower()], int(g["day"])
    elif g["day2"]:
        y, mo, d = int(g["year2"]), _MONTHS[g["mon2"].lower()], int(g["day2"])
    elif g["mon3"]:
        return f"{int(g['year3']):04d}-{_MONTHS[g['mon3'].lower()]:02d}"
    elif g["dd"]:
        y, mo, d = int(g["dy"]), int(g["dm"]), int(g["dd"])
    elif g["yy"]:
        y, mo, d = int(g["yy"]), int(g["ym"]), int(g["yd"])
    else:
        a, b, y = int(g["s1"]), int(g["s2"]), int(g["sy"])
        if a <= 12 and b <= 12 and a != b:
            return ""
        mo, d = (a, b) if b > 12 else (b, a)
    value = f"{y:04d}-{mo:02d}-{d:02d}"
    return value if _valid(value) else ""


def _date_shaped(line: str) -> bool:
    """Worth asking the library: short, with a month name or a numeric date, and nothing relative."""
    if len(line.split()) > 12 or _RELATIVE.search(line):
        return False
    words = {w.lower().rstrip(".") for w in re.findall(r"[A-Za-z]+\.?", line)}
    return bool(words & set(_MONTHS)) or bool(re.search(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", line))


def read_date_with_library(line: str) -> str | None:
    """The date dateparser reads in the line (label removed), kept only when its year is written there."""
    text = re.sub(r"^" + _LABEL, "", line.strip())
    for a, b in _NUMERIC.findall(text):
        if int(a) <= 12 and int(b) <= 12 and a != b:  # 03-06-2025: 6 March or 3 June; the library would guess
            return None
    data = _parser().get_date_data(text)
    when = data.date_obj if data else None
    if when is None or str(when.year) not in text:
        return None
    if data.period == "month":
        return f"{when.year:04d}-{when.month:02d}"
    if data.period == "year":
        return None  # a bare year says little about when an article was published
    return when.date().isoformat()


@functools.cache
def _parser():
    from dateparser.date import DateDataParser  # about 0.3 s to load: only for lines the rules cannot read

    return DateDataParser(languages=["en"], settings={"REQUIRE_PARTS": ["year"], "PREFER_DATES_FROM": "past",
                                                      "DATE_ORDER": "DMY"})


def _valid(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True
