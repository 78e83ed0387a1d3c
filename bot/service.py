"""The question-answering service that the CLI and the Discord bot share.

It owns the live index, builds or rebuilds it when it is missing, stale or damaged, and swaps a rebuilt
index in under a lock so that questions keep being answered from the old one meanwhile. Blocking work
(embedding, searching, building) runs in worker threads when called through the async methods.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.settings import Settings
from corpus.errors import CitebotError
from corpus.models import LoadReport
from corpus.store import load_corpus
from index.answer import Answer, AnswerConfig, AnswerModel, Composer
from index.build import BuildCancelled, BuildConfig, BuildReport, build_index, staleness
from index.encoder import Encoder, Progress
from index.encoder_factory import make_encoder
from index.evaluate import Baseline, Outcome, Quote
from index.reader import OnnxReader, Reader
from index.search import Searcher
from index.store import IndexBusy, IndexCorrupt, IndexMissing, IndexStore, LoadedIndex
from index.timeline import select_events

log = logging.getLogger(__name__)
T = TypeVar("T")


class QuestionError(CitebotError):
    """A question that cannot be asked as it is; the message says why."""


class ReindexRunning(CitebotError):
    """A reindex is already under way."""


class DataDirError(CitebotError, OSError):
    """The data folder cannot hold an index; the message says which folder and why (a disk error too)."""


@dataclass(frozen=True)
class ReindexOutcome:
    finished_at: float
    report: BuildReport | None
    error: str | None


# Discord mentions (<@user>, <@!user>, <@&role>, <#channel>) and @everyone / @here: how a question is addressed,
# never part of it; left in, "@everyone How much ..." is not read as a question about an amount.
MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b")


def strip_mentions(text: str) -> str:
    """The text without Discord mentions, white space folded."""
    return " ".join(MENTION.sub(" ", text).split())


def clean_question(question: str, max_chars: int) -> str:
    """The question without mentions, control and invisible characters, white space folded."""
    kept = "".join(
        " " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c
        for c in question
        if unicodedata.category(c) not in {"Cf", "Co", "Cs", "Cn"}
    )
    text = strip_mentions(kept)  # after the invisible characters are gone: "@\u200beveryone" is a mention too
    if not text:
        raise QuestionError("The question is empty: ask something about the articles.")
    if len(text) > max_chars:
        raise QuestionError(f"The question is too long ({len(text):,} characters; the limit is {max_chars:,}).")
    if not any(c.isalnum() for c in text):
        raise QuestionError("The question has no words in it: ask something about the articles.")
    return text


class Service:
    """Answers questions from the corpus; one per process."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, reader: Reader | None = None,
                 timeline: bool = True, notify: Callable[[str], None] = log.info) -> None:
        """`timeline`: build the timeline of dated events with the index (tests that do not need it save the
        time); `notify` is told when the model's one-off export (about 30 s) starts and ends."""
        self.settings = settings
        self.encoder = encoder or make_encoder(
            settings.model.backend, settings.model.path or None, settings.model.batch_size,
            settings.model.threads or None, settings.models_dir, settings.model.quantisation, notify)
        self.store = IndexStore(settings.index_dir)
        self.build_config = BuildConfig(settings.chunking.target_words, settings.chunking.overlap_sentences,
                                        settings.index.type, settings.index.approximate_above, timeline=timeline)
        self.answer_model = AnswerModel.load(settings.resolve(settings.answer.model))
        self.reader = reader or OnnxReader(self.answer_model.reader_file, self.answer_model.tokenizer_file,
                                           settings.model.threads or None, self.answer_model.reader_sha256)
        self.answer_config = AnswerConfig(settings.answer.max_citations, settings.answer.decline_below)
        self._composer: Composer | None = None
        self._swap_lock = threading.Lock()
        self._reindexing = threading.Lock()
        self._stopping = threading.Event()
        self._build_threads: list[threading.Thread] = []
        self.started_at = time.time()
        self.questions_answered = 0
        self.last_reindex: ReindexOutcome | None = None

    # -- index lifecycle -------------------------------------------------------------------------------

    @property
    def index(self) -> LoadedIndex | None:
        composer = self._composer
        return composer.searcher.index if composer else None

    def load_corpus(self) -> LoadReport:
        """The articles, after finishing adds a crash interrupted and extracting HTML files dropped in the folder."""
        return load_corpus(self.settings.corpus_dir, self.settings.corpus.max_article_bytes)

    def ensure_index(self, progress: Progress | None = None, notify: Callable[[str], None] = log.info,
                     check_corpus: bool = True) -> BuildReport | None:
        """Load the index, building it first when it is missing, out of date or damaged (`notify` is told why)."""
        reason = None
        try:
            manifest = self.store.read_manifest()
            if check_corpus:
                reason = staleness(manifest, self.load_corpus(), self.encoder.model_id, self.build_config)
            elif manifest is None:
                reason = "no index yet"
            if reason is None:
                self._install(self.store.load(verify=True))
                return None
        except IndexCorrupt as exc:
            reason = f"the index is damaged ({exc})"
        except IndexMissing:
            reason = "no index yet"
        notify(f"Building the index: {reason}.")
        try:
            return self.reindex_sync(progress)
        except IndexBusy:  # another process is building this index folder
            pass
        try:
            self._install(self.store.load(verify=True))
            notify("Another process is rebuilding the index; answering from the current one meanwhile.")
            return None
        except (IndexMissing, IndexCorrupt):
            notify("Another process is building the index; waiting for it to finish.")
        with self.store.locked(wait=True):
            try:
                self._install(self.store.load(verify=True))
                return None
            except (IndexMissing, IndexCorrupt):  # that build failed: build it here
                return self.reindex_sync(progress)

    def reindex_sync(self, progress: Progress | None = None, wait: bool = False) -> BuildReport:
        """Rebuild from the corpus folder and swap the result in; the old index serves until then.

        With `wait` (an add indexing its articles) a reindex under way is waited for instead of refused."""
        if not self._reindexing.acquire(blocking=wait):
            raise ReindexRunning("A reindex is already running.")
        try:
            if self._stopping.is_set():
                raise BuildCancelled("the bot is stopping; the index in use is unchanged")
            self._check_data_dir()
            report = build_index(self.load_corpus(), self.encoder, self.store, self.build_config, progress,
                                 cancelled=self._stopping.is_set)
            self._install(self.store.load(verify=True))
        except Exception as exc:  # whatever it was, /status shows it
            self.last_reindex = ReindexOutcome(time.time(), None, str(exc) or exc.__class__.__name__)
            raise
        finally:
            self._reindexing.release()
        self.last_reindex = ReindexOutcome(time.time(), report, None)
        return report

    def _check_data_dir(self) -> None:
        root = self.settings.resolve(self.settings.data.dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise DataDirError(f"{root}: the data folder cannot be written ({exc.strerror}); "
                               "set data.dir to a writable folder") from None

    @property
    def reindexing(self) -> bool:
        return self._reindexing.locked()

    def _install(self, index: LoadedIndex) -> None:
        with self._swap_lock:
            self._composer = Composer(Searcher(index, self.encoder), self.answer_model, self.reader,
                                      self.answer_config)

    # -- questions -------------------------------------------------------------------------------------

    def _ready(self) -> Composer:
        composer = self._composer
        if composer is None:
            self.ensure_index(check_corpus=False)
            composer = self._composer
        return composer

    def ask_sync(self, question: str) -> Answer:
        text = clean_question(question, self.settings.answer.max_question_chars)
        answer = self._ready().answer(text)
        self.questions_answered += 1
        return answer

    def evaluate_sync(self, question: str) -> tuple[Outcome, Baseline]:
        """What the engine does with an evaluation question, and what the plain baseline does."""
        composer = self._ready()
        answer = composer.answer(clean_question(question, self.settings.answer.max_question_chars))
        outcome = answer.outcome()
        searcher = composer.searcher
        query = searcher.parse(answer.question)
        hits = searcher.passages(query, 5)
        top_cosine = searcher.top_cosine(query)
        return outcome, Baseline(tuple(Quote(h.article_id, h.start, h.end, h.text) for h in hits), top_cosine)

    def timeline_sync(self, date_from: str | None = None, date_to: str | None = None,
                      query: str | None = None) -> list[dict]:
        """Timeline events overlapping the dates and about the query; raises TimelineError for bad input."""
        if self.index is None:
            self.ensure_index(check_corpus=False)
        return select_events(self.index.timeline, date_from, date_to, query)

    # -- async front for the bot -----------------------------------------------------------------------

    async def start(self) -> BuildReport | None:
        return await self._in_build_thread(self.ensure_index)

    async def ask(self, question: str) -> Answer:
        return await asyncio.to_thread(self.ask_sync, question)

    async def timeline(self, date_from: str | None = None, date_to: str | None = None,
                       query: str | None = None) -> list[dict]:
        return await asyncio.to_thread(self.timeline_sync, date_from, date_to, query)

    async def reindex(self, progress: Progress | None = None) -> BuildReport:
        if self.reindexing:
            raise ReindexRunning("A reindex is already running.")
        return await self._in_build_thread(self.reindex_sync, progress)

    async def _in_build_thread(self, fn: Callable[..., T], *args) -> T:
        """fn(*args) in a daemon thread of its own. Not the default executor: asyncio.run waits for that at
        exit, so a build there would hold up a shutdown until it finished (minutes)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def settle(result, error: BaseException | None) -> None:
            if done.done():
                return
            if error is None:
                done.set_result(result)
            else:
                done.set_exception(error)

        def run() -> None:
            try:
                result, error = fn(*args), None
            except BaseException as exc:  # handed to the awaiting task
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop has closed: nobody waits for it any more
                pass

        thread = threading.Thread(target=run, name="citebot-build", daemon=True)
        self._build_threads = [t for t in self._build_threads if t.is_alive()] + [thread]
        thread.start()
        return await done

    def cancel_builds(self) -> None:
        """Stop a running build at its next batch, and refuse new ones: the process is shutting down."""
        self._stopping.set()

    async def stop(self, grace: float = 5.0) -> None:
        """Cancel a running build and give it `grace` seconds to stop; the index in use is unchanged either way."""
        self.cancel_builds()
        deadline = time.monotonic() + grace
        for thread in self._build_threads:
            await asyncio.to_thread(thread.join, max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._build_threads):
            log.warning("the index build did not stop within %.0f s; leaving it (nothing was published)", grace)
