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
import re
import tomllib
from dataclasses import fields, replace
from pathlib import Path

from corpus.header import read_header
from corpus.models import Article, ArticleMeta, CorpusError, LoadReport, Skipped

ARTICLE_SUFFIXES = (".txt", ".md")
META_SUFFIX = ".meta.toml"
DEFAULT_MAX_BYTES = 2_000_000
_DATE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")  # ASCII digits only


def load_articles(folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadReport:
    """Read every article under `folder`; unreadable files are reported, never fatal."""
    if not folder.is_dir():
        raise CorpusError(f"{folder}: the corpus folder does not exist (set corpus.path in the settings)")
    articles: list[Article] = []
    skipped: list[Skipped] = []
    warnings: list[Skipped] = []
    seen: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or rel.endswith(META_SUFFIX):
            continue
        if path.suffix.lower() not in ARTICLE_SUFFIXES:
            if path.name.lower() not in {"readme", "readme.md"}:
                skipped.append(Skipped(rel, f"not an article file (only {', '.join(ARTICLE_SUFFIXES)} are read)"))
            continue
        try:
            article = read_article(path, rel, max_bytes)
        except CorpusError as exc:
            skipped.append(Skipped(rel, str(exc)))
            continue
        sidecar = path.with_name(path.stem + META_SUFFIX)
        if sidecar.is_file():
            try:
                article = replace(article, meta=_merge(article.meta, read_meta(sidecar)))
            except CorpusError as exc:
                warnings.append(Skipped(sidecar.relative_to(folder).as_posix(), f"{exc}; header metadata used"))
        digest = article.sha256
        if digest in seen:
            skipped.append(Skipped(rel, f"same text as {seen[digest]}, indexed once"))
            continue
        seen[digest] = rel
        articles.append(article)
    return LoadReport(tuple(articles), tuple(skipped), tuple(warnings))


def read_article(path: Path, rel: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One article file, metadata from its header only; raises CorpusError with the reason it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CorpusError(f"larger than the {max_bytes:,}-byte limit ({size:,} bytes)")
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot be read ({exc.strerror or exc})") from exc
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


def _merge(base: ArticleMeta, override: ArticleMeta) -> ArticleMeta:
    values = {f.name: getattr(base, f.name) for f in fields(ArticleMeta)}
    for f in fields(ArticleMeta):
        value = getattr(override, f.name)
        if value not in (None, False):
            values[f.name] = value
    return ArticleMeta(**values)
