"""What a question asks for (a time, a duration, a quantity, a name) and whether a sentence holds it."""

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
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*")


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for: time, duration, quantity, name, or None."""
    q = fold(question).strip()
    if re.match(r"(when|what (year|date|day|month|time)|since when|by when)\b", q) or re.search(r"\bwhat (year|date)\b", q):
        return "time"
    if re.match(r"how (long|soon)\b", q):
        return "duration"
    if re.match(r"how (many|much)\b", q):
        return "quantity"
    if re.match(r"(who|whom|whose)\b", q) or re.match(r"(which|what) (organi[sz]ations?|groups?|countr(y|ies)|"
                                                       r"news ?outlets?|outlets?|agenc(y|ies)|ministers?|officials?|"
                                                       r"person|people|companies|company|newspapers?)\b", q):
        return "name"
    return None


def answer_kinds(sentence: str, folded_words: list[str] | None = None) -> frozenset[str]:
    """The kinds of answer a sentence holds; `folded_words` are its `words`, when already known."""
    ws = words(sentence) if folded_words is None else folded_words
    kinds = []
    if _YEAR.search(sentence) or not _TIME_WORDS.isdisjoint(ws):
        kinds.append("time")
    if _DURATION.search(sentence):
        kinds.append("duration")
    if _NUMBER.search(sentence):
        kinds.append("quantity")
    if _NAME.search(sentence):
        kinds.append("name")
    return frozenset(kinds)
