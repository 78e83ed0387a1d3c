"""Extractive answers: the sentences that best answer the question, each cited to a verbatim passage.

When the retrieved passages do not cover the question (its distinctive terms and names are not in
them, and they are not close in meaning) the answer abstains instead of citing something unrelated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from corpus.text import sentence_spans, terms
from index.qtype import answer_kinds, answer_type, counted_words
from index.search import Hit, Searcher, analysed_sentences

ABSTAIN_TEXT = "The articles I have do not cover that question."

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
    author: str | None = None

    def as_json(self) -> dict:
        return {"n": self.n, "source": self.source, "title": self.title, "date": self.date, "text": self.text,
                "start": self.start, "end": self.end, "score": round(self.score, 4), "outlet": self.outlet,
                "author": self.author, "url": self.url}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    reason: str | None = None  # why it abstained, for logs and --verbose
    hits: tuple[Hit, ...] = field(default=(), compare=False, repr=False)
    sentences: tuple[tuple[int, str, int, int], ...] = ()  # (n, source, start, end) of each answer sentence
    when: str | None = None  # for a 'when' question: the date the timeline resolves the answer to ("Jul 2024")

    def as_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "citations": [c.as_json() for c in self.citations]}


@dataclass(frozen=True)
class AnswerConfig:
    max_citations: int = 3
    min_support: float = 0.4  # a passage's share of the question's terms plus its cosine to the question
    search_k: int = 8


def question_names(question: str) -> dict[str, str]:
    """Term -> word, for the capitalised words inside the question (names of people, places, treaties)."""
    out: dict[str, str] = {}
    for m in re.finditer(r"\b[A-Z][\w’'.-]*", question):
        if m.start() == 0 or question[: m.start()].rstrip().endswith(("?", ".", "!", ":")):
            continue
        for t in terms(m.group()):
            out[t] = m.group()
    return out


# Kinds of answer a sentence must state to answer the question: a "how many" sentence without a count (a year
# or a sum of money is not one), an "in what year" sentence without a year.
_STATED_KINDS = ("time", "year", "duration", "quantity", "count")
_DEMONYM_ENDINGS = ("n", "an", "ian")  # Lithuania -> Lithuanian, Ukraine -> Ukrainian (stems: ukrain -> ukrainian)


def names_present(names: dict[str, str], found: set[str]) -> bool:
    """Whether every name term is among `found`, a place also counting as found through its adjective."""
    for name in names:
        if name not in found and not any(
                (w.startswith(name) and w[len(name):] in _DEMONYM_ENDINGS)
                or (name.startswith(w) and name[len(w):] in _DEMONYM_ENDINGS) for w in found):
            return False
    return True


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
        kind = answer_type(question)
        if kind == "name":
            picked = self._with_speakers(hits, picked)
        if kind in _STATED_KINDS and picked and not any(
                kind in answer_kinds(_slice(hits[hi], s, e)) for hi, s, e in picked):
            # 'How many ...?' answered by a sentence without a number: the articles do not say
            return Answer(question, ABSTAIN_TEXT, True, (), f"no answer sentence states a {kind}", tuple(hits))
        return self._compose(question, hits, picked)

    def supported(self, question: str, hits: list[Hit]) -> tuple[bool, str | None]:
        """Whether some top passage covers the question; else the reason to abstain.

        A passage supports the question when it (or its article's title, outlet, author) names every
        name the question names, and its share of the question's terms plus its closeness in meaning
        reaches `min_support`.
        """
        if not hits:
            return False, "the index is empty"
        counted = counted_words(question)
        vocabulary = self.searcher.index.bm25.vocab
        if counted and not any(t in vocabulary for t in terms(" ".join(counted))):
            # "How many tanks ...?" when no article mentions tanks: whatever number a passage gives, it counts
            # something else
            return False, f"the articles never mention {' '.join(counted)}"
        names = question_names(question)
        top = hits[: self.config.max_citations]
        with_names = [h for h in top if names_present(names, self._passage_terms(h))]
        if not with_names:
            return False, f"no passage mentions {' and '.join(sorted(set(names.values())))}"
        best = max(with_names, key=lambda h: h.chunk_coverage + h.dense)
        support = best.chunk_coverage + best.dense
        if support < self.config.min_support:
            return False, f"weak evidence (support {support:.2f} < {self.config.min_support})"
        return True, None

    def _passage_terms(self, hit: Hit) -> set[str]:
        found = set().union(*(t for t, _ in analysed_sentences(hit.chunk.text)))
        record = self.searcher.index.articles.get(hit.chunk.article_id)
        if record:
            meta = record.meta
            found.update(terms(" ".join(x for x in (meta.title, meta.outlet, meta.author) if x)))
        return found

    def _pick_sentences(self, question: str, qv: np.ndarray, hits: list[Hit]) -> list[tuple[int, int, int]]:
        """(hit index, start, end) of the sentences to answer with, best first, offsets into the article."""
        kind = answer_type(question)
        weights = self.searcher.term_weights(question)
        total = sum(weights.values()) or 1.0
        scored = []
        names = question_names(question) if kind == "author" else {}
        for hi, h in enumerate(hits):
            spans = sentence_spans(h.chunk.text)
            bonus = _KIND_BONUS.get(kind, 0.3)
            if kind == "author" and not names_present(names, self._passage_terms(h)):
                bonus = 0.3  # a byline answers "who wrote the X report?" only in a report that names X
            # The sentences' terms and answer kinds were worked out (and cached) when the passage was scored;
            # their vectors were computed when the index was built.
            vectors = self._sentence_vectors(h, spans)
            for (s, e), (sentence_terms, kinds), vec in zip(spans, analysed_sentences(h.chunk.text), vectors):
                prior = (sum(weights[t] for t in sentence_terms & weights.keys()) / total
                         + (bonus if kind in kinds else 0.0) - 0.05 * hi)
                scored.append((float(vec @ qv) + prior, hi, h.chunk.start + s, h.chunk.start + e, h.chunk.text[s:e]))
        if not scored:
            return []
        scored.sort(key=lambda x: -x[0])
        best = scored[0]
        picked = [(best[1], best[2], best[3])]
        for score, hi, s, e, text in scored[1:]:
            if score < best[0] * 0.85 or len(picked) >= 2:
                break
            if hi != best[1] and not _same_gist(text, best[4]):
                picked.append((hi, s, e))
        return picked

    @staticmethod
    def _with_speakers(hits: list[Hit], picked: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """For a who/which question, a sentence whose speaker is only a pronoun ("Lithuania, he insisted, ...")
        is quoted from the sentence before it, which names them ("According to Defence Minister Arvydas
        Anušauskas, ..."), from whichever retrieved passage of the article holds both."""
        out = []
        for hi, start, end in picked:
            if _PRONOUN_SPEAKER.search(_slice(hits[hi], start, end)):
                for i in [hi] + [i for i in range(len(hits)) if i != hi]:
                    chunk = hits[i].chunk
                    if chunk.article_id != hits[hi].chunk.article_id or not chunk.start <= start < end <= chunk.end:
                        continue
                    before = [s for s, e in sentence_spans(chunk.text) if chunk.start + e <= start]
                    if before:
                        hi, start = i, chunk.start + before[-1]
                        break
            out.append((hi, start, end))
        return out

    def _sentence_vectors(self, hit: Hit, spans: list[tuple[int, int]]) -> np.ndarray:
        """The passage's sentence vectors, as search read them from the index; computed here only for an
        index without them."""
        if hit.sentence_vectors is not None and len(hit.sentence_vectors) == len(spans):
            return hit.sentence_vectors
        return self.searcher.encoder.encode([hit.chunk.text[s:e] for s, e in spans])

    def _compose(self, question: str, hits: list[Hit], picked: list[tuple[int, int, int]]) -> Answer:
        index = self.searcher.index
        order: list[int] = []
        for hi, _, _ in picked:
            if hi not in order:
                order.append(hi)
        for hi in range(min(len(hits), self.config.max_citations)):
            if hi not in order and hits[hi].score >= hits[0].score * 0.9 and len(order) < self.config.max_citations:
                order.append(hi)
        number = {hi: n for n, hi in enumerate(order, 1)}
        parts, spans = [], []
        for hi, s, e in picked:
            spans.append((number[hi], hits[hi].chunk.article_id, s, e))
            parts.append(f"{' '.join(_slice(hits[hi], s, e).split())} [{number[hi]}]")
        citations = []
        for hi in order:
            h = hits[hi]
            rec = index.articles.get(h.chunk.article_id)
            meta = rec.meta if rec else None
            citations.append(Citation(
                n=number[hi], source=h.chunk.article_id, title=meta.title if meta else None,
                date=meta.published if meta else None, text=h.chunk.text, start=h.chunk.start, end=h.chunk.end,
                score=h.score, date_inferred=bool(meta and meta.published_inferred),
                outlet=meta.outlet if meta else None, url=meta.url if meta else None,
                author=meta.author if meta else None))
        return Answer(question, " ".join(parts), False, tuple(citations), None, tuple(hits), tuple(spans))


# How much an answer sentence gains by holding the kind of answer asked for. A byline answers "who wrote ...?"
# outright, though it shares no words with the question.
_KIND_BONUS = {"author": 1.0}

# A speaker named only by a pronoun: "..., he said.", "Lithuania, she insisted, ...", "He added, ...".
_PRONOUN_SPEAKER = re.compile(r"\b(he|she)\s+(said|says|added|adds|insisted|insists|told|tells|stated|argued|"
                              r"noted|stressed|warned|emphasi[sz]ed|explained|remarked|claimed|acknowledged)\b",
                              re.IGNORECASE)


def _slice(hit: Hit, start: int, end: int) -> str:
    """The article's text [start:end], from the hit's passage that holds it."""
    return hit.chunk.text[start - hit.chunk.start : end - hit.chunk.start]


def _same_gist(a: str, b: str) -> bool:
    ta, tb = set(terms(a)), set(terms(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.6
