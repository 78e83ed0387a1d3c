"""What a question asks for (a time, a year, a duration, a count, a name, an author) and whether a sentence holds it."""

from __future__ import annotations

import re

from corpus.text import fold, words

_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_TIME_WORDS = set(_MONTHS) | set(
    "monday tuesday wednesday thursday friday saturday sunday yesterday today tomorrow spring summer autumn "
    "fall winter year week month decade century".split())
_YEAR = re.compile(r"\b(1[89]|20)\d\d\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|hundred|"
                     r"thousand|million|billion|dozen)\b", re.IGNORECASE)
_DURATION = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|few)[- ]"
                       r"(day|week|month|year|hour|minute)s?\b", re.IGNORECASE)
# A year said in words rather than digits: "last year", "the previous year".
_RELATIVE_YEAR = re.compile(r"\b(last|this|next|previous|same|that|following|coming) year\b", re.IGNORECASE)
# Numbers that are part of a date, not a count: "6 March", "August 1", "on the 3rd of May".
_DAY_OF_MONTH = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+(?:" + "|".join(_MONTHS) + r")\b|\b(?:"
                           + "|".join(_MONTHS) + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?\b", re.IGNORECASE)
# Sums of money: a count of things ("how many?") is not one.
_MONEY = re.compile(r"[$€£]\s?\d[\d,.]*(?:\s+(?:thousand|million|billion|trillion|bn|m)\b)?|\b\d[\d,.]*\s+"
                    r"(?:(?:thousand|million|billion|trillion)\s+)?(?:dollars|euros|pounds|usd|eur)\b", re.IGNORECASE)
# A byline: "By Leila Nezirevic" on a line of its own, at the top of a report.
_BYLINE = re.compile(r"\s*By\s+[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){0,3}\s*$")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*")


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for: time, year, duration, count, quantity, author, name, or None."""
    q = fold(question).strip()
    if re.search(r"\b(what|which) year\b", q):
        return "year"
    if re.match(r"(when|what (date|day|month|time)|since when|by when)\b", q) or re.search(r"\bwhat date\b", q):
        return "time"
    if re.match(r"how (long|soon)\b", q):
        return "duration"
    if re.match(r"how many\b", q):
        return "count"
    if re.match(r"how much\b", q):
        return "quantity"
    if re.match(r"(who (wrote|writes|authored|penned|reported|was the author|is the author)|(which|what) (journalist|"
                r"reporter|correspondent|author|writer))\b", q):
        return "author"
    # "which (Lithuanian defence) minister ...": up to two words may stand before the noun
    if re.match(r"(who|whom|whose)\b", q) or re.match(r"(which|what) ([\w'-]+ ){0,2}(organi[sz]ations?|groups?|"
                                                       r"countr(y|ies)|news ?outlets?|outlets?|agenc(y|ies)|ministers?|"
                                                       r"officials?|person|people|companies|company|newspapers?)\b", q):
        return "name"
    return None


def answer_types_in(sentence: str, folded_words: list[str] | None = None) -> frozenset[str]:
    """The answer types (as `answer_type` names them) a sentence holds; `folded_words` are its `words`, when
    already known."""
    ws = words(sentence) if folded_words is None else folded_words
    types = []
    if _YEAR.search(sentence) or not _TIME_WORDS.isdisjoint(ws):
        types.append("time")
    if _DURATION.search(sentence):
        types.append("duration")
    if _YEAR.search(sentence) or _RELATIVE_YEAR.search(sentence):
        types.append("year")
    if _NUMBER.search(sentence):
        types.append("quantity")
        if _counts_something(sentence):
            types.append("count")
    if _NAME.search(sentence):
        types.append("name")
    if _BYLINE.match(sentence):
        types.append("author")
    return frozenset(types)


def _counts_something(sentence: str) -> bool:
    """Whether the sentence states a count: a number other than a year, the day of a date or a sum of money
    ("112 state parties", "six months", but not "in 2011", "on 6 March", "$800 million" or "one of the ...")."""
    not_counts = [m.span() for pattern in (_DAY_OF_MONTH, _MONEY) for m in pattern.finditer(sentence)]
    for m in _NUMBER.finditer(sentence):
        if _YEAR.fullmatch(m.group().rstrip(".,")):
            continue
        if any(s <= m.start() and m.end() <= e for s, e in not_counts):
            continue
        if m.group().lower() == "one" and sentence[m.end():m.end() + 4].lower() == " of ":
            continue  # "one of the most controversial topics"
        return True
    return False
