"""Load figures: many users asking the real bot process at once through the local fake Discord API.

    .venv/bin/python benchmarks/bench_load.py                          # 500 questions, 50 users, 4 s
    .venv/bin/python benchmarks/bench_load.py --flood                  # 500 /ask from 50 users in 0.5 s
    .venv/bin/python benchmarks/bench_load.py --questions 1000 --users 100 --spread 5 --reindex
    .venv/bin/python benchmarks/bench_load.py --no-cooldown            # every question answered (no refusals)

Prints answered / refused (busy beyond the queue bound, or cooldown) / unanswered / duplicated, whether every
question got exactly one reply, reply time p50/p95 (from the dispatch of the event to the reply reaching the
fake API; all replies, answers, refusals), "Questions in progress" as an admin's /status saw it during the
flood (it never exceeds max_concurrent running + as many waiting), the largest gap between gateway heartbeats
(the bot's event loop stalling shows as a late heartbeat) and the bot's RSS before and after. The bot uses
the hashing encoder (no model) unless --backend says otherwise. Only 127.0.0.1 is used. Numbers on a
shared 2-core machine are noisy: compare rows of the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.botproc import BotProcess  # noqa: E402
from tests.reliability.load import add_articles, run_load  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--spread", type=float, default=4.0, help="seconds over which the questions are sent")
    ap.add_argument("--mentions", type=float, default=0.2, help="share of questions asked by mention")
    ap.add_argument("--reindex", action="store_true", help="an admin runs /reindex (150 new articles) meanwhile")
    ap.add_argument("--no-cooldown", action="store_true", help="no per-user cooldown, 64 questions at once")
    ap.add_argument("--backend", default="hashing", choices=["hashing", "onnx", "torch"])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--flood", action="store_true",
                    help="500 /ask (no mentions) from 50 users within half a second, /status sampled meanwhile")
    args = ap.parse_args()
    if args.flood:
        args.questions, args.users, args.spread, args.mentions = 500, 50, 0.5, 0.0
    args.questions = min(args.questions, 5000)  # bounded, whatever is asked
    args.rounds = min(max(args.rounds, 1), 5)

    settings = {"CITEBOT_MODEL__BACKEND": args.backend}
    if args.no_cooldown:
        settings.update(CITEBOT_DISCORD__COOLDOWN_SECONDS="0", CITEBOT_DISCORD__MAX_CONCURRENT="64")
    token = "bench-load-token"
    fake = FakeDiscord(token=token, heartbeat_ms=500).start()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        bot = BotProcess(fake, Path(tmp), token, **settings).start(timeout=300)
        try:
            print(f"bot pid {bot.proc.pid}, backend {args.backend}, {args.questions} questions from {args.users} "
                  f"users over {args.spread:.1f}s, {args.mentions:.0%} by mention"
                  f"{', /reindex meanwhile' if args.reindex else ''}{', no cooldown' if args.no_cooldown else ''}")
            for r in range(args.rounds):
                if args.reindex:
                    add_articles(bot, 150 * (r + 1), sentences=15)
                res = run_load(bot, args.questions, args.users, args.spread, args.mentions, args.reindex,
                               seed=r, first_user=r * args.users, status_every=50 if args.flood else 0)
                print(f"\nround {r + 1}")
                for k, v in res.figures().items():
                    print(f"  {k:<26} {v}")
        finally:
            code = bot.stop()
            fake.stop()
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
