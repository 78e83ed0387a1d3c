"""Answer quality over a question file (one JSON object per line), beside plain baselines from the same run.

Two formats are read. The dev format gives answer strings: a cited text holding one counts (a loose hit).
The SQuAD format (`../shared/eval/squad/README.md`) adds the gold file and character spans: a citation of
that file whose [start:end] covers a span counts (a strict hit). Questions whose `type` marks them as out of
scope, or with no answer, should be declined.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.errors import CitebotError
from corpus.text import fold
from index.evidence import Quote

OUT_OF_SCOPE = {"ood", "out_of_scope", "out-of-scope", "unanswerable", "near-ood"}
# Rates of wrong declines at which the decline curve is printed.
CURVE_POINTS = (0.01, 0.02, 0.05, 0.10, 0.20)


class QuestionFileError(CitebotError):
    """A question file that cannot be used at all; the message says why."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    type: str
    answers: tuple[str, ...]
    source: str | None = None  # the gold article file, relative to the corpus folder (SQuAD format)
    spans: tuple[tuple[int, int], ...] = ()  # character offsets of the answers in `source`

    @property
    def in_scope(self) -> bool:
        return self.type not in OUT_OF_SCOPE and bool(self.answers)

    @property
    def strict(self) -> bool:
        return self.source is not None and bool(self.spans)

    def covered_by(self, source: str, start: int, end: int, text: str) -> bool:
        """Whether a cited slice holds an answer: covers a gold span (strict) or contains an answer string."""
        if self.strict:
            return source == self.source and any(start <= s and e <= end for s, e in self.spans)
        return contains_answer(text, self.answers)


@dataclass(frozen=True)
class QuestionFile:
    questions: tuple[EvalQuestion, ...]
    problems: tuple[str, ...]  # "line 7: ..." for each record that was skipped


@dataclass(frozen=True)
class Outcome:
    """What the system did with one question, as scoring needs it."""

    ranked: tuple[Quote, ...]  # best first; the answer's own citations come first
    answer_text: str
    declined: bool
    confidence: float  # the probability that the question is answered by the articles


@dataclass(frozen=True)
class Baseline:
    """The plain system for one question: passages by reciprocal-rank fusion, and the best dense cosine."""

    ranked: tuple[Quote, ...]
    top_cosine: float


@dataclass(frozen=True)
class EvalRow:
    id: str
    question: str
    in_scope: bool
    rank: int | None  # 1-based rank of the first quote holding an answer
    abstained: bool
    answered_with_it: bool  # the answer's own text holds an answer string
    confidence: float
    baseline_rank: int | None = None


@dataclass(frozen=True)
class CurvePoint:
    wrong_declines: float  # share of answerable questions declined
    unanswerable_declined: float
    threshold: float


@dataclass(frozen=True)
class EvalReport:
    questions: int
    in_scope: int
    out_of_scope: int
    strict: bool  # every in-scope question had gold spans
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr: float
    answer_holds_it: float  # in-scope questions answered (not declined) with text holding an answer string
    first_and_answered: float  # in-scope questions answered with the answer's first quote holding it
    wrong_abstentions: int
    wrong_decline_rate: float
    abstained_out_of_scope: int
    abstention_rate_out_of_scope: float
    curve: tuple[CurvePoint, ...]  # the decline curve of the answerability probability
    baseline: dict  # plain reciprocal-rank fusion and a dense-cosine threshold, from the same run
    rows: tuple[EvalRow, ...]
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rows"] = [asdict(r) for r in self.rows]
        return d


def read_questions(path: Path) -> QuestionFile:
    """Questions from a JSON-lines file; a malformed record is skipped and named, not fatal."""
    try:
        lines = path.read_bytes().decode("utf-8-sig").splitlines()
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise QuestionFileError(f"{path}: not UTF-8 text") from None
    out, problems = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(_question(json.loads(line), n))
        except (ValueError, RecursionError) as exc:
            problems.append(f"line {n}: {_short(exc)}")
    if not out:
        detail = f" ({problems[0]}{' ...' if len(problems) > 1 else ''})" if problems else ""
        raise QuestionFileError(f"{path}: no usable questions in it{detail}")
    return QuestionFile(tuple(out), tuple(problems))


def _question(row: object, n: int) -> EvalQuestion:
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError('"question" must be a non-empty string')
    answers = row.get("answer", [])
    answers = [answers] if isinstance(answers, str) else answers
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ValueError('"answer" must be a string or a list of strings')
    kind = row.get("type", "")
    if not isinstance(kind, str):
        raise ValueError('"type" must be a string')
    ident = row.get("id", n)
    if not isinstance(ident, (str, int)):
        raise ValueError('"id" must be a string or a number')
    source = row.get("source")
    if source is not None and not isinstance(source, str):
        raise ValueError('"source" must be a file name')
    spans = row.get("spans", [])
    if not isinstance(spans, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(type(x) is int for x in s) and 0 <= s[0] <= s[1]
            for s in spans):
        raise ValueError('"spans" must be a list of [start, end] character offsets')
    return EvalQuestion(str(ident), question, kind, tuple(a for a in answers if a.strip()), source,
                        tuple((s, e) for s, e in spans))


def _short(exc: BaseException) -> str:
    text = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Case- and diacritic-insensitive containment of any answer string."""
    hay = " ".join(fold(text).split())
    return any(" ".join(fold(a).split()) in hay for a in answers)


def first_rank(q: EvalQuestion, ranked: Sequence[Quote]) -> int | None:
    for i, ev in enumerate(ranked, 1):
        if q.covered_by(ev.source, ev.start, ev.end, ev.text):
            return i
    return None


def score(questions: Sequence[EvalQuestion], outcomes: Sequence[Outcome],
          baselines: Sequence[Baseline] | None = None, problems: Sequence[str] = ()) -> EvalReport:
    """hit@k over the ranked quotes of in-scope questions (whether or not the answer was declined), what the
    answer text holds, declines on both kinds of question, the decline curve, and the baselines."""
    rows = []
    for i, (q, o) in enumerate(zip(questions, outcomes)):
        rank = first_rank(q, o.ranked) if q.in_scope else None
        said = q.in_scope and not o.declined and contains_answer(o.answer_text, q.answers)
        base = first_rank(q, baselines[i].ranked) if baselines and q.in_scope else None
        rows.append(EvalRow(q.id, q.question, q.in_scope, rank, o.declined, said, o.confidence, base))
    ins = [r for r in rows if r.in_scope]
    outs = [r for r in rows if not r.in_scope]
    wrong = sum(1 for r in ins if r.abstained)
    declined_out = sum(1 for r in outs if r.abstained)
    return EvalReport(
        questions=len(rows), in_scope=len(ins), out_of_scope=len(outs),
        strict=all(q.strict for q in questions if q.in_scope) and bool(ins),
        hit_at_1=_hit(ins, 1), hit_at_3=_hit(ins, 3), hit_at_5=_hit(ins, 5), mrr=_mrr(ins),
        answer_holds_it=_share(ins, lambda r: r.answered_with_it),
        first_and_answered=_share(ins, lambda r: r.rank == 1 and not r.abstained),
        wrong_abstentions=wrong, wrong_decline_rate=wrong / len(ins) if ins else 0.0,
        abstained_out_of_scope=declined_out, abstention_rate_out_of_scope=declined_out / len(outs) if outs else 0.0,
        curve=decline_curve([r.confidence for r in ins], [r.confidence for r in outs]),
        baseline=_baseline(questions, rows, baselines) if baselines else {},
        rows=tuple(rows), problems=tuple(problems))


def _hit(rows: Sequence[EvalRow], k: int, attr: str = "rank") -> float:
    return sum(1 for r in rows if getattr(r, attr) is not None and getattr(r, attr) <= k) / len(rows) if rows else 0.0


def _mrr(rows: Sequence[EvalRow], attr: str = "rank") -> float:
    return sum(1 / getattr(r, attr) for r in rows if getattr(r, attr)) / len(rows) if rows else 0.0


def _share(rows: Sequence[EvalRow], pred: Callable[[EvalRow], bool]) -> float:
    return sum(1 for r in rows if pred(r)) / len(rows) if rows else 0.0


def decline_curve(answerable: Sequence[float], unanswerable: Sequence[float],
                  points: Sequence[float] = CURVE_POINTS) -> tuple[CurvePoint, ...]:
    """For each allowed rate of wrong declines, the share of unanswerable questions a threshold on the
    confidence declines (declining below the threshold)."""
    if not answerable or not unanswerable:
        return ()
    ranked = sorted(answerable)
    out = []
    for rate in points:
        k = int(rate * len(ranked))  # declining at most k answerable questions
        threshold = ranked[k] if k < len(ranked) else float("inf")
        wrong = sum(1 for c in ranked if c < threshold) / len(ranked)
        out.append(CurvePoint(wrong, sum(1 for c in unanswerable if c < threshold) / len(unanswerable), threshold))
    return tuple(out)


def _baseline(questions: Sequence[EvalQuestion], rows: Sequence[EvalRow], baselines: Sequence[Baseline]) -> dict:
    """Plain reciprocal-rank fusion's hit@k, and what one threshold on the dense top-1 cosine declines when it
    wrongly declines as many answerable questions as the system did."""
    ins = [r for r in rows if r.in_scope]
    cos_in = [b.top_cosine for q, b in zip(questions, baselines) if q.in_scope]
    cos_out = [b.top_cosine for q, b in zip(questions, baselines) if not q.in_scope]
    wrong_rate = sum(1 for r in ins if r.abstained) / len(ins) if ins else 0.0
    at_same = decline_curve(cos_in, cos_out, (wrong_rate,))
    return {"hit_at_1": _hit(ins, 1, "baseline_rank"), "hit_at_3": _hit(ins, 3, "baseline_rank"),
            "hit_at_5": _hit(ins, 5, "baseline_rank"), "mrr": _mrr(ins, "baseline_rank"),
            "cosine_wrong_declines": at_same[0].wrong_declines if at_same else 0.0,
            "cosine_unanswerable_declined": at_same[0].unanswerable_declined if at_same else 0.0,
            "cosine_curve": [asdict(p) for p in decline_curve(cos_in, cos_out)]}
