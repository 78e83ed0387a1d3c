"""Answer quality on every question set the project ships, beside plain baselines from the same run.

    .venv/bin/python benchmarks/quality.py [--sets dev,holdout,squad-check] [--json]

Runs `citebot eval --json` on each set exactly as a user would (the SQuAD set with corpus.path pointing at
its own articles, each corpus with a data folder of its own under var/eval/), and prints one table.
Figures are measured, never asserted; `make eval` runs this.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "benchmarks" / "questions"
SHIPPED = ROOT / "corpus" / "articles"
# name -> (questions file, articles folder, what it is)
SETS = {
    "squad-check": (QUESTIONS / "squad-check" / "questions.jsonl", QUESTIONS / "squad-check" / "articles",
                    "SQuAD 2.0 check/, text nobody here wrote, never fitted on"),
    "dev": (QUESTIONS / "dev.jsonl", SHIPPED, "shipped corpus, development questions"),
    "holdout": (QUESTIONS / "holdout.jsonl", SHIPPED, "shipped corpus, frozen holdout (2026)"),
    "extra": (QUESTIONS / "extra.jsonl", SHIPPED, "shipped corpus, older set the 2025 rules were tuned on"),
    "holdout-2025": (QUESTIONS / "holdout-2025.jsonl", SHIPPED, "shipped corpus, older set, tuned on in 2025"),
}


def run_eval(questions: Path, articles: Path, data: Path) -> dict:
    env = dict(os.environ, CITEBOT_CORPUS__PATH=str(articles), CITEBOT_DATA__DIR=str(data), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    done = subprocess.run([sys.executable, "-m", "bot", "eval", "--json", str(questions)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"eval of {questions} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def table(results: dict[str, dict]) -> str:
    head = ("| set | answerable / not | hits | hit@1 | hit@3 | MRR | answer text holds it | wrong declines | "
            "unanswerable declined |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for name, r in results.items():
        b = r["baseline"]
        kind = "strict" if r["strict"] else "loose"
        counts = f"{r['in_scope']} / {r['out_of_scope']}"
        lines.append(f"| {name} | {counts} | {kind} | **{r['hit_at_1']:.2f}** | **{r['hit_at_3']:.2f}** | "
                     f"{r['mrr']:.3f} | {r['answer_holds_it']:.2f} | {r['wrong_decline_rate']:.1%} | "
                     f"{r['abstention_rate_out_of_scope']:.1%} |")
        lines.append(f"| {name}: baseline | | | {b['hit_at_1']:.2f} | {b['hit_at_3']:.2f} | {b['mrr']:.3f} | - | "
                     f"{b['cosine_wrong_declines']:.1%} | {b['cosine_unanswerable_declined']:.1%} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    ap.add_argument("--json", action="store_true", help="print every report as JSON")
    args = ap.parse_args()
    results = {}
    for name in args.sets.split(","):
        questions, articles, about = SETS[name]
        data = ROOT / "var" / "eval" / ("shipped" if articles == SHIPPED else name)
        t = time.perf_counter()
        results[name] = run_eval(questions, articles, data)
        results[name]["seconds"] = time.perf_counter() - t
        print(f"{name}: {about} ({results[name]['seconds']:.0f} s)", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(table(results))
    print("\nbaseline: passages by reciprocal-rank fusion of BM25 and dense retrieval (hit@k over passages); "
          "declining by one threshold on the dense top-1 cosine, set to wrongly decline as many answerable "
          "questions as citebot did.")
    for name, r in results.items():
        if r["curve"]:
            print(f"{name}: decline curve (wrong declines -> unanswerable declined): " + ", ".join(
                f"{p['wrong_declines']:.0%} -> {p['unanswerable_declined']:.0%}" for p in r["curve"]))


if __name__ == "__main__":
    main()
