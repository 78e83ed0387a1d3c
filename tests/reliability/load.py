"""A load harness: many users asking the real bot process at once through the fake Discord API.

Used by tests/reliability/test_load.py (asserting exactly one reply per question and no event-loop stall)
and by benchmarks/bench_load.py (printing the figures). Every loop here is bounded in count and time.
"""

from __future__ import annotations

import gc
import random
import time
from dataclasses import dataclass, field

from tests.botproc import MANAGE_GUILD, BotProcess, replies_to
from tests.fakediscord import user
from tests.reliability.common import rss_kb, write_corpus

QUESTIONS = [
    "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?",
    "Why did Lithuania leave the cluster munitions convention?",
    "When did the withdrawal take effect?",
    "What did the defence minister say about cluster munitions?",
    "How many countries are party to the convention?",
    "Who criticised the decision?",
    "What does Russia have to do with it?",
    "Which allies are not party to the treaty?",
]
COOLDOWN, BUSY = "You're asking quickly", "I'm answering a lot"
REFUSALS = (COOLDOWN, BUSY)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


@dataclass
class LoadResult:
    questions: int = 0
    replies: dict[str, int] = field(default_factory=dict)  # question key -> replies seen
    answered: int = 0
    refused: int = 0
    busy: int = 0  # of the refused: "I'm answering a lot of questions right now"
    cooldown: int = 0  # of the refused: "You're asking quickly"
    unanswered: int = 0
    duplicated: int = 0
    errors: list = field(default_factory=list)  # Discord-side rejections (e.g. a late acknowledgement)
    answer_seconds: list[float] = field(default_factory=list)
    refusal_seconds: list[float] = field(default_factory=list)
    ack_seconds: list[float] = field(default_factory=list)  # INTERACTION_CREATE to the callback (Discord allows 3 s)
    in_progress: list[str] = field(default_factory=list)  # /status "Questions in progress" sampled during the load
    heartbeat_interval: float = 0.0
    heartbeat_gaps: list[float] = field(default_factory=list)
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    dispatch_seconds: float = 0.0
    reindex: dict = field(default_factory=dict)

    @property
    def max_stall(self) -> float:
        """How much later than due the latest heartbeat came: how long the bot's event loop was blocked."""
        return max((g - self.heartbeat_interval for g in self.heartbeat_gaps), default=0.0)

    @property
    def once_each(self) -> bool:
        """Every question got exactly one reply (an answer or a refusal) and Discord rejected nothing."""
        return (not self.errors and self.unanswered == 0 and self.duplicated == 0
                and all(n == 1 for n in self.replies.values()))

    def figures(self) -> dict[str, object]:
        replies = self.answer_seconds + self.refusal_seconds
        return {
            "questions": self.questions, "answered": self.answered,
            "refused": f"{self.refused} ({self.busy} busy, {self.cooldown} cooldown)",
            "unanswered": self.unanswered, "duplicated": self.duplicated, "errors": len(self.errors),
            "one reply each": "yes" if self.once_each else "NO",
            "dispatched in": f"{self.dispatch_seconds:.1f}s",
            "reply p50/p95": f"{pct(replies, 50) * 1000:.0f}/{pct(replies, 95) * 1000:.0f} ms",
            "answer p50/p95": f"{pct(self.answer_seconds, 50) * 1000:.0f}/{pct(self.answer_seconds, 95) * 1000:.0f} ms",
            "refusal p50/p95": f"{pct(self.refusal_seconds, 50) * 1000:.0f}/{pct(self.refusal_seconds, 95) * 1000:.0f} ms",
            **({"in progress (sampled)": ", ".join(self.in_progress)} if self.in_progress else {}),
            "slash ack p95/max": f"{pct(self.ack_seconds, 95) * 1000:.0f}/{max(self.ack_seconds, default=0) * 1000:.0f} ms"
                                 " (deadline 3000)",
            "heartbeats": len(self.heartbeat_gaps) + 1,
            "max heartbeat gap": f"{max(self.heartbeat_gaps, default=0):.2f}s (interval {self.heartbeat_interval:.2f}s)",
            "max loop stall": f"{self.max_stall:.2f}s",
            "RSS before/after": f"{self.rss_before_kb / 1024:.0f}/{self.rss_after_kb / 1024:.0f} MB",
            **({"reindex": ", ".join(f"{k} {v}" for k, v in self.reindex.items())} if self.reindex else {}),
        }


def add_articles(bot: BotProcess, count: int, sentences: int = 12) -> None:
    """New articles in the bot's corpus folder, so that a reindex has real work to do."""
    write_corpus(bot.corpus / "generated", range(count), "load", sentences)


def run_load(bot: BotProcess, questions: int = 500, users: int = 50, spread: float = 4.0,
             mention_share: float = 0.2, reindex: bool = False, seed: int = 6, settle: float = 60.0,
             first_user: int = 0, status_every: int = 0) -> LoadResult:
    """Send `questions` questions from `users` users over `spread` seconds; wait for the replies; measure.
    With `status_every`, an admin runs /status after every that many questions (what is in progress)."""
    fake, rnd = bot.fake, random.Random(seed)
    res = LoadResult(questions=questions, heartbeat_interval=fake.heartbeat_ms / 1000)
    people = [user(str(2_000_000_000_000_000_000 + i), f"user{i}") for i in range(first_user, first_user + users)]
    me = fake.bot_user["id"]
    gc.collect()
    res.rss_before_kb = rss_kb(bot.proc.pid)
    hb_start = len(fake.heartbeat_times)
    slash, mentions = [], []
    admin_it = None
    statuses = []
    t0 = time.monotonic()
    for i in range(questions):
        if reindex and i == questions // 10:
            admin_it = fake.slash("reindex", who=fake.admin, permissions=MANAGE_GUILD)
        if status_every and i and i % status_every == 0:
            statuses.append(fake.slash("status", who=fake.admin, permissions=MANAGE_GUILD))
        who = people[i % users]
        q = rnd.choice(QUESTIONS)
        if rnd.random() < mention_share:
            sent = time.monotonic()
            msg = fake.say(f"<@{me}> {q}", who=who)
            mentions.append((msg["id"], sent))
        else:
            slash.append(fake.slash("ask", who=who, question=q))
        lag = t0 + spread * (i + 1) / questions - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    res.dispatch_seconds = time.monotonic() - t0

    def pending() -> int:
        n = sum(1 for it in slash if not it.replies() and not it.errors)
        return n + sum(1 for mid, _ in mentions if not replies_to(fake, mid))

    deadline = time.monotonic() + settle
    while pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    if admin_it is not None:
        while time.monotonic() < deadline and not any("Reindex" in (e.get("content") or "") and "…" not in
                                                      (e.get("content") or "") for e in admin_it.edits):
            time.sleep(0.2)
    time.sleep(2.0)  # a duplicate would arrive now

    for it in slash:
        got = it.replies()
        res.replies[it.id] = len(got)
        res.errors += it.errors
        if not got:
            res.unanswered += 1
            continue
        res.duplicated += len(got) > 1
        res.ack_seconds.append(it.acked_at - it.created)
        if it.callbacks[0].get("type") == 5:
            res.answered += 1
            res.answer_seconds.append(it.done - it.created)
        else:
            res.refused += 1
            res.refusal_seconds.append(it.acked_at - it.created)
            _count_refusal(res, got[0].get("content") or "")
    for mid, sent in mentions:
        got = replies_to(fake, mid)
        res.replies[mid] = len(got)
        if not got:
            res.unanswered += 1
            continue
        res.duplicated += len(got) > 1
        first = got[0]
        if any(r in (first.get("content") or "") for r in REFUSALS):
            res.refused += 1
            res.refusal_seconds.append(first["_at"] - sent)
            _count_refusal(res, first.get("content") or "")
        else:
            res.answered += 1
            res.answer_seconds.append(first["_at"] - sent)
    times = fake.heartbeat_times[hb_start:]
    res.heartbeat_gaps = [t2 - t1 for (c1, t1), (c2, t2) in zip(times, times[1:]) if c1 == c2]
    if admin_it is not None:
        start, end = admin_it.acked_at or t0, admin_it.done or time.monotonic()
        during = sum(1 for it in slash if it.done and it.callbacks and it.callbacks[0].get("type") == 5
                     and start < it.done < end)
        final = (admin_it.edits[-1].get("content") or "") if admin_it.edits else ""
        res.reindex = {"seconds": f"{end - start:.1f}", "answers while it ran": during,
                       "result": final.split(":")[0][:80]}
    for st in statuses:
        for reply in st.replies():
            for f in (reply.get("embeds") or [{}])[0].get("fields") or []:
                if f.get("name") == "Questions in progress":
                    res.in_progress.append(f["value"])
    gc.collect()
    time.sleep(0.5)
    res.rss_after_kb = rss_kb(bot.proc.pid)
    return res


def _count_refusal(res: LoadResult, content: str) -> None:
    if BUSY in content:
        res.busy += 1
    elif COOLDOWN in content:
        res.cooldown += 1
