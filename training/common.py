"""Shared by the training scripts: indexes over question sets' corpora, and candidates with labels.

Everything here uses the engine's own code (`index.search`, `index.evidence`), so what a model is fitted
on is computed exactly as it is when the bot answers.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from corpus.load import load_articles  # noqa: E402
from index.build import BuildConfig, build_index  # noqa: E402
from index.encoder_factory import make_encoder  # noqa: E402
from index.evaluate import EvalQuestion, read_questions  # noqa: E402
from index.evidence import FEATURES, Candidate, candidates  # noqa: E402
from index.query import Query  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.store import IndexStore, LoadedIndex  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval"
OFF_TOPIC = "ood"  # the type given to a question asked of another title's corpus (one of OUT_OF_SCOPE)
WORK = ROOT / "training" / "work"  # generated, gitignored

# name -> (questions file, articles folder)
SETS = {
    "train": (SHARED / "squad" / "train" / "questions.jsonl", SHARED / "squad" / "train" / "articles"),
    "check": (SHARED / "squad" / "check" / "questions.jsonl", SHARED / "squad" / "check" / "articles"),
    "dev": (SHARED / "dev_questions.jsonl", ROOT / "corpus" / "articles"),
}

# SQuAD train titles split in two: the cross-encoder and the first-stage ranker are fitted on A; the final
# combination and the answerability model on B, where the cross-encoder's scores are not memorised. Each
# side holds one of the two titles that have unanswerable questions.
SPLIT_B = ("spectre__2015_film", "2008_sichuan_earthquake", "solar_energy")


def title_of(q: EvalQuestion) -> str:
    return (q.source or "").rsplit("-", 1)[0]


def side(q: EvalQuestion) -> str:
    return "B" if title_of(q) in SPLIT_B else "A"


_ENCODER = None


def encoder():
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = make_encoder("onnx", None, 32, None, ROOT / "var" / "models", "int8")
    return _ENCODER


def _index(folder: Path, where: Path) -> LoadedIndex:
    store = IndexStore(where)
    build_index(load_articles(folder), encoder(), store, BuildConfig())
    return store.load(verify=False)


def load_index(name: str) -> LoadedIndex:
    """The index over a set's articles, built into training/work/<name>/ and brought up to date (a changed
    analyser re-chunks, reusing the embeddings of unchanged passages)."""
    return _index(SETS[name][1], WORK / name / "index")


def title_folder(title: str) -> Path:
    """A corpus of one SQuAD train title's paragraphs alone (copied into training/work/titles/<title>/):
    one topic, a few thousand words, the size of corpus a user asks about (and of check/)."""
    src = SETS["train"][1]
    folder = WORK / "titles" / title / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob(f"{title}-*.txt")):
        if path.stem.rsplit("-", 1)[0] != title:
            continue
        dest, text = folder / path.name, path.read_bytes()
        if not dest.is_file() or dest.read_bytes() != text:
            dest.write_bytes(text)
    return folder


def title_searcher(title: str) -> Searcher:
    return Searcher(_index(title_folder(title), WORK / "titles" / title / "index"), encoder())


@dataclass
class QuestionCandidates:
    question: EvalQuestion
    cands: list[Candidate]
    labels: np.ndarray  # 1 where the candidate covers the gold answer
    query: Query  # the question as parsed against this corpus

    @property
    def features(self) -> np.ndarray:
        return np.stack([c.features for c in self.cands]) if self.cands else np.zeros((0, len(FEATURES)), np.float32)


def gather(name: str) -> list[QuestionCandidates]:
    """A question set asked of its own corpus."""
    qfile, _ = SETS[name]
    return ask(Searcher(load_index(name), encoder()), read_questions(qfile).questions)


def ask(searcher: Searcher, questions, off_topic: bool = False) -> list[QuestionCandidates]:
    """Each question's candidates from `searcher`'s corpus, labelled by whether they cover its answer.
    `off_topic`: the corpus is not the question's own, so the question is unanswerable there (its type
    becomes OFF_TOPIC)."""
    out = []
    for q in questions:
        if off_topic:
            q = replace(q, type=OFF_TOPIC, answers=(), spans=())
        query = searcher.parse(q.question)
        cands = candidates(query, searcher.passages(query), searcher.sentence_vectors)
        labels = np.array([1 if q.in_scope and q.covered_by(c.article_id, c.start, c.end, c.text) else 0
                           for c in cands], dtype=np.int8)
        out.append(QuestionCandidates(q, cands, labels, query))
    return out
