"""Adding articles from the web: fetch, extract, recognise what is already stored, store, index; all or nothing.

`Ingestor.add` is what `python -m bot add`, `/add` and the feed poller call. Network work runs on the event
loop (aiohttp), extraction, storing and indexing in worker threads. The articles of one call are stored in
one transaction (corpus/store.py) and indexed together; if indexing fails, the folder is put back as it was
and the serving index was never replaced.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from bot.fetch import FetchError, Fetcher, Politeness
from bot.service import Service
from bot.settings import Settings
from corpus.html import Extraction, extract_article, utc_now, with_feed_hints
from corpus.errors import CorpusError
from corpus.models import ArticleMeta, sha256_text
from corpus.store import ArticleWrite, Catalogue, Stored, Transaction, clean_url, html_sources, recover
from index.build import BuildReport

log = logging.getLogger(__name__)

# (stage, done, total): stage is "fetch" (pages fetched and extracted) or "index" (texts embedded).
AddProgress = Callable[[str, int, int], None]
STATUSES = ("added", "updated", "skipped", "refused", "failed")
FETCHES_AT_ONCE = 4  # across sites; one at a time per site in any case (bot/fetch.py)


@dataclass(frozen=True)
class Source:
    """Something to add: a URL or an HTML file; hints from a feed entry fill what the page does not say."""

    ref: str
    refresh: bool = True  # fetch it again when already stored (False: a feed item not announced as changed)
    title: str | None = None
    author: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one source: added or updated; skipped (already stored), refused (not an article) or
    failed (could not be fetched or read), with the reason."""

    source: str
    status: str
    path: str | None = None  # the article's text file, relative to the articles folder
    meta: ArticleMeta | None = None
    missing: tuple[str, ...] = ()
    reason: str | None = None
    words: int = 0
    transient: bool = False  # failed for a reason that may pass (network, busy server)

    @property
    def stored(self) -> bool:
        return self.status in ("added", "updated")


@dataclass(frozen=True)
class AddReport:
    outcomes: tuple[Outcome, ...]
    build: BuildReport | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in STATUSES if self.count(s)]
        return ", ".join(parts) or "nothing to do"


@dataclass(frozen=True)
class _Page:
    """A fetched and extracted page waiting to be stored."""

    source: Source
    extraction: Extraction
    raw_sha256: str


class Ingestor:
    """Adds articles to the service's corpus and index; one add at a time per process."""

    def __init__(self, service: Service, politeness: Politeness | None = None,
                 sleep: Callable[[float], object] = asyncio.sleep, settings: Settings | None = None) -> None:
        self.service = service
        self.settings = settings or service.settings
        self.politeness = politeness or Politeness()
        self.sleep = sleep
        self._lock: asyncio.Lock | None = None

    @property
    def busy(self) -> bool:
        return self._lock is not None and self._lock.locked()

    async def add(self, sources: Sequence[Source | str], progress: AddProgress | None = None) -> AddReport:
        """Fetch (or read), extract, store and index `sources`; one Outcome per source, in order."""
        sources = [s if isinstance(s, Source) else Source(s) for s in sources]
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            folder = self.settings.corpus_dir
            if not folder.is_dir():
                raise CorpusError(f"{folder}: the corpus folder does not exist (set corpus.path in the settings)")
            known = await asyncio.to_thread(self._catalogue)
            results: list[_Page | Outcome | None] = [None] * len(sources)
            done = 0
            gate = asyncio.Semaphore(FETCHES_AT_ONCE)
            if progress:
                progress("fetch", 0, len(sources))
            async with Fetcher(self.settings.fetch, self.politeness, self.sleep) as fetcher:
                async def one(i: int, source: Source) -> None:
                    nonlocal done
                    async with gate:
                        results[i] = await self._prepare(source, fetcher, known)
                    done += 1
                    if progress:
                        progress("fetch", done, len(sources))

                await asyncio.gather(*(one(i, s) for i, s in enumerate(sources)))
            pages = [r for r in results if isinstance(r, _Page)]
            if not pages:
                return AddReport(tuple(results))
            index_progress = (lambda d, t: progress("index", d, t)) if progress else None
            stored, build = await asyncio.to_thread(self._store_safely, pages, index_progress)
            outcomes = [stored[id(r)] if isinstance(r, _Page) else r for r in results]
            return AddReport(tuple(outcomes), build)

    def _catalogue(self) -> Catalogue:
        recover(self.settings.corpus_dir)  # an add a crash interrupted is finished before looking
        return Catalogue.scan(self.settings.corpus_dir, self.settings.corpus.max_article_bytes)

    async def _prepare(self, source: Source, fetcher: Fetcher, known: Catalogue) -> _Page | Outcome:
        """The extracted page, or the Outcome saying why it goes no further."""
        ref = source.ref.strip()
        if not _is_url(ref):
            return await asyncio.to_thread(self._read_file, source)
        if not source.refresh and (stored := known.find_url(ref)):
            return Outcome(ref, "skipped", stored.rel, stored.meta, reason=f"already stored as {stored.rel}")
        try:
            got = await fetcher.page(ref)
        except FetchError as exc:
            return Outcome(ref, "failed", reason=str(exc), transient=exc.transient)
        try:
            extraction = await asyncio.to_thread(extract_article, got.body, got.url, got.content_language)
        except CorpusError as exc:
            return Outcome(ref, "refused", reason=str(exc))
        return _Page(source, _hinted(extraction, source), hashlib.sha256(got.body).hexdigest())

    def _read_file(self, source: Source) -> _Page | Outcome:
        path = Path(source.ref).expanduser()
        try:
            inside = path.resolve().is_relative_to(self.settings.corpus_dir.resolve())
            if inside:
                return Outcome(source.ref, "skipped", reason="it is in the articles folder already: HTML files "
                               "there are extracted on reindex (python -m bot reindex)")
            if path.suffix.lower() not in (".html", ".htm", ".xhtml"):
                return Outcome(source.ref, "failed", reason="not a URL (http:// or https://) or an .html file")
            size = path.stat().st_size
            if size > self.settings.fetch.max_bytes:
                return Outcome(source.ref, "failed", reason=f"larger than the {self.settings.fetch.max_bytes:,}-byte "
                               f"limit ({size:,} bytes; fetch.max_bytes)")
            raw = path.read_bytes()
        except OSError as exc:
            return Outcome(source.ref, "failed", reason=f"cannot be read ({exc.strerror or exc})")
        try:
            extraction = extract_article(raw)
        except CorpusError as exc:
            return Outcome(source.ref, "refused", reason=str(exc))
        return _Page(source, _hinted(extraction, source), hashlib.sha256(raw).hexdigest())

    def _store(self, pages: list[_Page], progress) -> tuple[dict[int, Outcome], BuildReport | None]:
        """Decide what each page becomes, write it in one transaction, index; worker thread."""
        folder = self.settings.corpus_dir
        outcomes: dict[int, Outcome] = {}
        writes: list[ArticleWrite] = []
        with Transaction(folder) as tx:
            catalogue = Catalogue.scan(folder, self.settings.corpus.max_article_bytes)
            for page in pages:
                outcome, write = _plan(page, catalogue, folder)
                outcomes[id(page)] = outcome
                if write is not None:
                    writes.append(write)
                    catalogue.note(Stored(write.rel, write.meta, sha256_text(write.text)))
            if not writes:
                return outcomes, None
            tx.stage(writes)
            tx.place()
            try:
                build = self.service.reindex_sync(progress, wait=True)
            except Exception as exc:
                log.warning("indexing the added articles failed; the articles folder is put back: %s", exc)
                for key, o in outcomes.items():
                    if o.stored:
                        outcomes[key] = replace(o, status="failed", reason=f"indexing failed, nothing stored: {exc}")
                raise _Undo(outcomes) from exc
            tx.commit()
        log.info("added %d article(s): %s", len(writes), ", ".join(w.rel for w in writes))
        return outcomes, build

    def _store_safely(self, pages: list[_Page], progress) -> tuple[dict[int, Outcome], BuildReport | None]:
        try:
            return self._store(pages, progress)
        except _Undo as undo:
            return undo.outcomes, None


class _Undo(Exception):
    """Indexing failed after the files were placed; carries the outcomes to report once rolled back."""

    def __init__(self, outcomes: dict[int, Outcome]) -> None:
        super().__init__("undo")
        self.outcomes = outcomes


def _plan(page: _Page, catalogue: Catalogue, folder: Path) -> tuple[Outcome, ArticleWrite | None]:
    """Added, updated or skipped, and the write it takes."""
    ex, ref = page.extraction, page.source.ref
    text_sha = sha256_text(ex.text)
    meta = replace(ex.meta, url=clean_url(ex.meta.url) if ex.meta.url else None, fetched=utc_now(),
                   source_sha256=page.raw_sha256, extracted_sha256=text_sha)
    existing = catalogue.find_url(ref if _is_url(ref) else None, ex.meta.url, ex.meta.canonical_url)
    if existing is not None:
        if text_sha in (existing.sha256, existing.meta.extracted_sha256):
            return Outcome(ref, "skipped", existing.rel, existing.meta, reason=f"already stored as {existing.rel}, "
                           "unchanged"), None
        if existing.edited:
            return Outcome(ref, "skipped", existing.rel, existing.meta, reason=f"changed on the site, but "
                           f"{existing.rel} was edited by hand and is kept"), None
        html = next((h for h in html_sources(folder / existing.rel) if h.is_file()), None)
        if html is not None:
            return Outcome(ref, "skipped", existing.rel, existing.meta, reason=f"changed on the site, but "
                           f"{existing.rel} is extracted from {html.name} in the articles folder: replace that "
                           "file to update it"), None
        merged = _keep_known(meta, existing.meta)
        return (Outcome(ref, "updated", existing.rel, merged, ex.missing, words=ex.words),
                ArticleWrite(existing.rel, ex.text, merged, _COMMENT))
    same = catalogue.find_text(ex.text)
    if same is not None:
        return Outcome(ref, "skipped", same.rel, same.meta, reason=f"same text as {same.rel}"), None
    rel = catalogue.new_name(meta)
    return Outcome(ref, "added", rel, meta, ex.missing, words=ex.words), ArticleWrite(rel, ex.text, meta, _COMMENT)


_COMMENT = "Extracted by citebot from the page at url; edit freely (an edited text is never overwritten)."


def _keep_known(new: ArticleMeta, old: ArticleMeta) -> ArticleMeta:
    """The new extraction's metadata, keeping what the stored sidecar had where the page now says nothing
    (a date worked out by hand, with its note, stays only while the page states none)."""
    if new.published:
        old = replace(old, published_inferred=False, published_note=None)
    return ArticleMeta(**{f.name: getattr(new, f.name) if getattr(new, f.name) not in (None, False)
                          else getattr(old, f.name) for f in fields(ArticleMeta)})


def _hinted(extraction: Extraction, source: Source) -> Extraction:
    if source.title or source.author or source.published:
        return with_feed_hints(extraction, source.title, source.author, source.published)
    return extraction


def outcome_lines(o: Outcome) -> list[str]:
    """What became of one source, in plain lines: the CLI prints them, /add sends them."""
    if not o.stored:
        return [f"{o.status} {o.source}: {o.reason}"]
    m = o.meta or ArticleMeta()
    lines = [f"{o.status} {o.path} ({o.words:,} words) from {o.source}"]
    for label, value in (("title", m.title), ("author", m.author), ("published", m.published),
                         ("outlet", m.outlet), ("canonical URL", m.canonical_url), ("language", m.language)):
        if value:
            lines.append(f"    {label}: {value}")
    if o.missing:
        lines.append(f"    not found on the page: {', '.join(o.missing)}")
    return lines


def _is_url(ref: str) -> bool:
    return "://" in ref[:12]
