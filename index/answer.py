"""Extractive answers: the sentences that answer the question, each quoted and cited, or a decline.

The question is parsed once (`index.query`). Search gathers candidate passages; every sentence in them is
a candidate (`index.evidence`). Three fitted models, stored in `models/answer-model.json` and fitted by
`training/fit.py` on questions people wrote about text nobody here wrote, then decide:

1. a first-stage logistic regression orders all candidates on their evidence features;
2. the reader, a cross-encoder (`index.reader`), reads the question with each of the best few and the
   final logistic regression combines its score with the first stage's;
3. an answerability model turns features of the best candidates into the probability that the articles
   answer the question at all; below the threshold chosen on held-out questions, the answer declines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.evaluate import Outcome
from index.evidence import FEATURES, Candidate, Quote, candidates
from index.query import Query
from index.ranker import LinearModel, ModelFileError, read_json
from index.reader import OnnxReader, Reader
from index.search import Searcher
from index.timeline import date_for

ABSTAIN_TEXT = "The articles I have do not cover that question."

# The final model's inputs for a sentence the reader read.
READ_FEATURES = ("reader", "reader_gap", "reader_rank", "stage1", "stage1_gap")
# The answerability model's inputs: about the question and its best candidates.
QUESTION_FEATURES = (
    "final_top", "final_margin", "reader_top", "reader_margin", "stage1_top", "s_dense_top", "p_dense_top",
    "best_s_cov", "best_ctx_cov", "best_p_cov", "best_names", "best_s_names", "unknown", "kind_missing", "agree",
    "missing_max",
)
_F = {name: i for i, name in enumerate(FEATURES)}


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
    reason: str | None = None  # why it declined, for logs and --verbose
    confidence: float = 0.0  # probability that the articles answer the question
    ranked: tuple[Quote, ...] = field(default=(), compare=False, repr=False)  # best first, cited ones first
    sentences: tuple[tuple[int, str, int, int], ...] = ()  # (n, source, start, end) of each answer sentence
    event_date: str | None = None  # for a 'when' question: the timeline's label for the date the answer states

    def as_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "citations": [c.as_json() for c in self.citations]}

    def outcome(self) -> Outcome:
        """What evaluation scores."""
        return Outcome(self.ranked, self.answer, self.abstained, self.confidence)


@dataclass(frozen=True)
class AnswerModel:
    """The fitted models and the choices made with them, from `models/answer-model.json`."""

    stage1: LinearModel
    final: LinearModel
    answerable: LinearModel
    threshold: float  # decline when the answerability probability is below this
    read: int  # how many of the first stage's best sentences the reader reads
    second: float  # a second answer sentence is quoted when its probability reaches this share of the first's
    reader_file: Path
    tokenizer_file: Path
    reader_sha256: str | None = None

    @classmethod
    def load(cls, path: Path) -> AnswerModel:
        data = read_json(path)
        try:
            return cls(
                LinearModel.from_json(data["stage1"], FEATURES), LinearModel.from_json(data["final"], READ_FEATURES),
                LinearModel.from_json(data["answerable"], QUESTION_FEATURES), float(data["threshold"]),
                int(data["read"]), float(data["second"]), path.parent / data["reader"], path.parent / data["tokenizer"],
                data.get("reader_sha256"))
        except ModelFileError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: not an answer model ({exc!r})") from None


@dataclass(frozen=True)
class AnswerConfig:
    max_citations: int = 3  # sentences quoted in an answer, at most
    threshold: float | None = None  # overrides the model's decline threshold (0 never declines)
    ranked: int = 5  # ranked quotes kept for evaluation


@dataclass(frozen=True)
class Scored:
    """A candidate with its scores: `final` orders candidates, `probability` is its chance to answer."""

    cand: Candidate
    stage1: float
    final: float
    probability: float
    reader: float | None = None


class Composer:
    """Turns a question into an Answer using a Searcher, the fitted models and the reader."""

    def __init__(self, searcher: Searcher, model: AnswerModel, reader: Reader | None = None,
                 config: AnswerConfig | None = None) -> None:
        self.searcher = searcher
        self.model = model
        self.reader = reader or OnnxReader(model.reader_file, model.tokenizer_file, sha256=model.reader_sha256)
        self.config = config or AnswerConfig()

    @property
    def threshold(self) -> float:
        return self.model.threshold if self.config.threshold is None else self.config.threshold

    def answer(self, question: str) -> Answer:
        query = self.searcher.parse(question)
        scored = self.rank(query)
        if not scored:
            return Answer(question, ABSTAIN_TEXT, True, (), "no passage shares a word or meaning with the question")
        confidence = float(self.model.answerable.probability(question_features(query, scored)[None, :])[0])
        ranked = tuple(Quote(s.cand.article_id, s.cand.start, s.cand.end, s.cand.text)
                       for s in scored[: self.config.ranked])
        if confidence < self.threshold:
            return Answer(question, ABSTAIN_TEXT, True, (), f"answerability {confidence:.2f} < {self.threshold:.2f}",
                          confidence, ranked)
        return self._compose(query, scored, confidence)

    def rank(self, query: Query) -> list[Scored]:
        """Every candidate sentence, best first; the best `read` were read by the reader."""
        hits = self.searcher.passages(query)
        cands = candidates(query, hits, self.searcher.sentence_vectors)
        if not cands:
            return []
        s1 = self.model.stage1.score(np.stack([c.features for c in cands]))
        top = np.argsort(-s1, kind="stable")[: self.model.read]
        logits = self.reader.score(query.text, [cands[i].text for i in top])
        return combine(cands, s1, logits, self.model.final)

    def _compose(self, query: Query, scored: list[Scored], confidence: float) -> Answer:
        best = scored[0]
        picked = [best]
        for s in scored[1: self.config.max_citations]:
            if s.reader is None or s.probability < self.model.second * best.probability:
                break
            if not any(_overlaps(s.cand, p.cand) for p in picked):
                picked.append(s)
        index = self.searcher.index
        citations, parts, spans = [], [], []
        for n, s in enumerate(picked, 1):
            c = s.cand
            rec = index.articles.get(c.article_id)
            meta = rec.meta if rec else None
            citations.append(Citation(
                n=n, source=c.article_id, title=meta.title if meta else None,
                date=meta.published if meta else None, text=c.text, start=c.start, end=c.end,
                score=s.probability, date_inferred=bool(meta and meta.published_inferred),
                outlet=meta.outlet if meta else None, url=meta.url if meta else None,
                author=meta.author if meta else None))
            parts.append(f"{' '.join(c.text.split())} [{n}]")
            spans.append((n, c.article_id, c.start, c.end))
        cited = {(c.article_id, c.start) for c in (p.cand for p in picked)}
        ranked = [Quote(p.cand.article_id, p.cand.start, p.cand.end, p.cand.text) for p in picked]
        ranked += [Quote(s.cand.article_id, s.cand.start, s.cand.end, s.cand.text) for s in scored
                   if (s.cand.article_id, s.cand.start) not in cited][: max(0, self.config.ranked - len(ranked))]
        event_date = None
        if query.answer_type in ("time", "year"):  # the date the answer sentence states, as the timeline resolved it
            event_date = date_for(index.timeline, best.cand.article_id, best.cand.start, best.cand.end, query.weights)
        return Answer(query.text, " ".join(parts), False, tuple(citations), None, confidence, tuple(ranked),
                      tuple(spans), event_date)


def combine(cands: Sequence[Candidate], stage1: np.ndarray, logits: np.ndarray, final: LinearModel) -> list[Scored]:
    """Candidates best first: the first stage's best `len(logits)` (which the reader read, in first-stage
    order) by the final model, then the others in first-stage order."""
    order = np.argsort(-stage1, kind="stable")
    top, rest = order[: len(logits)], order[len(logits):]
    scores = final.score(read_features(logits, stage1[top]))
    probs = 1.0 / (1.0 + np.exp(-scores))
    read = [Scored(cands[i], float(stage1[i]), float(f), float(p), float(r))
            for i, f, p, r in zip(top, scores, probs, logits)]
    read.sort(key=lambda s: -s.final)
    return read + [Scored(cands[i], float(stage1[i]), float("-inf"), 0.0) for i in rest]


def read_features(logits: np.ndarray, stage1: np.ndarray) -> np.ndarray:
    """READ_FEATURES for the sentences the reader read (rows in the same order as `logits`)."""
    logits = np.asarray(logits, np.float32)
    stage1 = np.asarray(stage1, np.float32)
    if not len(logits):
        return np.zeros((0, len(READ_FEATURES)), np.float32)
    rank = np.empty(len(logits), np.float32)
    rank[np.argsort(-logits, kind="stable")] = np.arange(len(logits), dtype=np.float32)
    return np.stack([logits, logits - logits.max(), 1.0 / (1.0 + rank), stage1, stage1 - stage1.max()], axis=1)


def question_features(query: Query, scored: Sequence[Scored]) -> np.ndarray:
    """QUESTION_FEATURES: how strongly the best candidates answer, and what the question asks that they lack."""
    read = [s for s in scored if s.reader is not None]
    best = scored[0]
    finals = sorted((s.final for s in read), reverse=True) + [-10.0, -10.0]
    readers = sorted((s.reader for s in read), reverse=True) + [-10.0, -10.0]
    feats = np.stack([s.cand.features for s in scored])
    f = best.cand.features
    top_s1 = max(scored, key=lambda s: s.stage1)
    # The weightiest question term the best passage lacks, against the weightiest term: a swapped name or
    # number ("... computer class ..." for "... computer science ...") makes a question unanswerable.
    heaviest = max(query.weights.values(), default=0.0)
    missing = max((w for t, w in query.weights.items() if t not in best.cand.passage.terms), default=0.0)
    return np.asarray([
        finals[0], finals[0] - finals[1], readers[0], readers[0] - readers[1], top_s1.stage1,
        feats[:, _F["s_dense"]].max(), feats[:, _F["p_dense"]].max(),
        f[_F["s_cov"]], f[_F["ctx_cov"]], f[_F["p_cov"]], f[_F["p_names"]], f[_F["s_names"]], query.unknown,
        1.0 if query.answer_type and not f[_F["kind_match"]] else 0.0, 1.0 if top_s1 is best else 0.0,
        missing / heaviest if heaviest else 0.0,
    ], dtype=np.float32)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end
