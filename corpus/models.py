"""Records of the corpus: articles, their metadata, their chunks, and what loading skipped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArticleMeta:
    """Hand-editable facts about an article; every field may be unknown."""

    title: str | None = None
    published: str | None = None  # ISO-like: YYYY, YYYY-MM or YYYY-MM-DD
    published_inferred: bool = False
    published_note: str | None = None
    outlet: str | None = None
    author: str | None = None
    url: str | None = None
    # Articles brought in from the web (python -m bot add, feeds, HTML files in the folder):
    canonical_url: str | None = None  # the address the page gives for itself, used to recognise it again
    language: str | None = None  # as the page declares it, BCP 47 ("en", "en-GB")
    fetched: str | None = None  # when it was fetched or extracted, ISO 8601 UTC
    source_sha256: str | None = None  # of the HTML it was extracted from: unchanged HTML is not extracted again
    extracted_sha256: str | None = None  # of the text as extracted: a text edited since is never overwritten


@dataclass(frozen=True)
class Article:
    """One article: `text` is the file decoded as UTF-8 without BOM, newlines kept as they are."""

    id: str  # path relative to the articles folder, with '/' separators
    text: str
    meta: ArticleMeta = field(default_factory=ArticleMeta)
    body_start: int = 0  # where the prose starts, after a dateline, title and byline
    quote_start: int = 0  # where passages start: the title and byline lines are quotable, a dateline is not

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)

    @property
    def title(self) -> str:
        return self.meta.title or self.id


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article; `text == article.text[start:end]`."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        """Content hash that decides whether a stored embedding can be reused."""
        return sha256_text(self.text)


@dataclass(frozen=True)
class Skipped:
    """A file that loading passed over, and why, in words for the user."""

    path: str
    reason: str


@dataclass(frozen=True)
class LoadReport:
    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[Skipped, ...] = ()  # problems that did not stop an article from loading

    def fingerprint(self) -> dict[str, str]:
        """Article id -> hash of its text and metadata, for telling whether an index is up to date (an edited
        sidecar changes what citations show, so it counts as a change)."""
        return {a.id: a.sha256 if a.meta == ArticleMeta() else sha256_text(a.sha256 + repr(a.meta))
                for a in self.articles}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
