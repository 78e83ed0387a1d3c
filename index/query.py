"""A question, parsed once: what it asks for, the names it uses, its weighted terms and its vector.

Search, answer selection and declining all read this value; none of them parses the question again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from corpus.text import terms
from index.lexical import BM25
from index.qtype import answer_type

# Terms of a subordinate "when/after/..." clause describe the circumstance, not what is asked: they count
# less than the main clause's ("Who was minister *when parliament voted*?").
SUBORDINATE_WEIGHT = 0.6
_SUBORDINATE = re.compile(r"\s(when|while|after|before|because|since|until|once|if|as)\s", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'.-]*")


@dataclass(frozen=True)
class Query:
    """A parsed question."""

    text: str
    answer_type: str | None  # what it asks for: time, year, duration, count, quantity, author, name, or None
    names: dict[str, str]  # term -> word, for the capitalised words inside the question
    weights: dict[str, float]  # content term -> IDF weight in the corpus (less in a subordinate clause)
    vector: np.ndarray = field(compare=False, repr=False)
    unknown: float = 0.0  # share of the term weight on terms no article uses

    @property
    def total_weight(self) -> float:
        return sum(self.weights.values())


def parse_query(text: str, vector: np.ndarray, bm25: BM25) -> Query:
    """The question's parts, with term weights from the corpus's BM25 statistics."""
    main, sub = split_clauses(text)
    weights = {t: bm25.term_idf(t) * SUBORDINATE_WEIGHT for t in terms(sub)}
    weights.update({t: bm25.term_idf(t) for t in terms(main)})
    total = sum(weights.values())
    unknown = sum(w for t, w in weights.items() if t not in bm25.vocab) / total if total else 0.0
    return Query(text, answer_type(text), question_names(text), weights, np.asarray(vector, dtype=np.float32),
                 unknown)


def split_clauses(question: str) -> tuple[str, str]:
    """(main clause, subordinate clause) of a question like 'Who was minister when parliament voted?'."""
    m = _SUBORDINATE.search(question, 4)
    return (question[: m.start()], question[m.start():]) if m else (question, "")


def question_names(question: str) -> dict[str, str]:
    """Term -> word, for the capitalised words inside the question (names of people, places, treaties)."""
    out: dict[str, str] = {}
    for m in _CAPITALISED.finditer(question):
        if m.start() == 0 or question[: m.start()].rstrip().endswith(("?", ".", "!", ":")):
            continue
        for t in terms(m.group()):
            out[t] = m.group()
    return out
