"""The words around a date: the clause that reports an event, the line shown for it, and its comparable words."""

from __future__ import annotations

import re

from corpus.text import terms
from index.timeline.dates import MONTH_ABBR, MONTH_NAMES, WEEKDAY_NAMES

EVENT_CHARS = 100  # an event's text: what a reader takes in at a glance beside its date

_BOUNDARY = re.compile(
    r",\s+(?=(?:when|which|who|whom|whose|while|although|though|but|after\s+which|completing|citing|drawing|"
    r"following|as|and\s+(?=[A-Z]|it\b|the\b|he\b|she\b|they\b))\b)|;\s+|:\s+")
ANAPHOR = re.compile(r"^(?:This|That|These|Those|It|The\s+move|The\s+decision|The\s+step|Such\s+a\s+\w+)\b")
_LEAD_IN = re.compile(r"^(?:when|and|but|while|after\s+which|meanwhile,?|however,?)\s+", re.IGNORECASE)
_CLAUSE_CUT = re.compile(r"(?:,|;|:|\s[–—])\s+")
_CLAUSE_START = re.compile(r"(?:[A-Z“\"]|(?:the|it|he|she|they|this|that)\b)")


def _segments(text: str, s: int, e: int) -> list[tuple[int, int]]:
    cuts = [s] + [s + m.end() for m in _BOUNDARY.finditer(text[s:e])] + [e]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def clause_span(text: str, s: int, e: int, at: int, widen: bool = True) -> tuple[int, int]:
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


def one_line(raw: str, at: int) -> tuple[str, str]:
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


_DATE_WORDS = set(terms(" ".join([*MONTH_NAMES[1:], *MONTH_ABBR[1:], *WEEKDAY_NAMES,
                                  "last next previous following coming year month week day today yesterday "
                                  "tomorrow spring summer autumn fall winter early late mid middle end beginning "
                                  "start sept"])))


def context_terms(text: str) -> list[str]:
    """Comparable words of an event's context: no date words, 'US' kept apart from 'us'."""
    text = re.sub(r"\bU\.?S\.?A?\b|\bUnited\s+States\b|\bAmerica\b", " usa ", text)
    out = []
    for t in terms(text):
        if t in _DATE_WORDS or t.isdigit():
            continue
        out.append(t)
    return out


# Event words that writers use for the same thing, folded together when a --query is matched against events, so
# that "war" finds "the invasion" and "exit" finds "withdrew". Written for the shipped articles' subject; events
# are merged by meaning (index.timeline.events), not with this list.
_QUERY_SYNONYMS = {
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


def query_terms(text: str) -> list[str]:
    """The words a --query and an event are matched on: `context_terms` with synonyms folded together."""
    return [_QUERY_SYNONYMS.get(t, t) for t in context_terms(text)]
