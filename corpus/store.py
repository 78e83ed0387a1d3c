"""Writing articles into the corpus folder: all or nothing, repaired after a crash, recognised when seen again.

An add writes each article as ``NAME.txt`` plus its ``NAME.meta.toml`` sidecar. The files are first written
into ``.citebot-staging/<id>/`` inside the corpus folder (hidden, so loading never reads them; on the same
file system, so moving them in is atomic), with a copy of any file they replace and a journal. Then they
are moved into place. Until the caller commits, `rollback` puts the folder back as it was. After a crash,
`recover` finishes a transaction whose files had started moving in (its articles are then indexed on start,
as any new file is) and drops one that had not.

HTML files dropped into the folder (``NAME.html``) are extracted the same way into ``NAME.txt`` and
``NAME.meta.toml`` beside them (`load_corpus`); citations point into ``NAME.txt``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from corpus.html import extract_article, utc_now
from corpus.load import META_SUFFIX, load_articles, read_meta
from corpus.errors import CorpusError
from corpus.files import fsync, read_bounded
from corpus.models import ArticleMeta, LoadReport, Skipped, sha256_text

log = logging.getLogger(__name__)

STAGING = ".citebot-staging"
HTML_SUFFIXES = (".html", ".htm")
LOCK_WAIT_SECONDS = 120.0
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid)$", re.I)


# -- recognising an article again -------------------------------------------------------------------------

def url_key(url: str) -> str:
    """A URL reduced to what names the page: no scheme, fragment, default port, tracking parameters,
    or trailing slash; host in lower case."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", host + port, path, query, ""))


def clean_url(url: str) -> str:
    """The URL without tracking parameters or fragment, as stored in a sidecar."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@dataclass(frozen=True)
class Stored:
    """An article in the folder: its text file (relative path), metadata and the SHA-256 of its text."""

    rel: str
    meta: ArticleMeta
    sha256: str

    @property
    def edited(self) -> bool:
        """Changed by hand since it was extracted: never overwritten."""
        return bool(self.meta.extracted_sha256) and self.meta.extracted_sha256 != self.sha256


class Catalogue:
    """The articles in the corpus folder, found by URL (as fetched or canonical) and by text."""

    def __init__(self, articles: Sequence[Stored] = ()) -> None:
        self.by_url: dict[str, Stored] = {}
        self.by_text: dict[str, Stored] = {}
        self.names: set[str] = set()
        for a in articles:
            self.note(a)

    @classmethod
    def scan(cls, folder: Path, max_bytes: int) -> Catalogue:
        report = load_articles(folder, max_bytes)
        cat = cls(Stored(a.id, a.meta, a.sha256) for a in report.articles)
        cat.names |= {p.relative_to(folder).as_posix().lower() for p in folder.rglob("*")}
        return cat

    def note(self, a: Stored) -> None:
        for url in (a.meta.url, a.meta.canonical_url):
            if url:
                self.by_url[url_key(url)] = a
        self.by_text[a.sha256] = a
        self.by_text.setdefault(a.meta.extracted_sha256 or a.sha256, a)
        self.names.add(a.rel.lower())
        self.names.add(_sidecar(a.rel).lower())

    def find_url(self, *urls: str | None) -> Stored | None:
        for url in urls:
            if url and url_key(url) in self.by_url:
                return self.by_url[url_key(url)]
        return None

    def find_text(self, text: str) -> Stored | None:
        return self.by_text.get(sha256_text(text))

    def new_name(self, meta: ArticleMeta, fallback: str = "article") -> str:
        """A free path for a new article: web/<host>/<slug>.txt, from its URL or title."""
        url = meta.canonical_url or meta.url
        host = (urlsplit(url).hostname or "local") if url else "local"
        host = re.sub(r"[^a-z0-9.-]", "-", host.lower().removeprefix("www.")) or "local"
        stem = ""
        if url:
            last = [p for p in urlsplit(url).path.split("/") if p]
            stem = re.sub(r"\.(s?html?|php|aspx?)$", "", last[-1], flags=re.I) if last else ""
        if not re.search(r"[a-z]{3}", stem, re.I):
            stem = meta.title or fallback
        slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60].strip("-") or fallback
        for n in range(1, 10_000):
            rel = f"web/{host}/{slug}{'' if n == 1 else f'-{n}'}.txt"
            if rel.lower() not in self.names and _sidecar(rel).lower() not in self.names:
                return rel
        raise CorpusError(f"no free file name for {slug} under web/{host}/")


# -- sidecars ---------------------------------------------------------------------------------------------

def meta_toml(meta: ArticleMeta, comment: str | None = None) -> str:
    """The sidecar for `meta`: the fields that are set, in the order of ArticleMeta."""
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    for f in fields(ArticleMeta):
        value = getattr(meta, f.name)
        if value in (None, False, ""):
            continue
        text = "true" if value is True else json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
        lines.append(f"{f.name} = {text}")  # a JSON string is a TOML basic string, but for DEL
    return "\n".join(lines) + "\n"


def _sidecar(rel: str) -> str:
    return rel[: -len(Path(rel).suffix)] + META_SUFFIX if Path(rel).suffix else rel + META_SUFFIX


# -- all-or-nothing writes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleWrite:
    """An article to write: its text file's path relative to the corpus folder, text and metadata."""

    rel: str
    text: str
    meta: ArticleMeta
    comment: str | None = None


class Transaction:
    """Article files moved into the corpus folder together, or not at all (see the module docstring)."""

    def __init__(self, folder: Path, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self.folder = folder
        self.lock_wait = lock_wait
        self.dir = folder / STAGING / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        self.files: list[dict] = []
        self.state = "new"
        self._locks: list = []

    def __enter__(self) -> Transaction:
        (self.folder / STAGING).mkdir(parents=True, exist_ok=True)
        self._locks.append(_flock(self.folder / STAGING / ".lock", self.lock_wait,
                                  "another add is writing to the articles folder"))
        self.dir.mkdir()
        self._locks.append(_flock(self.dir / "lock", 0, "busy"))
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if self.state in ("placing", "placed") and kind is not None:
                self.rollback()
            elif self.state in ("staged", "new"):
                shutil.rmtree(self.dir, ignore_errors=True)
        finally:
            for fh in reversed(self._locks):
                fh.close()

    def stage(self, writes: Sequence[ArticleWrite]) -> None:
        """Write the new files beside the folder's, keep copies of those they replace, and a journal."""
        for i, w in enumerate(writes):
            for suffix, rel, content in (("txt", w.rel, w.text), ("toml", _sidecar(w.rel),
                                                                   meta_toml(w.meta, w.comment))):
                target = self.folder / rel
                staged = self.dir / f"{i}.{suffix}"
                _write_synced(staged, content)
                backup = None
                if target.exists():
                    backup = f"{i}.{suffix}.previous"
                    shutil.copy2(target, self.dir / backup)
                self.files.append({"rel": rel, "staged": staged.name, "backup": backup})
        self._journal("staged")

    def place(self) -> None:
        """Move the staged files into the folder; from here a crash is finished by `recover`."""
        self._journal("placing")
        _move_in(self.folder, self.dir, self.files)
        self.state = "placed"

    def commit(self) -> None:
        """The add is complete: forget the copies of the replaced files."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.state = "committed"

    def rollback(self) -> None:
        """Put the folder back as it was before `place`."""
        self._journal("rolling back")
        _move_out(self.folder, self.dir, self.files)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.state = "rolled back"

    def _journal(self, state: str) -> None:
        _write_synced(self.dir / "journal.json", json.dumps({"state": state, "files": self.files}))
        self.state = state


def recover(folder: Path) -> list[str]:
    """Finish or undo transactions that a crash interrupted; what was done, in words, for the log."""
    root = folder / STAGING
    if not root.is_dir():
        return []
    done = []
    for tx in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            with _flock(tx / "lock", 0, "busy"):
                journal = json.loads((tx / "journal.json").read_text(encoding="utf-8"))
                if journal["state"] == "placing":
                    _move_in(folder, tx, journal["files"])
                    done.append(f"finished an add interrupted by a crash ({len(journal['files']) // 2} article(s))")
                elif journal["state"] == "rolling back":
                    _move_out(folder, tx, journal["files"])
                    done.append("undid a failed add interrupted by a crash")
        except CorpusError:
            continue  # a live transaction holds it
        except (OSError, ValueError, KeyError):
            pass  # no journal yet: nothing was moved in
        shutil.rmtree(tx, ignore_errors=True)
    for line in done:
        log.warning("%s: %s", folder, line)
    return done


def _move_in(folder: Path, tx: Path, files: list[dict]) -> None:
    for f in files:
        staged = tx / f["staged"]
        if staged.exists():  # else moved before the crash
            target = folder / f["rel"]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
    for parent in {(folder / f["rel"]).parent for f in files}:
        fsync(parent)


def _move_out(folder: Path, tx: Path, files: list[dict]) -> None:
    for f in files:
        target = folder / f["rel"]
        if f["backup"]:
            if (tx / f["backup"]).exists():
                os.replace(tx / f["backup"], target)
        else:
            target.unlink(missing_ok=True)
    for parent in {(folder / f["rel"]).parent for f in files}:
        with contextlib.suppress(OSError):
            fsync(parent)


def _flock(path: Path, wait: float, busy: str):
    """An open file holding an exclusive lock on `path`; CorpusError(busy) after `wait` seconds."""
    fh = open(path, "a")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                raise CorpusError(busy) from None
            time.sleep(0.1)


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


# -- HTML files dropped into the folder -------------------------------------------------------------------

def load_corpus(folder: Path, max_bytes: int) -> LoadReport:
    """Repair interrupted adds, extract dropped HTML files, then load the articles (see `load_articles`).

    HTML files are not reported as skipped when their text is in NAME.txt; those that cannot be
    extracted are, with the reason.
    """
    if folder.is_dir():
        recover(folder)
        problems = sync_html(folder, max_bytes)
    else:
        problems = []
    report = load_articles(folder, max_bytes)
    htmls = {s.path for s in report.skipped if s.path.lower().endswith(HTML_SUFFIXES)}
    return replace(report, skipped=tuple(s for s in report.skipped if s.path not in htmls) + tuple(problems))


def sync_html(folder: Path, max_bytes: int) -> list[Skipped]:
    """Extract each NAME.html that is new or changed into NAME.txt + NAME.meta.toml; problems as Skipped."""
    pages = sorted(p for p in folder.rglob("*") if p.suffix.lower() in HTML_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    problems: list[Skipped] = []
    writes: dict[str, ArticleWrite] = {}
    for page in pages:
        rel = page.relative_to(folder).as_posix()
        try:
            write = _html_write(folder, page, max_bytes)
        except CorpusError as exc:
            problems.append(Skipped(rel, str(exc)))
            continue
        if write is not None:
            writes[rel] = write
    if writes:
        try:
            with Transaction(folder, lock_wait=0) as tx:
                tx.stage(list(writes.values()))
                tx.place()
                tx.commit()
            log.info("extracted %d HTML file(s) in %s", len(writes), folder)
        except CorpusError:
            log.info("HTML files not extracted now: an add is writing to %s", folder)
        except OSError as exc:
            problems += [Skipped(rel, f"cannot write {Path(w.rel).name} ({exc.strerror or exc})")
                         for rel, w in writes.items()]
    return problems


def html_sources(txt: Path) -> list[Path]:
    """The HTML files in the folder that `txt` would be extracted from."""
    return [txt.with_suffix(suffix) for suffix in HTML_SUFFIXES]


def _html_write(folder: Path, page: Path, max_bytes: int) -> ArticleWrite | None:
    """What to write for one HTML file, None when its text is up to date; CorpusError when it cannot be."""
    raw = read_bounded(page, max_bytes)
    digest = hashlib.sha256(raw).hexdigest()
    txt = page.with_suffix(".txt")
    txt_rel = txt.relative_to(folder).as_posix()
    if txt.exists():
        sidecar = page.with_name(page.stem + META_SUFFIX)
        try:
            meta = read_meta(sidecar) if sidecar.is_file() else ArticleMeta()
        except CorpusError:
            meta = ArticleMeta()
        if meta.source_sha256 == digest:
            return None
        if not meta.source_sha256:
            raise CorpusError(f"{txt.name} already exists and was not extracted from this file; "
                              "rename one of them")
        current = txt.read_bytes().decode("utf-8-sig", errors="replace")
        if meta.extracted_sha256 and sha256_text(current) != meta.extracted_sha256:
            raise CorpusError(f"changed, but {txt.name} was edited by hand and is kept; "
                              f"delete {txt.name} to extract the page again")
    extraction = extract_article(raw)
    meta = replace(extraction.meta, fetched=utc_now(), source_sha256=digest,
                   extracted_sha256=sha256_text(extraction.text))
    return ArticleWrite(txt_rel, extraction.text, meta,
                        comment=f"Extracted from {page.name}; edit freely (an edited text is never overwritten).")
