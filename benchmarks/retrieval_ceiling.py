"""How far re-weighting the re-scoring features can take retrieval on the shipped corpus.

    .venv/bin/python benchmarks/retrieval_ceiling.py [QUESTION_FILES ...]

For every in-scope question and every passage it computes the features search re-scores with (passage and
closest-sentence cosine, BM25 share, best sentence's term coverage, answer-kind match) and three more that
were tried as additions (question term pairs found side by side, the article's coverage of the question, and
a soft term match: each question word's closest word in the sentence by MiniLM word vectors). Then it tries
every weighting on a grid and prints, per question file, hit@1 and hit@3 with the shipped weights and the
best that any weighting reaches when fitted to that very file (an optimistic ceiling: no held-out data).
The grid is searched with plain ranks; the 300 best weightings are then ranked again exactly as search does,
with its same-article penalty, and the best of those is printed too.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_FILES = [ROOT.parent / "shared" / "eval" / "dev_questions.jsonl",
                 ROOT / "tests" / "fixtures" / "extra_questions.jsonl",
                 ROOT / "tests" / "fixtures" / "holdout_questions.jsonl"]
FEATURES = ["dense", "sentence dense", "lexical", "coverage", "answer kind", "term pairs", "article coverage",
            "soft match"]
SHIPPED = [2.0, 2.0, 1.0, 1.0, 0.2, 0.0, 0.0, 0.0]
GRID = [0.0, 0.5, 1.0, 2.0]  # for every weight but the passage cosine's, which sets the scale (2.0)


def term_pairs(question_terms: list[str], weights: dict[str, float], sentences: list[list[str]]) -> float:
    """IDF share of the question's adjacent term pairs that some sentence has within three terms, in order."""
    pairs = [(a, b) for a, b in zip(question_terms, question_terms[1:]) if a != b]
    total = sum(min(weights.get(a, 0), weights.get(b, 0)) for a, b in pairs)
    if not total:
        return 0.0
    found = set()
    for seq in sentences:
        where: dict[str, list[int]] = {}
        for i, t in enumerate(seq):
            where.setdefault(t, []).append(i)
        found |= {(a, b) for a, b in pairs if any(0 < j - i <= 3 for i in where.get(a, ()) for j in where.get(b, ()))}
    return sum(min(weights.get(a, 0), weights.get(b, 0)) for a, b in found) / total


def features(service, questions) -> list[tuple[np.ndarray, np.ndarray, list[str]]]:
    """(passages x features, which passages hold an answer string, each passage's article) for each in-scope
    question."""
    from corpus.text import _STOPWORDS, sentence_spans, terms, words
    from index.evaluate import contains_answer
    from index.qtype import answer_type
    from index.search import sentence_coverage

    index, searcher, encoder = service.index, service._composer.searcher, service.encoder
    chunks = index.chunks
    sentences = [[c.text[a:b] for a, b in sentence_spans(c.text)] for c in chunks]
    sentence_terms = [[terms(s) for s in ss] for ss in sentences]
    content = lambda text: [w.replace("'s", "").replace("'", "") for w in words(text) if w not in _STOPWORDS]  # noqa: E731
    sentence_words = [[content(s) for s in ss] for ss in sentences]
    article_terms: dict[str, set[str]] = {}
    for c, st in zip(chunks, sentence_terms):
        article_terms.setdefault(c.article_id, set()).update(*st)
    vocabulary = sorted({w for sw in sentence_words for ws in sw for w in ws}
                        | {w for q in questions for w in content(q.question)})
    word_vectors = dict(zip(vocabulary, encoder.encode(vocabulary)))
    out = []
    for q in questions:
        qv = searcher.embed(q.question)
        weights = searcher.term_weights(q.question)
        total = sum(weights.values()) or 1.0
        possible = sum(index.bm25.term_idf(t) for t in dict.fromkeys(terms(q.question))) or 1.0
        lexical = index.bm25.scores(q.question) / possible
        kind = answer_type(q.question)
        qwords = list(dict.fromkeys(content(q.question)))
        qmatrix = np.array([word_vectors[w] for w in qwords]) if qwords else np.zeros((0, len(qv)))
        qidf = np.array([index.bm25.term_idf(t[0]) if (t := terms(w)) else 0.0 for w in qwords])
        rows = []
        for i, c in enumerate(chunks):
            coverage, _, typed = sentence_coverage(c.text, weights, kind)
            closest = float((index.sentences.of(i) @ qv).max())
            soft = 0.0
            for ws in sentence_words[i]:
                if ws and len(qwords) and qidf.sum():
                    sims = (qmatrix @ np.array([word_vectors[w] for w in ws]).T).max(axis=1)
                    soft = max(soft, float((qidf * sims).sum() / qidf.sum()))
            rows.append([float(index.vectors[i] @ qv), closest, float(lexical[i]), coverage, float(typed),
                         term_pairs(terms(q.question), weights, sentence_terms[i]),
                         sum(w for t, w in weights.items() if t in article_terms[c.article_id]) / total, soft])
        gold = np.array([contains_answer(c.text, q.answers) for c in chunks])
        out.append((np.array(rows), gold, [c.article_id for c in chunks]))
    return out


def hits(data, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Questions hit at rank 1 and within rank 3, for each weighting (a column of `weights`), plain ranks."""
    at1 = np.zeros(weights.shape[1], dtype=int)
    at3 = np.zeros(weights.shape[1], dtype=int)
    for f, gold, _ in data:
        scores = f @ weights  # passages x weightings
        if not gold.any():
            continue
        best_gold = scores[gold].max(axis=0)
        rank = 1 + (scores[~gold] > best_gold).sum(axis=0)
        at1 += rank == 1
        at3 += rank <= 3
    return at1, at3


def diversified_hits(data, weights: np.ndarray, penalty: float) -> tuple[int, int]:
    """Hit@1 and hit@3 counts for one weighting, ranked as `Searcher._diversify` ranks."""
    at1 = at3 = 0
    for f, gold, articles in data:
        scores = list(f @ weights)
        left, listed, per_article = list(range(len(scores))), [], {}
        while left and len(listed) < 3:
            best = max(left, key=lambda i: (scores[i] - penalty * per_article.get(articles[i], 0), -i))
            left.remove(best)
            listed.append(best)
            per_article[articles[best]] = per_article.get(articles[best], 0) + 1
        at1 += bool(gold[listed[0]])
        at3 += any(gold[i] for i in listed)
    return at1, at3


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or [f for f in DEFAULT_FILES if f.exists()]
    os.environ.setdefault("CITEBOT_DATA__DIR", tempfile.mkdtemp(prefix="citebot-ceiling-"))
    from bot.service import Service
    from bot.settings import load_settings
    from index.evaluate import read_questions

    service = Service(load_settings())
    service.ensure_index()
    grid = np.array([[2.0, *rest] for rest in itertools.product(GRID, repeat=len(FEATURES) - 1)]).T
    shipped = np.array(SHIPPED)[:, None]
    print(f"{grid.shape[1]:,} weightings of: {', '.join(FEATURES)}")
    print(f"{'file':<28} {'questions':>9}  {'shipped hit@1 / hit@3':>22}  {'best fitted hit@1 / hit@3':>26}")
    for path in files:
        questions = [q for q in read_questions(path) if q.in_scope]
        data = features(service, questions)
        n = len(questions)
        s1, s3 = (int(x[0]) for x in hits(data, shipped))
        g1, g3 = hits(data, grid)
        best = int(np.argmax(g1 + g3 + 1e-3 * g1))
        best3 = int(np.argmax(g3 * 100 + g1))
        print(f"{path.name:<28} {n:>9}  {s1 / n:>10.2f} / {s3 / n:.2f}       {g1.max() / n:>10.2f} / {g3.max() / n:.2f}"
              f"   (hit@1 max alone; best sum {g1[best] / n:.2f} / {g3[best] / n:.2f};"
              f" best hit@3 {g3[best3] / n:.2f} with hit@1 {g1[best3] / n:.2f})")
        print(f"{'':<28} weights of the best sum: "
              + ", ".join(f"{name} {w:g}" for name, w in zip(FEATURES, grid[:, best])))
        penalty = service._composer.searcher.config.same_article_penalty
        d1, d3 = diversified_hits(data, shipped[:, 0], penalty)
        top = np.argsort(-(g1 + g3))[:300]
        scored = [(sum(h := diversified_hits(data, grid[:, j], penalty)), h, j) for j in top]
        _, (b1, b3), j = max(scored, key=lambda x: (x[0], x[1][0]))
        print(f"{'':<28} with the same-article penalty {penalty:g}: shipped {d1 / n:.2f} / {d3 / n:.2f},"
              f" best of those 300 {b1 / n:.2f} / {b3 / n:.2f} ("
              + ", ".join(f"{name} {w:g}" for name, w in zip(FEATURES, grid[:, j])) + ")")


if __name__ == "__main__":
    main()
