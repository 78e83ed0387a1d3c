"""Finding temporal expressions in text: one pattern per form of writing a date, checked in context.

The forms: `iso` (2024-07-18), `dmy` (18 July 2024), `mdy` (July 18, 2024), `my` (July 2024), `month` (last
July), `season` (last summer), `year_mod` (early 2026), `year` (2011), `unit` (next month), `deictic`
(yesterday) and `weekday` (on Thursday). `index.timeline.resolve` turns each form into a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
APPROX_BEFORE = re.compile(r"(?i:\b(?:around|about|circa|approximately|roughly|c\.))\s+$")
FUTURE = re.compile(r"(?i:\b(?:will|shall|'ll|next|upcoming|coming|scheduled|due\s+to|plans?\s+to|planned|"
                    r"is\s+to|are\s+to|expected\s+to)\b)")

# Form -> pattern. Where two expressions overlap the longer is kept; on a tie, the form listed first.
PATTERNS: dict[str, re.Pattern[str]] = {
    "iso": re.compile(r"\b(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})\b"),
    "dmy": re.compile(rf"\b{_DAYNUM}(?:\s+of)?\s+{_MONTH_RE}(?:,?\s+{_YEAR_RE})?"),
    "mdy": re.compile(rf"\b{_MONTH_RE}\s+{_DAYNUM}(?![\d:])(?:,?\s+{_YEAR_RE})?"),
    "my": re.compile(rf"(?:{_MOD_RE})?{_MONTH_RE},?\s+(?:of\s+)?{_YEAR_RE}"),
    "month": re.compile(rf"(?:{_CUE_RE})?(?:{_MOD_RE})?{_MONTH_RE}"),
    "season": re.compile(rf"(?:{_CUE_RE})?(?:{_MOD_RE})?(?P<season>(?i:spring|summer|autumn|fall|winter))\b"
                         rf"(?:\s+(?:of\s+)?{_YEAR_RE})?"),
    "year_mod": re.compile(rf"{_MOD_RE}\s*{_YEAR_RE}"),
    "year": re.compile(rf"(?<![\d$€£¥.,/-]){_YEAR_RE}(?!,\d|\.\d)"),
    "unit": re.compile(r"\b(?P<cue>(?i:(?:the\s+)?(?:last|next|this|previous|following)))\s+"
                       r"(?P<unit>(?i:year|month|week))\b"),
    "deictic": re.compile(r"\b(?P<word>(?i:today|yesterday|tomorrow))\b"),
    "weekday": re.compile(r"(?:\b(?P<cue>(?i:last|next|this|on|on\s+last|on\s+next))\s+)?"
                          r"(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?![\w'’])"),
}


@dataclass(frozen=True)
class Expression:
    """A temporal expression found in a sentence: its form, the match, and what its clause says about it."""

    form: str
    match: re.Match[str]
    future: bool = False  # its clause looks forward ("Parliament will vote in June")
    approx: bool = False  # "around 1997"

    def group(self, name: str) -> str | None:
        return self.match.groupdict().get(name)

    @property
    def year(self) -> int | None:
        year = self.group("year")
        return int(year) if year else None

    @property
    def mod(self) -> str | None:
        """mid, early, late, start or end ("in mid-July", "at the end of August"), or None."""
        mod = self.group("mod")
        if not mod:
            return None
        words = " ".join(mod.lower().replace("-", " ").split()).split()
        for key, value in (("mid", "mid"), ("middle", "mid"), ("early", "early"), ("late", "late"),
                           ("beginning", "start"), ("start", "start"), ("end", "end")):
            if key in words:
                return value
        return None

    @property
    def cue(self) -> str | None:
        """last, next, this or following ("last July", "the following year"), or None."""
        cue = self.group("cue")
        if not cue:
            return None
        c = cue.lower().split()[-1]
        return {"previous": "last", "coming": "next", "following": "following", "on": None}.get(c, c)


def find_expressions(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, re.Match[str]]]:
    """Candidate temporal expressions in text[start:end] as (form, match), longest first where they overlap,
    in text order."""
    end = len(text) if end is None else end
    found: list[tuple[str, re.Match[str]]] = []
    for form, pattern in PATTERNS.items():
        for m in pattern.finditer(text, start, end):
            if plausible(form, m, text):
                found.append((form, m))
    found.sort(key=lambda fm: (-(fm[1].end() - fm[1].start()), fm[1].start()))
    taken: list[tuple[str, re.Match[str]]] = []
    for form, m in found:
        if all(m.end() <= t.start() or m.start() >= t.end() for _, t in taken):
            taken.append((form, m))
    return sorted(taken, key=lambda fm: fm[1].start())


def plausible(form: str, m: re.Match[str], text: str) -> bool:
    """Whether the words around a match make it a date: a bare month, season or year needs a cue."""
    check = _CHECKS.get(form)
    return check is None or check(m, text[max(0, m.start() - 30):m.start()], text[m.end():m.end() + 20])


def _month_is_a_date(m: re.Match[str], before: str, after: str) -> bool:
    # A bare month name is a date after a cue word or with a modifier ("May" and "March" are words too).
    if m.group("cue") or m.group("mod"):
        return True
    if m.group("month") in ("May", "March", "Mar", "Mar."):
        return bool(_STRONG_CUE_BEFORE.search(before))
    return bool(_DATE_CUE_BEFORE.search(before))


def _season_is_a_date(m: re.Match[str], before: str, after: str) -> bool:
    if m.group("cue") or m.group("mod") or m.group("year"):
        return True
    return m.group("season").lower() != "fall" and bool(_DATE_CUE_BEFORE.search(before))


def _year_is_a_date(m: re.Match[str], before: str, after: str) -> bool:
    if _NOT_YEAR_AFTER.match(after):
        return False
    # "in 2011", "2011." and "the 1997 Convention" are years; "2000 people" is a number.
    nxt = re.match(r"\s+(\w)", after)
    return bool(_DATE_CUE_BEFORE.search(before)) or not nxt or not nxt.group(1).islower()


_CHECKS = {"month": _month_is_a_date, "season": _season_is_a_date, "year": _year_is_a_date}
