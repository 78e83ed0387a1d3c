"""Core figures on the shipped corpus: warm `ask` latency, cold `python -m bot ask`, index build time, peak RSS.

    .venv/bin/python benchmarks/bench_core.py                    # onnx (default settings) and torch, same run
    .venv/bin/python benchmarks/bench_core.py --backends onnx --rounds 10

Each backend runs in its own child process (so peak RSS is its own) with the default settings except a
temporary data folder. Timings on a shared 2-core machine are noisy: compare rows of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV = ROOT / "benchmarks" / "questions" / "dev.jsonl"
COLD_QUESTION = "When did Lithuania withdraw from the Convention on Cluster Munitions?"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def worker(backend: str, data_dir: Path, questions_file: Path, rounds: int) -> dict:
    """Runs inside a child process: build, then warm questions; prints one JSON object."""
    os.environ["CITEBOT_DATA__DIR"] = str(data_dir)
    os.environ["CITEBOT_MODEL__BACKEND"] = backend
    from bot.service import Service
    from bot.settings import load_settings
    from index.evaluate import read_questions, score

    settings = load_settings()
    service = Service(settings)
    t = time.perf_counter()
    service.encoder.encode(["load the model"])  # first use: loads (and for onnx, exports once)
    model_load = time.perf_counter() - t
    t = time.perf_counter()
    report = service.reindex_sync()
    build = time.perf_counter() - t
    questions = read_questions(questions_file).questions
    for q in questions:  # warm-up round, not timed
        service.ask_sync(q.question)
    lat = []
    answers = []
    for _ in range(rounds):
        answers = []
        for q in questions:
            t = time.perf_counter()
            answers.append(service.ask_sync(q.question))
            lat.append((time.perf_counter() - t) * 1000)
    ev = score(questions, [a.outcome() for a in answers])
    # Throughput: questions answered per second with 1, 2 and 4 asking at once (the bot's max_concurrent is 4).
    from concurrent.futures import ThreadPoolExecutor

    qps = {}
    batch = [q.question for q in questions] * 3
    for workers in (1, 2, 4):
        with ThreadPoolExecutor(workers) as pool:
            t = time.perf_counter()
            list(pool.map(service.ask_sync, batch))
            qps[workers] = len(batch) / (time.perf_counter() - t)
    one = []
    for _ in range(50):
        t = time.perf_counter()
        service.encoder.encode([COLD_QUESTION])
        one.append((time.perf_counter() - t) * 1000)
    return {
        "backend": backend, "model_id": service.encoder.model_id, "model_load_s": model_load,
        "build_s": build, "build_chunks": report.chunks, "build_embedded": report.embedded,
        "index_type": report.index_type, "ask_ms": lat, "query_embed_ms_p50": statistics.median(one),
        "qps": qps, "hit_at_3": ev.hit_at_3, "hit_at_1": ev.hit_at_1, "mrr": ev.mrr,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def cold_ask(data_dir: Path, backend: str, runs: int) -> tuple[list[float], float]:
    """Wall seconds of `python -m bot ask` with the index already built, and the largest child RSS (MB)."""
    env = dict(os.environ, CITEBOT_DATA__DIR=str(data_dir), CITEBOT_MODEL__BACKEND=backend, HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    walls, rss = [], 0.0
    for _ in range(runs):
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            t = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "bot", "ask", COLD_QUESTION], cwd=ROOT, env=env,
                                    stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
            walls.append(time.perf_counter() - t)
            proc.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            stderr = err.read()
        if proc.returncode != 0 or "Building the index" in stderr:
            raise SystemExit(f"cold ask failed or rebuilt the index:\n{stderr[-2000:]}")
        rss = max(rss, usage.ru_maxrss / 1024)
    return walls, rss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="onnx,torch", help="comma-separated: onnx, torch (default: both)")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds over the dev questions")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--questions", default=str(DEV))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.data_dir), Path(args.questions), args.rounds)))
        return 0

    rows = []
    with tempfile.TemporaryDirectory(prefix="citebot-bench-") as tmp:
        for backend in args.backends.split(","):
            data = Path(tmp) / backend
            proc = subprocess.run([sys.executable, __file__, "--worker", backend, "--data-dir", str(data),
                                   "--questions", args.questions, "--rounds", str(args.rounds)],
                                  capture_output=True, text=True, check=False, cwd=ROOT)
            if proc.returncode != 0:
                print(proc.stderr[-3000:], file=sys.stderr)
                return 1
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            walls, cold_rss = cold_ask(data, backend, args.cold_runs)
            row["cold_s"] = walls
            row["cold_rss_mb"] = cold_rss
            rows.append(row)

    print(f"citebot core benchmark  ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"{len(rows[0]['ask_ms'])} warm asks per backend)\n")
    head = ("backend", "warm ask p50", "warm ask p95", "1 query embed", "cold `bot ask` (median)", "build",
            "model load", "peak RSS (warm)", "peak RSS (cold ask)", "dev hit@3")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r['backend']} | {statistics.median(r['ask_ms']):.1f} ms | {pct(r['ask_ms'], 95):.1f} ms | "
              f"{r['query_embed_ms_p50']:.1f} ms | {statistics.median(r['cold_s']):.2f} s "
              f"({', '.join(f'{w:.2f}' for w in r['cold_s'])}) | {r['build_s']:.2f} s ({r['build_chunks']} passages, "
              f"{r['index_type']}) | {r['model_load_s']:.2f} s | {r['peak_rss_mb']:.0f} MB | {r['cold_rss_mb']:.0f} MB "
              f"| {r['hit_at_3']:.2f} |")
    if len(rows) > 1:
        base = rows[-1]
        for r in rows[:-1]:
            print(f"\n{r['backend']} vs {base['backend']}: warm ask p50 x{statistics.median(base['ask_ms']) / statistics.median(r['ask_ms']):.1f} faster, "
                  f"cold ask x{statistics.median(base['cold_s']) / statistics.median(r['cold_s']):.1f} faster, "
                  f"build x{base['build_s'] / r['build_s']:.1f} faster")
    print("\nthroughput (questions/s with 1 / 2 / 4 asked at once): " + "; ".join(
        f"{r['backend']}: " + " / ".join(f"{v:.1f}" for v in r["qps"].values()) for r in rows))
    print("\nmodel ids: " + "; ".join(f"{r['backend']}={r['model_id']}" for r in rows))
    print("cold ask: a new `python -m bot ask` process, index built, model (and ONNX export) cached; the first "
          "onnx run after install also exports the model once (model load column).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
