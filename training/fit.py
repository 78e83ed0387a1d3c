"""Fit the answer engine's models and write models/answer-model.json.

    .venv/bin/python -m training.fit        (or: make models, which first trains and exports the reader)

Data: SQuAD 2.0 train questions (../shared/eval/squad/train/), split by article title into side A and
side B (training/common.py). The first-stage ranker is fitted on side A (as the reader was). On side B,
which neither saw:
- the final model, combining the reader's score with the first stage's, is fitted on answerable questions;
- the answerability model is fitted on all of side B's questions, each asked of its own title's
  paragraphs indexed alone (a corpus of one topic, the size a user's is) and, off topic, of the next
  title's; its decline threshold is chosen on out-of-fold probabilities (5 folds grouped by paragraph), so
  on questions it was not fitted on;
- how many sentences the reader reads, and when a second sentence is quoted, are chosen there too.
Nothing here reads ../shared/eval/squad/check/ or the project's own question sets.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import pickle

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from index.answer import QUESTION_FEATURES, READ_FEATURES, combine, question_features, read_features
from index.ranker import LinearModel
from index.reader import OnnxReader
from training.common import OFF_TOPIC, ROOT, SPLIT_B, WORK, ask, gather, side, title_of, title_searcher
from training.export_reader import READER_FILE, TOKENIZER_FILE
from training.stage1 import fit_stage1

MODEL_FILE = ROOT / "models" / "answer-model.json"
READ_CHOICES = (4, 6, 8, 10, 12)
SECOND_CHOICES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SECOND_SHARE = 0.2  # answers that may quote a second sentence, at most
WRONG_DECLINES = 0.04  # the share of answerable held-out questions the threshold may decline
OFF_WEIGHTS = (0.1, 0.3, 1.0)  # weights tried for the off-topic questions in fitting answerability


def _fit_lr(x: np.ndarray, y: np.ndarray, names, c: float = 1.0, weight=None) -> LinearModel:
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y, sample_weight=weight)
    return LinearModel.from_standardised(names, lr.coef_[0], float(lr.intercept_[0]), mean, scale)


def read_all(groups, stage1, reader, most: int, tag: str = ""):
    """Stage-1 scores of every candidate and the reader's logits for each question's best `most`; cached in
    training/work/ by the reader's and the first stage's digests, since reading is the slow part."""
    key = hashlib.sha256((reader.model_id + json.dumps(stage1.as_json(), sort_keys=True)).encode()).hexdigest()
    cache = WORK / f"read-{tag}{key[:16]}-{most}.pkl"
    if cache.is_file():
        with open(cache, "rb") as fh:  # our own cache, written below
            return pickle.load(fh)
    out = []
    for g in groups:
        if not g.cands:
            out.append((np.zeros(0, np.float32), np.zeros(0, np.float32)))
            continue
        s1 = stage1.score(g.features)
        top = np.argsort(-s1, kind="stable")[:most]
        out.append((s1, reader.score(g.question.question, [g.cands[i].text for i in top])))
    with open(cache, "wb") as fh:
        pickle.dump(out, fh)
    return out


def fit_final(groups, scores, read: int) -> LinearModel:
    xs, ys = [], []
    for g, (s1, logits) in zip(groups, scores):
        if not g.question.in_scope or not len(s1):
            continue
        top = np.argsort(-s1, kind="stable")[:read]
        xs.append(read_features(logits[:read], s1[top]))
        ys.append(g.labels[top])
    return _fit_lr(np.concatenate(xs), np.concatenate(ys), READ_FEATURES)


def ranked_hits(groups, scores, read: int, final: LinearModel) -> dict:
    """hit@1/3 of the combined ranking over answerable questions."""
    h1 = h3 = n = 0
    for g, (s1, logits) in zip(groups, scores):
        if not g.question.in_scope:
            continue
        n += 1
        if not len(s1):
            continue
        ranked = combine(g.cands, s1, logits[:read], final)
        labels = {(c.article_id, c.start): l for c, l in zip(g.cands, g.labels)}
        hits = [int(labels[(s.cand.article_id, s.cand.start)]) for s in ranked[:3]]
        h1 += hits[0]
        h3 += any(hits)
    return {"hit_at_1": round(h1 / n, 4), "hit_at_3": round(h3 / n, 4)}


def answerability_data(groups, scores, read: int, final: LinearModel):
    xs, ys, keys, scored_all = [], [], [], []
    for g, (s1, logits) in zip(groups, scores):
        if not len(s1):
            continue
        scored = combine(g.cands, s1, logits[:read], final)
        xs.append(question_features(g.query, scored))
        ys.append(1 if g.question.in_scope else 0)
        keys.append(g.question.source or g.question.id)
        scored_all.append((g, scored))
    return np.stack(xs), np.asarray(ys), np.asarray(keys), scored_all


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, weight: np.ndarray, folds: int = 5) -> np.ndarray:
    prob = np.zeros(len(y), np.float32)
    for tr, te in GroupKFold(folds).split(x, y, groups):
        prob[te] = _fit_lr(x[tr], y[tr], QUESTION_FEATURES, weight=weight[tr]).probability(x[te])
    return prob


def threshold_for(prob: np.ndarray, y: np.ndarray, wrong: float) -> float:
    """The threshold declining at most `wrong` of the answerable."""
    answerable = np.sort(prob[y == 1])
    return float(answerable[int(wrong * len(answerable))])


def choose_second(scored_all, oof, threshold: float, cut: float) -> dict:
    """At a given ratio: how many answered questions get a second quoted sentence, how often it holds the
    answer, and how often it holds it where the first does not."""
    answered = quoted = right = first_wrong_saved = 0
    for (g, scored), p in zip(scored_all, oof):
        if not g.question.in_scope or p < threshold or not scored:
            continue
        answered += 1
        if len(scored) < 2 or scored[1].reader is None:
            continue
        if scored[1].probability >= cut * scored[0].probability:
            labels = {(c.article_id, c.start): l for c, l in zip(g.cands, g.labels)}
            quoted += 1
            second_ok = labels[(scored[1].cand.article_id, scored[1].cand.start)]
            right += int(second_ok)
            first_wrong_saved += int(second_ok and not labels[(scored[0].cand.article_id, scored[0].cand.start)])
    return {"answered": answered, "quoted": quoted, "second_holds_it": right, "saves_a_wrong_first": first_wrong_saved}


def title_groups(side_b, stage1, reader):
    """Side B's questions asked of corpora of one title each, as a user asks a corpus of one topic: each
    title's own questions (answerable, and the unanswerable SQuAD wrote for it), and the next title's
    questions, off topic there and so unanswerable. Returns (groups, their reader scores)."""
    by_title = {t: [g.question for g in side_b if title_of(g.question) == t] for t in SPLIT_B}
    groups, scores = [], []
    for i, title in enumerate(SPLIT_B):
        searcher = title_searcher(title)
        other = SPLIT_B[(i + 1) % len(SPLIT_B)]
        for tag, asked in ((f"title-{title}-", ask(searcher, by_title[title])),
                           (f"off-{title}-", ask(searcher, by_title[other], off_topic=True))):
            groups += asked
            scores += read_all(asked, stage1, reader, max(READ_CHOICES), tag=tag)
    return groups, scores


def declined(oof: np.ndarray, y: np.ndarray, off: np.ndarray, threshold: float) -> dict:
    """Shares declined at a threshold: of the answerable (wrongly), of SQuAD's unanswerable, of off-topic."""
    return {"wrong_declines": round(float((oof[y == 1] < threshold).mean()), 4),
            "unanswerable_declined": round(float((oof[(y == 0) & ~off] < threshold).mean()), 4),
            "off_topic_declined": round(float((oof[off] < threshold).mean()), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(MODEL_FILE))
    args = ap.parse_args()

    groups = gather("train")
    side_a = [g for g in groups if side(g.question) == "A"]
    side_b = [g for g in groups if side(g.question) == "B"]
    stage1 = fit_stage1([g for g in side_a if g.question.in_scope])
    reader = OnnxReader(READER_FILE, TOKENIZER_FILE)
    scores = read_all(side_b, stage1, reader, max(READ_CHOICES))

    report: dict = {"read": {}}
    best = None
    for read in READ_CHOICES:
        final = fit_final(side_b, scores, read)
        hits = ranked_hits(side_b, scores, read, final)
        report["read"][read] = hits
        print(f"reader reads {read:2d}: side B hit@1 {hits['hit_at_1']:.3f} hit@3 {hits['hit_at_3']:.3f}")
        # Fewer sentences read is faster: take the smallest within half a point of the best hit@1.
        if best is None or hits["hit_at_1"] > best[1]["hit_at_1"] + 0.005:
            best = (read, hits, final)
    read, _, final = best

    # Answerability is fitted on one-topic corpora, where its features (unknown words above all) take the
    # values they take on a user's corpus, not on the ten-title training index.
    titled, titled_scores = title_groups(side_b, stage1, reader)
    x, y, keys, scored_all = answerability_data(titled, titled_scores, read, final)
    off = np.asarray([g.question.type == OFF_TOPIC for g, _ in scored_all])
    # Off-topic questions are easy to tell and many; their weight is the one declining the most of SQuAD's
    # unanswerable and of the off-topic, on average, at the same wrong declines out of fold.
    tried = {}
    for off_weight in OFF_WEIGHTS:
        weight = np.where(off, off_weight, 1.0)
        oof = out_of_fold(x, y, keys, weight)
        threshold = threshold_for(oof, y, WRONG_DECLINES)
        rates = declined(oof, y, off, threshold)
        tried[off_weight] = (rates, oof, threshold)
        print(f"off-topic weight {off_weight}: threshold {threshold:.3f}, out of fold on side B: {rates}")
    off_weight = max(tried, key=lambda w: tried[w][0]["unanswerable_declined"] + tried[w][0]["off_topic_declined"])
    rates, oof, threshold = tried[off_weight]
    answerable = _fit_lr(x, y, QUESTION_FEATURES, weight=np.where(off, off_weight, 1.0))
    squad = ~off
    # SQuAD's unanswerable declined at each rate of wrong declines (every answerable question is in `squad`).
    curve = {f"{w:.2f}": float((oof[squad & (y == 0)] < threshold_for(oof, y, w)).mean())
             for w in (0.01, 0.02, 0.05, 0.10, 0.20)}
    print(f"answerability (off-topic weight {off_weight}), out of fold on side B ({int(y.sum())} answerable, "
          f"{int((squad & (y == 0)).sum())} unanswerable, {int(off.sum())} off-topic): {rates}")
    print("  SQuAD's unanswerable declined at wrong-decline rates:", {k: f"{v:.1%}" for k, v in curve.items()})
    seconds = {cut: choose_second(scored_all, oof, threshold, cut) for cut in SECOND_CHOICES}
    for cut, s in seconds.items():
        print(f"second sentence at {cut}: {s}")
    # A second quote, when nearly as likely, saves answers whose first quote misses; it is quoted at the
    # lowest ratio that keeps answers of two sentences to at most SECOND_SHARE of all answers.
    second = min((c for c, s in seconds.items() if s["quoted"] <= SECOND_SHARE * max(s["answered"], 1)),
                 default=1.0)

    out = {
        "about": "Fitted by training/fit.py (make models) on SQuAD 2.0 train questions; see index/answer.py.",
        "fitted": datetime.date.today().isoformat(),
        "reader": READER_FILE.name, "tokenizer": TOKENIZER_FILE.name,
        "reader_sha256": hashlib.sha256(READER_FILE.read_bytes()).hexdigest(),
        "read": read, "second": second, "threshold": round(threshold, 6),
        "held_out": {"side_b_ranking": report["read"][read], **rates, "off_topic_weight": off_weight,
                     "curve": curve},
        "stage1": stage1.as_json(), "final": final.as_json(), "answerable": answerable.as_json(),
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
