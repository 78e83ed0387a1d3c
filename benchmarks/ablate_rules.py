"""Each hand-written text rule the engine still has, measured with it and without it.

    .venv/bin/python benchmarks/ablate_rules.py [--rules all]

The rules were written for the shipped articles; a rule stays only if it earns its place on questions it
was not written for. For each rule, a fresh process turns it off, builds its own indexes (var/ablate/) and
answers SQuAD check/ and the shipped corpus's dev and holdout sets with the shipped models (not refitted:
the models saw the rules on). Prints hit@1, hit@3, answer-text-holds-it and declines for each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
Q = ROOT / "benchmarks" / "questions"
SETS = {"squad-check": (Q / "squad-check" / "questions.jsonl", Q / "squad-check" / "articles"),
        "dev": (Q / "dev.jsonl", ROOT / "corpus" / "articles"),
        "holdout": (Q / "holdout.jsonl", ROOT / "corpus" / "articles")}
RULES = {
    "none off (as shipped)": "",
    "subordinate clause weighs 0.6": "subordinate",
    "a place's adjective names it": "demonyms",
    "negated participle gives its base (un-)": "negated",
    "irregular verb forms": "irregular",
    "reporting verbs mean 'say'": "reporting",
    "British spellings made American": "spelling",
}


def switch_off(rule: str) -> None:
    """Turn one rule off in this process."""
    import corpus.text as text
    import index.evidence as evidence
    import index.query as query

    if rule == "subordinate":
        query.SUBORDINATE_WEIGHT = 1.0
    elif rule == "demonyms":
        evidence._DEMONYM_ENDINGS = ()
    elif rule == "irregular":
        text._IRREGULAR.clear()
    elif rule == "reporting":
        text._REPORTING.clear()
    elif rule == "spelling":
        text._SPELLING.clear()
    elif rule == "negated":
        def word_terms(folded_words, keep_stopwords=False):
            out = []
            for w in folded_words:
                w = (w[:-2] if w.endswith("'s") else w).replace("'", "")
                if w and (keep_stopwords or w not in text._STOPWORDS):
                    out.append(text._normalise_word(w))
            return out
        text.word_terms = word_terms
        evidence.word_terms = word_terms
    text._normalise_word.cache_clear()


def worker(rule: str) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    switch_off(rule)
    from bot.service import Service
    from bot.settings import Settings
    from index.evaluate import read_questions, score

    out = {}
    for name, (qfile, articles) in SETS.items():
        data = ROOT / "var" / "ablate" / (rule or "shipped") / ("shipped" if articles.name == "articles"
                                                                and articles.parent.name == "corpus" else name)
        service = Service(Settings(corpus={"path": str(articles)}, data={"dir": str(data)}))
        service.ensure_index()
        qs = read_questions(qfile).questions
        r = score(qs, [service.ask_sync(q.question).outcome() for q in qs])
        out[name] = {"hit_at_1": r.hit_at_1, "hit_at_3": r.hit_at_3, "holds": r.answer_holds_it,
                     "wrong": r.wrong_decline_rate, "declined": r.abstention_rate_out_of_scope}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker)))
        return
    print("| rule turned off | " + " | ".join(f"{s} hit@1 / hit@3 / holds / wrong decl. / unans. decl."
                                            for s in SETS) + " |")
    print("|---" * (len(SETS) + 1) + "|")
    for label, rule in RULES.items():
        done = subprocess.run([sys.executable, __file__, "--worker", rule], capture_output=True, text=True,
                              cwd=ROOT)
        if done.returncode:
            raise SystemExit(done.stderr[-2000:])
        r = json.loads(done.stdout.splitlines()[-1])
        cells = [f"{v['hit_at_1']:.3f} / {v['hit_at_3']:.3f} / {v['holds']:.3f} / {v['wrong']:.1%} / "
                 f"{v['declined']:.1%}" for v in r.values()]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
