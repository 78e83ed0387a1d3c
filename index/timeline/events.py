"""Events: mentions of the same thing in several articles (or twice in one) merged into one dated event.

Two mentions are one event when their dates are compatible and what is said around them means the same: the
cosine of the embedded contexts (the clause holding the date, with the sentence before when it opens with
"This" or "The move") must pass a bar that is lower the more the dates agree. The vectors come from the
index's encoder, so "withdrew", "exit" and "leave" agree without a word list written for one corpus. Where
sources give clearly different dates for what reads as the same event, both are kept and the event's `note`
says so. Events are ordered by their interval, its first day and then its last, so a coarse date comes after
the finer ones it contains that start with it: 1 Jan 2025, Jan 2025, 2025 (on one interval: early, mid-,
late, end of).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from corpus.models import Article
from corpus.text import sentence_spans
from index.timeline.dates import DAY, GRANULARITY_RANK, MONTH, YEAR
from index.timeline.resolve import Mention, extract_mentions
from index.timeline.text import ANAPHOR, clause_span, context_terms, one_line, query_terms

TIMELINE_VERSION = 2  # of what build_timeline makes: a new version rebuilds indexes made with the old one

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised vectors, one row each

# The cosine two contexts need for the mentions to be one event, by how their dates relate. Measured with the
# bundled model on the shipped articles (26 dated mentions, read by hand into 13 events) and the test corpora:
# each bar, the others held, gives those same events anywhere in the range noted; each sits inside its range.
SAME_DATE = 0.3  # the same day, month, season or year (0.0-0.625)
NEAR_DATES = 0.3  # overlapping dates within a season or so: "July 2024" and "summer 2024" (0.2-0.55)
WIDE_DATES = 0.45  # overlapping dates, one of them wider: "2023" and "mid-August 2023" (0.35-0.525)
OTHER_DATES = 0.85  # clearly different dates for what reads as the same event: the sources disagree (0.175-0.95;
# high, as a merge across dates is the costlier mistake: "2010 or 2011" for two events)

# A word that more mentions than this share within a few years says nothing about their being one event;
# skipping such words keeps the pairs to compare from growing with the square of the corpus.
_COMMON_WORD = 60


@dataclass(frozen=True)
class _Item:
    mention: Mention
    line: str
    whole: str  # the clause before it was cut to `line`: its words match queries and answers
    cite: tuple[int, int]
    context: str  # what is said around the date: its clause, with the sentence before when it refers back
    words: frozenset[str]  # the context's words, without date words
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
            items.append(_Item(m, line, whole, cite, " ".join(context.split()), frozenset(context_terms(context)),
                               len(items), crowded))
    return items


def _bar(a: _Item, b: _Item) -> float | None:
    """The cosine the two contexts need for the mentions to be one event, given their dates; None: never."""
    x, y = a.mention.when, b.mention.when
    if a.mention.article_id == b.mention.article_id and a.mention.sentence == b.mention.sentence:
        return None  # two dates in one sentence are two things
    if x.overlaps(y):
        if x.value == y.value and x.granularity == y.granularity:
            return SAME_DATE
        return NEAR_DATES if max(x.days, y.days) <= 92 else WIDE_DATES
    if (x.granularity == y.granularity and x.granularity in (DAY, MONTH, YEAR)
            and (max(x.start, y.start) - min(x.end, y.end)).days <= 2 * 366
            and a.mention.article_id != b.mention.article_id):
        return OTHER_DATES  # different dates for what reads as the same thing: the sources disagree
    return None


class _Similar:
    """Cosines of the items' contexts."""

    def __init__(self, items: Sequence[_Item], embed: Embed) -> None:
        texts = [it.context for it in items]
        self.vectors = np.asarray(embed(texts), dtype=np.float32) if texts else np.zeros((0, 1), dtype=np.float32)

    def __call__(self, a: _Item, b: _Item) -> float:
        return float(self.vectors[a.order] @ self.vectors[b.order])

    def margin(self, a: _Item, b: _Item) -> float | None:
        """How far above its bar the pair is (None: not one event)."""
        bar = _bar(a, b)
        if bar is None:
            return None
        sim = self(a, b)
        return sim - bar if sim >= bar else None


def _candidate_pairs(items: Sequence[_Item]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of mentions within two years of each other whose contexts share a word that not too
    many of them use: reports of one event share a name or a rare word, and the pairs to compare grow with the
    corpus, not with its square. (Two short reports of different things, "A tunnel opened on 1 January" and
    "A port closed in January", can look alike to the model; sharing no word, they are never compared.)"""
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
            for t in items[k].words:
                postings.setdefault(t, []).append(k)
        for ks in postings.values():
            if 1 < len(ks) <= _COMMON_WORD:
                pairs.update(itertools.combinations(ks, 2))
    return pairs


def _cluster(items: Sequence[_Item], similar: _Similar) -> list[list[_Item]]:
    """Greedy merging, the surest pair first; two groups merge only when every pair across them may share an event."""
    pairs = []
    for i, j in _candidate_pairs(items):
        margin = similar.margin(items[i], items[j])
        if margin is not None:
            pairs.append((margin, i, j))
    group = {it.order: [it] for it in items}
    owner = {it.order: it.order for it in items}
    for _, i, j in sorted(pairs, reverse=True):
        gi, gj = owner[i], owner[j]
        if gi == gj:
            continue
        if all(_compatible(x, y, similar) for x in group[gi] for y in group[gj]):
            group[gi].extend(group[gj])
            for it in group.pop(gj):
                owner[it.order] = gi
    return [sorted(g, key=lambda it: it.order) for g in group.values()]


def _compatible(x: _Item, y: _Item, similar: _Similar) -> bool:
    """Whether two members may share an event: different sentences, and dates that agree or contexts that do."""
    if x.mention.article_id == y.mention.article_id and x.mention.sentence == y.mention.sentence:
        return False
    return x.mention.when.overlaps(y.mention.when) or similar.margin(x, y) is not None


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
    line_from = max(equals, key=lambda it: (-it.crowded, sum(len(it.words & o.words) for o in members
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
    event["terms"] = sorted({t for it in members for t in query_terms(it.whole)})
    return event


def build_timeline(articles: Sequence[Article], embed: Embed) -> dict:
    """The timeline of a corpus as a JSON-serialisable object (stored with the index); `embed` gives the
    vectors its mentions' contexts are compared by (the index's encoder)."""
    items = _items(articles)
    similar = _Similar(items, embed)
    by_id = {a.id: a for a in articles}
    events = [_event(g, by_id) for g in _cluster(items, similar)]
    events.sort(key=_event_order)
    return {"version": TIMELINE_VERSION, "mentions": len(items), "events": events}


_LABEL_ORDER = (("start of", 1), ("early", 1), ("mid-", 2), ("late", 3), ("end of", 4))


def _event_order(ev: dict) -> tuple:
    # By the interval: its first day, then its last, so "1 Jan 2025" < "Jan 2025" < "2025" = "mid-2025";
    # on the same interval, early before mid- before late before end of.
    within = next((rank for prefix, rank in _LABEL_ORDER if ev["label"].startswith(prefix)), 0)
    return (ev["start"], ev["end"], within, ev["label"], ev["citations"][0]["source"], ev["citations"][0]["start"])
