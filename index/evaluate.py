"""Retrieval and abstention quality over a question file (one JSON object per line)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.models import CorpusError
from corpus.text import fold
from index.answer import Answer

OUT_OF_SCOPE = {"ood", "out_of_scope", "out-of-scope", "unanswerable"}


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    type: str
    answers: tuple[str, ...]

    @property
    def in_scope(self) -> bool:
        return self.type not in OUT_OF_SCOPE and bool(self.answers)


@dataclass(frozen=True)
class EvalRow:
    id: str
    question: str
    in_scope: bool
    rank: int | None  # 1-based rank of the first passage holding an answer string
    abstained: bool
    answered_with_it: bool = False  # the answer's own text (its quoted sentences) holds an answer string


@dataclass(frozen=True)
class EvalReport:
    questions: int
    in_scope: int
    out_of_scope: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr: float
    abstained_out_of_scope: int
    abstention_rate_out_of_scope: float
    wrong_abstentions: int
    rows: tuple[EvalRow, ...]
    # in-scope questions whose answer text, not just a cited passage, holds an answer string
    answer_holds_it: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rows"] = [asdict(r) for r in self.rows]
        return d


def read_questions(path: Path) -> list[EvalQuestion]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot be read ({exc})") from exc
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = row.get("answer", [])
            answers = [answers] if isinstance(answers, str) else list(answers)
            out.append(EvalQuestion(str(row.get("id", n)), row["question"], row.get("type", ""), tuple(answers)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CorpusError(f"{path}:{n}: not a question record ({exc})") from exc
    if not out:
        raise CorpusError(f"{path}: no questions in it")
    return out


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Case- and diacritic-insensitive containment of any answer string."""
    hay = " ".join(fold(text).split())
    return any(" ".join(fold(a).split()) in hay for a in answers)


def score(questions: list[EvalQuestion], answers: list[Answer]) -> EvalReport:
    """Hit@k over the ranked passages of in-scope questions, and how often the answer text itself holds an
    answer string; abstention over out-of-scope ones."""
    rows = []
    for q, a in zip(questions, answers):
        rank = None
        if q.in_scope:
            for i, hit in enumerate(a.hits, 1):
                if contains_answer(hit.chunk.text, q.answers):
                    rank = i
                    break
        said = q.in_scope and not a.abstained and contains_answer(a.answer, q.answers)
        rows.append(EvalRow(q.id, q.question, q.in_scope, rank, a.abstained, said))
    ins = [r for r in rows if r.in_scope]
    outs = [r for r in rows if not r.in_scope]

    def hit(k: int) -> float:
        return sum(1 for r in ins if r.rank is not None and r.rank <= k) / len(ins) if ins else 0.0

    abstained_out = sum(1 for r in outs if r.abstained)
    return EvalReport(
        questions=len(rows), in_scope=len(ins), out_of_scope=len(outs),
        hit_at_1=hit(1), hit_at_3=hit(3), hit_at_5=hit(5),
        mrr=sum(1 / r.rank for r in ins if r.rank) / len(ins) if ins else 0.0,
        abstained_out_of_scope=abstained_out,
        abstention_rate_out_of_scope=abstained_out / len(outs) if outs else 0.0,
        wrong_abstentions=sum(1 for r in ins if r.abstained),
        rows=tuple(rows),
        answer_holds_it=sum(1 for r in ins if r.answered_with_it) / len(ins) if ins else 0.0,
    )
