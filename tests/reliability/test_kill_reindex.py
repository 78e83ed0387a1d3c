"""SIGKILL at random points of `python -m bot reindex`, many times in a row.

Each round alternates the corpus between two versions (A: 120 articles; B: 20 of them changed, 10 removed,
10 added, so both the rebuild and the append paths run), starts a real reindex process and, beside it, a
process writing 👍/👎 votes to the feedback database; both are killed with SIGKILL after a random delay
(every other round aimed at the publishing step: within 80 ms of the new generation folder appearing).
After every kill the index must load with its checksums verified, its counts must agree, its articles must
be exactly the old or exactly the new corpus, a fresh service must answer from it, and the database must
pass PRAGMA integrity_check with every vote committed before the kill still there.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.feedback import FeedbackStore
from bot.service import Service
from bot.settings import Settings
from index.answer import Answer, Citation
from index.hashing_encoder import HashingEncoder
from index.store import IndexStore, verify_files
from tests.botproc import ROOT, bot_env
from tests.reliability.common import FIGURES, write_corpus

pytestmark = pytest.mark.slow

KILLS = 24
SEED = 20261123

WRITER = r"""
import sys, itertools
from pathlib import Path
from bot.feedback import FeedbackStore
from index.answer import Answer
store = FeedbackStore(Path(sys.argv[1]))
for i in itertools.count():
    aid = store.add_answer_sync(Answer(f"writer question {i}", "an answer", False))
    store.vote_sync(aid, 10_000 + i, 1 if i % 2 else -1)
    print(aid, flush=True)
"""


def served(root: Path) -> tuple[frozenset[str], str]:
    """The serving generation's article ids and name, after checking it from every side."""
    store = IndexStore(root)
    idx = store.load(verify=True)
    verify_files(idx.path, idx.manifest)
    n = len(idx.chunks)
    assert n == len(idx.vectors) == idx.ann.ntotal == idx.bm25.size == idx.manifest["counts"]["chunks"] > 0
    assert len(idx.chunk_keys) == n
    ids = frozenset(idx.articles)
    assert ids == set(idx.manifest["corpus"]) and len(ids) == idx.manifest["counts"]["articles"]
    assert {c.article_id for c in idx.chunks} == ids
    return ids, idx.path.name


def test_sigkill_during_reindex_never_leaves_a_mixed_or_broken_index(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    data = tmp_path / "data"
    corpus_a, corpus_b = tmp_path / "a", tmp_path / "b"
    ids_a = write_corpus(corpus_a, range(120), "a", sentences=12)
    ids_b = write_corpus(corpus_b, range(10, 100), "a", sentences=12)
    ids_b |= write_corpus(corpus_b, range(100, 120), "b", sentences=12)  # same names, changed text
    ids_b |= write_corpus(corpus_b, range(120, 130), "a", sentences=12)
    corpora = {frozenset(ids_a): corpus_a, frozenset(ids_b): corpus_b}

    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "bot", "reindex"], cwd=ROOT, env=bot_env(data, corpus_a),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    run_seconds = time.monotonic() - started

    db_path = data / "feedback.sqlite3"
    store = FeedbackStore(db_path)
    before = []
    for i in range(50):
        aid = store.add_answer_sync(Answer(f"question {i}", "answer", False, (
            Citation(1, "art_0001.txt", "t", None, "x", 0, 1, 0.5),)))
        store.vote_sync(aid, i, 1 if i % 3 else -1)
        before.append(aid)
    store.close()

    landed = survived = outcome_old = outcome_new = aimed = 0
    gens_max = 0
    for round_ in range(KILLS):
        old_ids, _ = served(data / "index")
        target_ids = next(ids for ids in corpora if ids != old_ids)
        env = bot_env(data, corpora[target_ids])
        reindex = subprocess.Popen([sys.executable, "-m", "bot", "reindex"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if round_ % 2:  # aim at the publishing step: the new generation is being written or committed
            deadline = time.monotonic() + 3 * run_seconds
            while time.monotonic() < deadline and reindex.poll() is None and not any(
                    c.name.endswith(".tmp") for c in (data / "index").iterdir()):
                time.sleep(0.002)
            time.sleep(rnd.uniform(0.0, 0.08))
            aimed += 1
        else:
            time.sleep(rnd.uniform(0.05, 1.3) * run_seconds)
        still_running = reindex.poll() is None
        for p in (reindex, writer):
            p.send_signal(signal.SIGKILL)
        reindex.wait(10)
        committed = [int(line) for line in writer.communicate(timeout=10)[0].split()]
        landed += still_running

        now_ids, gen = served(data / "index")  # raises if the index is damaged or inconsistent
        assert now_ids in (old_ids, target_ids), f"round {round_}: a mix of the old and new corpus"
        if still_running:
            outcome_new += now_ids == target_ids
            outcome_old += now_ids == old_ids
        else:
            assert now_ids == target_ids, f"round {round_}: a finished reindex was not published"
        fresh = Service(Settings(root=tmp_path, corpus={"path": str(corpora[now_ids])}, data={"dir": str(data)}),
                        encoder=HashingEncoder())
        assert fresh.ensure_index(check_corpus=False) is None  # served as it is, no rebuild needed
        assert fresh.ask_sync("What did the council of Riga discuss about ferries?").answer
        gens_max = max(gens_max, sum(1 for c in (data / "index").iterdir() if c.name.startswith("gen-")))

        db = sqlite3.connect(db_path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            have = {row[0] for row in db.execute("SELECT answer_id FROM votes")}
        finally:
            db.close()
        assert set(before) <= have, f"round {round_}: votes written before the kills are gone"
        assert set(committed) <= have, f"round {round_}: {len(set(committed) - have)} committed votes lost"
        survived += 1

    # and the real process, restarted after the last kill, answers from what is served without rebuilding
    final_ids, gen = served(data / "index")
    r = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "What did the council of Riga discuss?"],
                       cwd=ROOT, env=bot_env(data, corpora[final_ids]), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Building the index" not in r.stderr, r.stderr
    assert served(data / "index")[1] == gen

    FIGURES["kill -9 during reindex"].update(
        kills=f"{survived}/{KILLS} survived", landed_mid_build=landed, aimed_at_publish=aimed, old_served=outcome_old,
        new_served=outcome_new, build_seconds=f"{run_seconds:.1f}", max_generation_dirs=gens_max)
    assert landed >= KILLS // 2, "most kills should land while the build runs"
    assert gens_max <= 3, "unfinished generations must be swept, not piling up"


def test_two_reindex_processes_at_once_one_is_told_to_wait(tmp_path: Path) -> None:
    """Two `python -m bot reindex` at the same moment: one builds, the other says another is writing (or,
    if the first had already finished, builds too); the index is whole either way."""
    data, corpus = tmp_path / "data", tmp_path / "c"
    ids = write_corpus(corpus, range(60), "a", sentences=12)
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "reindex"], cwd=ROOT, env=bot_env(data, corpus),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 1]), outs
    FIGURES["two reindexes at once"]["exit codes"] = codes
    for p, (out, err) in zip(procs, outs):
        if p.returncode:
            assert "already writing this index" in err and "Traceback" not in err, err
    assert served(data / "index")[0] == ids
