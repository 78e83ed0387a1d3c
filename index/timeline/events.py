"""Events: mentions of the same thing in several articles (or twice in one) merged into one dated event.

Their dates must be compatible and the words around the dates must agree, weighted by how rare each word is
among all the date contexts. Where sources give clearly different dates for what reads as the same event,
both are kept and the event's `note` says so. Events are ordered by their interval, its first day and then its
last, so a coarse date comes after the finer ones it contains that start with it: 1 Jan 2025, Jan 2025, 2025
(on one interval: early, mid-, late, end of).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.models import Article
from corpus.text import sentence_spans
from index.timeline.dates import DAY, GRANULARITY_RANK, MONTH, SEASON, YEAR
from index.timeline.resolve import Mention, extract_mentions
from index.timeline.text import ANAPHOR, clause_span, context_terms, one_line

TIMELINE_VERSION = 1  # of what build_timeline makes: a new version rebuilds indexes made with the old one


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
            a, b = clause_span(text, s, e, m.start)
            context = text[a:b]
            cite = (s, e)
            k = sentences.index((s, e))
            # "The move, announced on Thursday, ...": the event is named in the sentence before.
            if clause_span(text, s, e, m.start, widen=False)[0] == s and ANAPHOR.match(text[s:e]) and k > 0:
                cite = (sentences[k - 1][0], e)
                context = text[sentences[k - 1][0]:sentences[k - 1][1]] + " " + context
            line, whole = one_line(text[a:b], m.start - a)
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
    return (it.mention.when.days, GRANULARITY_RANK[it.mention.when.granularity], it.order)


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
