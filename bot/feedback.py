"""The bot's SQLite database: answers sent, 👍/👎 votes on them, and the question each answer thread is about.

Users are stored only as a salted SHA-256 of their id (the salt is made once and kept in the database), so
a vote can be counted once and changed, but the table does not say who voted. Each call is one short
transaction; the async wrappers run it in a worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from index.answer import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,  -- JSON list of {n, source, title, date, start, end}
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    user_hash TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
CREATE TABLE IF NOT EXISTS threads (
    thread_id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    updated REAL NOT NULL
);
"""


class FeedbackStore:
    """One connection, used from worker threads one call at a time.

    A write that fails (a full disk, another process holding the write lock for longer than `timeout`
    seconds) raises, and is counted in `write_failures` and `last_failure` for /status.
    """

    def __init__(self, path: Path, timeout: float = 1.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.write_failures = 0
        self.last_failure: tuple[float, str] | None = None  # (time, error) of the latest failed write
        self.last_write: float | None = None  # time of the latest successful write
        self._lock = threading.Lock()
        # Short: an answer waits for its row before it is sent, and a lock held longer is a stuck process.
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
                row = self._db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        self._salt = row[0]
        self.closed = False

    def user_hash(self, user_id: int) -> str:
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()

    # -- sync API (worker threads) -------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a failure is counted before it is raised."""
        with self._lock:
            try:
                with self._db:
                    yield self._db
            except (sqlite3.Error, OSError) as exc:
                self.write_failures += 1
                self.last_failure = (time.time(), str(exc))
                raise
            self.last_write = time.time()

    def add_answer_sync(self, answer: Answer) -> int:
        cites = [{"n": c.n, "source": c.source, "title": c.title, "date": c.date, "start": c.start, "end": c.end}
                 for c in answer.citations]
        with self._writing() as db:
            cur = db.execute("INSERT INTO answers (question, answer, citations, created) VALUES (?,?,?,?)",
                             (answer.question, answer.answer, json.dumps(cites, ensure_ascii=False), time.time()))
            return int(cur.lastrowid)

    def vote_sync(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Record or change a user's vote; False when the answer is unknown."""
        with self._writing():
            if self._db.execute("SELECT 1 FROM answers WHERE id=?", (answer_id,)).fetchone() is None:
                return False
            self._db.execute(
                "INSERT INTO votes (answer_id, user_hash, vote, at) VALUES (?,?,?,?) "
                "ON CONFLICT (answer_id, user_hash) DO UPDATE SET vote=excluded.vote, at=excluded.at",
                (answer_id, self.user_hash(user_id), 1 if vote > 0 else -1, time.time()))
            return True

    def counts_sync(self) -> dict[str, int]:
        with self._lock:
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(vote=1),0), COALESCE(SUM(vote=-1),0) FROM votes").fetchone()
            answers = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        return {"up": int(up), "down": int(down), "answers": int(answers)}

    def set_thread_sync(self, thread_id: int, question: str) -> None:
        with self._writing():
            self._db.execute("INSERT INTO threads VALUES (?,?,?) ON CONFLICT (thread_id) DO UPDATE SET "
                             "question=excluded.question, updated=excluded.updated", (thread_id, question, time.time()))

    def thread_question_sync(self, thread_id: int) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT question FROM threads WHERE thread_id=?", (thread_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self._db.close()
                self.closed = True

    # -- async API (event loop) -----------------------------------------------------------------------

    async def add_answer(self, answer: Answer) -> int:
        return await asyncio.to_thread(self.add_answer_sync, answer)

    async def vote(self, answer_id: int, user_id: int, vote: int) -> bool:
        return await asyncio.to_thread(self.vote_sync, answer_id, user_id, vote)

    async def counts(self) -> dict[str, int]:
        return await asyncio.to_thread(self.counts_sync)

    async def set_thread(self, thread_id: int, question: str) -> None:
        await asyncio.to_thread(self.set_thread_sync, thread_id, question)

    async def thread_question(self, thread_id: int) -> str | None:
        return await asyncio.to_thread(self.thread_question_sync, thread_id)
