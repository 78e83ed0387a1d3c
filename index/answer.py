"""Extractive answers: the sentences that best answer the question, each cited to a verbatim passage.

When the retrieved passages do not cover the question (its distinctive terms and names are not in
them, and they are not close in meaning) the answer abstains instead of citing something unrelated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from corpus.text import fold, sentence_spans, terms, words
from index.search import Hit, Searcher

ABSTAIN_TEXT = "The articles I have do not cover that question."

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


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    title: str | None
    date: str | None
    text: str
    start: int
    end: int
    score: float
    date_inferred: bool = False
    outlet: str | None = None
    url: str | None = None

    def as_json(self) -> dict:
        return {"n": self.n, "source": self.source, "title": self.title, "date": self.date, "text": self.text,
                "start": self.start, "end": self.end, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    reason: str | None = None  # why it abstained, for logs and --verbose
    hits: tuple[Hit, ...] = field(default=(), compare=False, repr=False)

    def as_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "citations": [c.as_json() for c in self.citations]}


@dataclass(frozen=True)
class AnswerConfig:
    max_citations: int = 3
    min_coverage: float = 0.5  # share of the question's term weight a cited passage must hold...
    min_dense: float = 0.25  # ...unless it is at least this close in meaning
    search_k: int = 8


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


def has_answer_type(sentence: str, kind: str | None) -> bool:
    if kind is None:
        return False
    if kind == "time":
        return bool(_YEAR.search(sentence)) or any(w in _TIME_WORDS for w in words(sentence))
    if kind == "duration":
        return bool(_DURATION.search(sentence))
    if kind == "quantity":
        return bool(_NUMBER.search(sentence))
    return bool(_NAME.search(sentence))


def question_names(question: str) -> set[str]:
    """Terms of the capitalised words inside the question (names of people, places, treaties)."""
    out: set[str] = set()
    for m in re.finditer(r"\b[A-Z][\w’'.-]*", question):
        if m.start() == 0 or question[: m.start()].rstrip().endswith(("?", ".", "!", ":")):
            continue
        out.update(terms(m.group()))
    return out


class Composer:
    """Turns a question into an Answer using a Searcher."""

    def __init__(self, searcher: Searcher, config: AnswerConfig | None = None) -> None:
        self.searcher = searcher
        self.config = config or AnswerConfig()

    def answer(self, question: str) -> Answer:
        cfg = self.config
        qv = self.searcher.embed(question)
        hits = self.searcher.search(question, k=cfg.search_k, query_vector=qv)
        supported, reason = self.supported(question, hits)
        if not supported:
            return Answer(question, ABSTAIN_TEXT, True, (), reason, tuple(hits))
        picked = self._pick_sentences(question, qv, hits[: cfg.max_citations])
        return self._compose(question, hits, picked)

    def supported(self, question: str, hits: list[Hit]) -> tuple[bool, str | None]:
        """Whether some top passage covers the question; else the reason to abstain."""
        if not hits:
            return False, "the index is empty"
        names = question_names(question)
        top = hits[: self.config.max_citations]
        with_names = [h for h in top if names <= set(terms(h.chunk.text))]
        if not with_names:
            return False, f"no passage mentions {', '.join(sorted(names))} together"
        best = max(with_names, key=lambda h: (h.chunk_coverage, h.dense))
        if best.chunk_coverage < self.config.min_coverage and max(h.dense for h in with_names) < self.config.min_dense:
            return False, f"weak evidence (coverage {best.chunk_coverage:.2f}, similarity {best.dense:.2f})"
        return True, None

    def _pick_sentences(self, question: str, qv: np.ndarray, hits: list[Hit]) -> list[tuple[int, int, int]]:
        """(hit index, start, end) of the sentences to answer with, best first, offsets into the article."""
        kind = answer_type(question)
        weights = self.searcher.term_weights(question)
        total = sum(weights.values()) or 1.0
        cands = []
        for hi, h in enumerate(hits):
            for s, e in sentence_spans(h.chunk.text):
                cands.append((hi, h.chunk.start + s, h.chunk.start + e, h.chunk.text[s:e]))
        if not cands:
            return []
        sv = self.searcher.encoder.encode([c[3] for c in cands])
        scored = []
        for (hi, s, e, text), vec in zip(cands, sv):
            cov = sum(weights[t] for t in set(terms(text)) & weights.keys()) / total
            score = float(vec @ qv) + cov + (0.3 if has_answer_type(text, kind) else 0.0) - 0.05 * hi
            scored.append((score, hi, s, e, text))
        scored.sort(key=lambda x: -x[0])
        best = scored[0]
        picked = [(best[1], best[2], best[3])]
        for score, hi, s, e, text in scored[1:]:
            if score < best[0] * 0.85 or len(picked) >= 2:
                break
            if hi != best[1] and not _same_gist(text, best[4]):
                picked.append((hi, s, e))
        return picked

    def _compose(self, question: str, hits: list[Hit], picked: list[tuple[int, int, int]]) -> Answer:
        index = self.searcher.index
        order: list[int] = []
        for hi, _, _ in picked:
            if hi not in order:
                order.append(hi)
        for hi in range(min(len(hits), self.config.max_citations)):
            if hi not in order and hits[hi].score >= hits[0].score * 0.75:
                order.append(hi)
        number = {hi: n for n, hi in enumerate(order, 1)}
        parts = []
        for hi, s, e in picked:
            article_text_slice = hits[hi].chunk.text[s - hits[hi].chunk.start : e - hits[hi].chunk.start]
            parts.append(f"{' '.join(article_text_slice.split())} [{number[hi]}]")
        citations = []
        for hi in order:
            h = hits[hi]
            rec = index.articles.get(h.chunk.article_id)
            meta = rec.meta if rec else None
            citations.append(Citation(
                n=number[hi], source=h.chunk.article_id, title=meta.title if meta else None,
                date=meta.published if meta else None, text=h.chunk.text, start=h.chunk.start, end=h.chunk.end,
                score=h.score, date_inferred=bool(meta and meta.published_inferred),
                outlet=meta.outlet if meta else None, url=meta.url if meta else None))
        return Answer(question, " ".join(parts), False, tuple(citations), None, tuple(hits))


def _same_gist(a: str, b: str) -> bool:
    ta, tb = set(terms(a)), set(terms(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.6
