"""Reading the articles folder: text files in, articles plus a report of what was skipped and why.

Metadata lives in an optional sidecar beside each article, ``NAME.meta.toml`` for ``NAME.txt``::

    title = "Lithuania's parliament votes to exit cluster munitions convention"
    published = "2024-07"          # YYYY, YYYY-MM or YYYY-MM-DD
    published_inferred = true      # the date was worked out from the text, not stated
    published_note = "why the date is what it is"
    outlet = "Anadolu Agency"
    author = "Leila Nezirevic"
    url = "https://..."

Without a sidecar, the article's first lines give what they state: a headline, a byline, a publication
date, a dateline's agency (the rules are in corpus/header.py); a sidecar's fields win over them.
"""

from __future__ import annotations

import datetime
import errno
import os
import re
import stat
import tomllib
import unicodedata
from dataclasses import fields, replace
from pathlib import Path

from corpus.header import read_header
from corpus.errors import CorpusError
from corpus.files import read_bounded
from corpus.models import Article, ArticleMeta, LoadReport, Skipped

ARTICLE_SUFFIXES = (".txt", ".md")
META_SUFFIX = ".meta.toml"
DEFAULT_MAX_BYTES = 2_000_000
_DATE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")  # ASCII digits only
# The longest each metadata field is kept (characters); longer values are cut, with a warning.
META_LIMITS = {"title": 300, "outlet": 200, "author": 200, "published_note": 1000, "url": 2048}
_SPECIAL = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


def load_articles(folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadReport:
    """Read every article under `folder`; unreadable files are reported, never fatal."""
    if not folder.is_dir():
        raise CorpusError(f"{folder}: the corpus folder does not exist (set corpus.path in the settings)")
    articles: list[Article] = []
    skipped: list[Skipped] = []
    warnings: list[Skipped] = []
    seen: dict[str, str] = {}
    root = folder.resolve()
    for path, real, rel in _entries(folder, skipped):
        if rel.endswith(META_SUFFIX) or path.stem.lower() == "readme":  # sidecars; notes about the folder
            continue
        if path.suffix.lower() not in ARTICLE_SUFFIXES:
            skipped.append(Skipped(rel, f"not an article file (only {', '.join(ARTICLE_SUFFIXES)} are read)"))
            continue
        try:
            article = read_article(real, rel, max_bytes)
        except CorpusError as exc:
            skipped.append(Skipped(rel, str(exc)))
            continue
        sidecar = path.with_name(path.stem + META_SUFFIX)
        side_rel = sidecar.relative_to(folder).as_posix()
        if sidecar.is_file() or sidecar.is_symlink():
            try:
                article = replace(article, meta=_merge(article.meta, read_meta(_regular(sidecar, root))))
            except CorpusError as exc:
                warnings.append(Skipped(side_rel, f"{exc}; header metadata used"))
        meta, notes = tidy_meta(article.meta)
        if notes:
            article = replace(article, meta=meta)
            warnings.append(Skipped(side_rel if sidecar.exists() else rel, "; ".join(notes)))
        digest = article.sha256
        if digest in seen:
            skipped.append(Skipped(rel, f"same text as {seen[digest]}, indexed once"))
            continue
        seen[digest] = rel
        articles.append(article)
    return LoadReport(tuple(articles), tuple(skipped), tuple(warnings))


def _entries(folder: Path, skipped: list[Skipped]) -> list[tuple[Path, Path, str]]:
    """The files under `folder` as (path, real path, path relative to `folder`), sorted, hidden ones left out;
    links to folders, links leaving the folder, broken links, link loops and special files (a FIFO would block
    the build for ever) go to `skipped` with the reason."""
    root = folder.resolve()
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in [d for d in dirnames if (base / d).is_symlink()]:  # os.walk does not go into them
            dirnames.remove(d)
            rel = (base / d).relative_to(folder).as_posix()
            try:
                _inside(base / d, root)
                skipped.append(Skipped(rel, "a link to a folder: not followed (its files are read where they are)"))
            except CorpusError as exc:
                skipped.append(Skipped(rel, str(exc)))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = base / name
            rel = path.relative_to(folder).as_posix()
            try:
                out.append((path, _regular(path, root), rel))
            except CorpusError as exc:
                skipped.append(Skipped(rel, str(exc)))
    return sorted(out)


def _regular(path: Path, root: Path) -> Path:
    """The real path of a regular file inside `root`; CorpusError naming what it is otherwise."""
    try:
        mode = path.lstat().st_mode
        real = path  # reached without following a link (os.walk follows none): inside the folder
        if stat.S_ISLNK(mode):
            real = _inside(path, root)
            mode = real.stat().st_mode
    except OSError as exc:
        raise CorpusError(f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise CorpusError(f"not a regular file ({_SPECIAL.get(stat.S_IFMT(mode), 'a special file')}): not read")
    return real


def _inside(path: Path, root: Path) -> Path:
    """The real path of `path`, which must stay inside `root` (the resolved corpus folder); CorpusError for a
    link that leaves it, a broken link or a link loop."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        if not path.is_symlink():
            raise CorpusError("removed while being read") from None
        raise CorpusError(f"a broken link (to {os.readlink(path)}, which does not exist)") from None
    except OSError as exc:
        reason = "a link loop" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror or exc})"
        raise CorpusError(reason) from None
    if not real.is_relative_to(root):
        raise CorpusError(f"a link to {real}, outside the corpus folder: not read")
    return real


def read_article(path: Path, rel: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One article file, metadata from its header only; raises CorpusError with the reason it cannot be used."""
    raw = read_bounded(path, max_bytes)
    if b"\x00" in raw:
        raise CorpusError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"not UTF-8 (invalid byte at offset {exc.start})") from exc
    if not text.strip():
        raise CorpusError("empty")
    if sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t\f") > len(text) // 100 + 5:
        raise CorpusError("binary file (control characters)")
    meta, quote_start, body_start = _header_meta(text)
    return Article(id=rel, text=text, meta=meta, body_start=body_start, quote_start=quote_start)


def read_meta(path: Path) -> ArticleMeta:
    """A sidecar's fields; a bad sidecar raises CorpusError naming the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"metadata {path.name} cannot be read: {exc}") from exc
    known = {f.name: f.type for f in fields(ArticleMeta)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CorpusError(f"metadata {path.name}: unknown field(s) {', '.join(unknown)}")
    for key, value in data.items():
        expected = bool if key == "published_inferred" else str
        if not isinstance(value, expected):
            raise CorpusError(f"metadata {path.name}: {key} must be a {expected.__name__}")
    published = data.get("published")
    if published is not None and not valid_date(published):
        raise CorpusError(f"metadata {path.name}: published must be YYYY, YYYY-MM or YYYY-MM-DD, not {published!r}")
    return ArticleMeta(**{k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()})


def valid_date(value: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD naming a real day, month or year (not year 0, not 30 February)."""
    if not _DATE.fullmatch(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        datetime.date(*parts, *[1] * (3 - len(parts)))
    except ValueError:
        return False
    return True


def _header_meta(text: str) -> tuple[ArticleMeta, int, int]:
    """Metadata stated in the article's first lines; where its quotable text begins (after leading date
    lines); and where its prose begins (after every header line)."""
    h = read_header(text)
    meta = ArticleMeta(title=h.title, author=h.author, published=h.published, outlet=h.outlet)
    return meta, h.quote_start, h.body_start


def tidy_meta(meta: ArticleMeta) -> tuple[ArticleMeta, list[str]]:
    """The metadata without control characters (terminal escapes, line breaks) and within META_LIMITS;
    and what was changed, in words."""
    values, notes = {}, []
    for name, limit in META_LIMITS.items():
        value = getattr(meta, name)
        if value is None:
            continue
        clean = value
        if any(unicodedata.category(c) == "Cc" for c in value):  # line breaks become spaces, the rest goes
            clean = " ".join("".join(c for c in value if c.isspace() or unicodedata.category(c) != "Cc").split())
            notes.append(f"{name}: control characters removed")
        if len(clean) > limit:
            notes.append(f"{name}: {len(clean):,} characters, cut to {limit:,}")
            clean = clean[: limit - 1].rstrip() + "…"
        if clean != value:
            values[name] = clean or None
    return (replace(meta, **values) if values else meta), notes


def _merge(base: ArticleMeta, override: ArticleMeta) -> ArticleMeta:
    values = {f.name: getattr(base, f.name) for f in fields(ArticleMeta)}
    for f in fields(ArticleMeta):
        value = getattr(override, f.name)
        if value not in (None, False):
            values[f.name] = value
    return ArticleMeta(**values)
