"""The question-answering service that the CLI and the Discord bot share.

It owns the live index, builds or rebuilds it when it is missing, stale or damaged, and swaps a rebuilt
index in under a lock so that questions keep being answered from the old one meanwhile. Blocking work
(embedding, searching, building) runs in worker threads when called through the async methods.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.settings import Settings
from corpus.models import CorpusError, LoadReport
from corpus.store import load_corpus
from index.answer import Answer, AnswerConfig, Composer
from index.build import BuildConfig, BuildReport, ExtraBuilder, build_index, staleness
from index.encoder import Encoder, HashingEncoder, Progress, make_encoder
from index.search import Searcher
from index.store import IndexBusy, IndexCorrupt, IndexMissing, IndexStore, LoadedIndex
from index.qtype import answer_type
from index.timeline import build_timeline, date_for, select_events

log = logging.getLogger(__name__)


class QuestionError(ValueError):
    """A question that cannot be asked as it is; the message says why."""


class ReindexRunning(RuntimeError):
    """A reindex is already under way."""


class DataDirError(OSError):
    """The data folder cannot hold an index; the message says which folder and why."""


@dataclass(frozen=True)
class ReindexOutcome:
    finished_at: float
    report: BuildReport | None
    error: str | None


def clean_question(question: str, max_chars: int) -> str:
    """The question with control and invisible characters removed and white space folded."""
    kept = "".join(
        " " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c
        for c in question
        if unicodedata.category(c) not in {"Cf", "Co", "Cs", "Cn"}
    )
    text = " ".join(kept.split())
    if not text:
        raise QuestionError("The question is empty: ask something about the articles.")
    if len(text) > max_chars:
        raise QuestionError(f"The question is too long ({len(text):,} characters; the limit is {max_chars:,}).")
    if not any(c.isalnum() for c in text):
        raise QuestionError("The question has no words in it: ask something about the articles.")
    return text


class Service:
    """Answers questions from the corpus; one per process."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None,
                 extras: Mapping[str, ExtraBuilder] | None = None) -> None:
        self.settings = settings
        if encoder is None and settings.model.backend == "hashing":  # tests: no model to load
            encoder = HashingEncoder()
        self.encoder = encoder or make_encoder(
            settings.model.backend, settings.model.path or None, settings.model.batch_size,
            settings.model.threads or None, settings.models_dir, settings.model.quantisation)
        self.store = IndexStore(settings.index_dir)
        # What a build stores besides the search index: by default the timeline of dated events.
        self.extras = dict({"timeline": build_timeline} if extras is None else extras)
        self.build_config = BuildConfig(settings.chunking.target_words, settings.chunking.overlap_sentences,
                                        settings.index.type, settings.index.hnsw_threshold)
        self.answer_config = AnswerConfig(settings.answer.max_citations, settings.answer.min_support)
        self._composer: Composer | None = None
        self._swap_lock = threading.Lock()
        self._reindexing = threading.Lock()
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
        """Load the index, building it first when it is missing, out of date or damaged."""
        reason = None
        try:
            manifest = self.store.read_manifest()
            if check_corpus:
                reason = staleness(manifest, self.load_corpus(), self.encoder.model_id, self.build_config,
                                   self.extras)
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
        return self.reindex_sync(progress)

    def reindex_sync(self, progress: Progress | None = None, wait: bool = False) -> BuildReport:
        """Rebuild from the corpus folder and swap the result in; the old index serves until then.

        With `wait` (an add indexing its articles) a reindex under way is waited for instead of refused."""
        if not self._reindexing.acquire(blocking=wait):
            raise ReindexRunning("A reindex is already running.")
        try:
            self._check_data_dir()
            report = build_index(self.load_corpus(), self.encoder, self.store, self.build_config, progress,
                                 self.extras)
            self._install(self.store.load(verify=True))
            self.last_reindex = ReindexOutcome(time.time(), report, None)
            return report
        except (CorpusError, IndexBusy, IndexCorrupt, OSError) as exc:
            self.last_reindex = ReindexOutcome(time.time(), None, str(exc))
            raise
        finally:
            self._reindexing.release()

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
            self._composer = Composer(Searcher(index, self.encoder), self.answer_config)

    # -- questions -------------------------------------------------------------------------------------

    def ask_sync(self, question: str) -> Answer:
        text = clean_question(question, self.settings.answer.max_question_chars)
        composer = self._composer
        if composer is None:
            self.ensure_index(check_corpus=False)
            composer = self._composer
        answer = composer.answer(text)
        if not answer.abstained and answer_type(text) in ("time", "year"):
            when = date_for(composer.searcher.index.extras.get("timeline"), answer.sentences, text)
            answer = replace(answer, when=when)
        self.questions_answered += 1
        return answer

    def timeline_sync(self, date_from: str | None = None, date_to: str | None = None,
                      query: str | None = None) -> list[dict]:
        """Timeline events overlapping the dates and about the query; raises TimelineError for bad input."""
        if self.index is None:
            self.ensure_index(check_corpus=False)
        timeline = self.index.extras.get("timeline")
        if timeline is None:  # an index built before timelines existed: work it out from the corpus
            timeline = build_timeline(self.load_corpus().articles)
        return select_events(timeline, date_from, date_to, query)

    # -- async front for the bot -----------------------------------------------------------------------

    async def start(self) -> BuildReport | None:
        return await asyncio.to_thread(self.ensure_index)

    async def ask(self, question: str) -> Answer:
        return await asyncio.to_thread(self.ask_sync, question)

    async def timeline(self, date_from: str | None = None, date_to: str | None = None,
                       query: str | None = None) -> list[dict]:
        return await asyncio.to_thread(self.timeline_sync, date_from, date_to, query)

    async def reindex(self, progress: Progress | None = None) -> BuildReport:
        if self.reindexing:
            raise ReindexRunning("A reindex is already running.")
        return await asyncio.to_thread(self.reindex_sync, progress)
