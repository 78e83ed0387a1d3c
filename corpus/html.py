"""A news page's HTML in, its article text and metadata out (trafilatura), or a reason it is not an article.

The text is what gets stored as the article's ``.txt`` file, so every citation stays a verbatim slice of a
stored file: the headline on the first line, then the paragraphs separated by blank lines. Navigation,
related links, comments, cookie banners and other boilerplate are left out. Nothing here touches the network.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura

from corpus.load import valid_date
from corpus.errors import CorpusError
from corpus.models import ArticleMeta

MIN_WORDS = 40  # fewer words than this is a teaser, an error page or a wall, not an article
# Words of consent and cookie walls; a page whose sentences are mostly about these is refused.
_CONSENT = re.compile(r"\b(cookies?|consent|privacy (?:settings|policy)|personali[sz]ed (?:ads|content|advertising)|"
                      r"our (?:\d+ )?partners|accept all|reject all|manage (?:your )?(?:choices|preferences))\b", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_AUTHOR_JUNK = re.compile(r"\s*(?:[·|•,;:–—-]\s*)?(?:\d+\s*min(?:ute)?s?\s+read)?\s*[·|•,;:–—-]*\s*$",
                          re.I)
# Fields the report names when the page does not give them, in the order they are listed.
REPORTED_FIELDS = {"title": "title", "author": "author", "published": "publication date", "outlet": "outlet",
                   "canonical_url": "canonical URL", "language": "language"}


@dataclass(frozen=True)
class Extraction:
    """An article taken out of a page: the text to store, and what the page says about it."""

    text: str
    meta: ArticleMeta

    @property
    def missing(self) -> tuple[str, ...]:
        """The metadata the page did not give, in words for the user."""
        return tuple(label for name, label in REPORTED_FIELDS.items() if not getattr(self.meta, name))

    @property
    def words(self) -> int:
        return len(self.text.split())


def extract_article(html: str | bytes, url: str | None = None, content_language: str | None = None) -> Extraction:
    """The article in a page; raises CorpusError saying why when the page holds no article text.

    `url` is where the page came from (relative links and the canonical URL are resolved against it);
    `content_language` is the HTTP Content-Language header, used when the page declares no language.
    """
    if isinstance(html, bytes) and b"\x00" in html[:4096]:
        raise CorpusError("not an HTML page (binary content)")
    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_images=False, favor_precision=True,
        deduplicate=False, date_extraction_params={"extensive_search": False, "original_date": True})
    body = (doc.text or "").strip() if doc is not None else ""
    if not body:
        raise CorpusError("no article text found on the page (it may need JavaScript, or be an index or a login page)")
    tree = _tree(html)
    title = _clean(doc.title)
    paragraphs = [" ".join(line.split()) for line in body.splitlines()]
    paragraphs = [p for p in paragraphs if p]
    if title and paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # the headline is written once, on the first line
    _refuse_non_articles(paragraphs)
    text = "\n\n".join(([title] if title else []) + paragraphs) + "\n"
    meta = ArticleMeta(
        title=title,
        author=_author(doc.author),
        published=doc.date if doc.date and valid_date(doc.date) else None,
        outlet=_clean(doc.sitename) if doc.sitename and not _is_host(doc.sitename) else None,
        url=url,
        canonical_url=_canonical(tree, url),
        language=_language(tree) or _lang_tag(content_language),
    )
    return Extraction(text, meta)


def with_feed_hints(extraction: Extraction, title: str | None = None, author: str | None = None,
                    published: str | None = None) -> Extraction:
    """Fill metadata the page lacks from its feed entry (never overriding what the page says)."""
    meta = extraction.meta
    return replace(extraction, meta=replace(
        meta, title=meta.title or _clean(title), author=meta.author or _author(author),
        published=meta.published or (published if published and valid_date(published) else None)))


def _refuse_non_articles(paragraphs: list[str]) -> None:
    words = sum(len(p.split()) for p in paragraphs)
    sentences = [s for p in paragraphs for s in _SENTENCE.findall(p) if len(s.split()) >= 3]
    about_consent = sum(len(s.split()) for s in sentences if _CONSENT.search(s))
    if sentences and about_consent >= 0.5 * sum(len(s.split()) for s in sentences):
        raise CorpusError("the page shows only a cookie or consent notice, not the article "
                          "(the site may need consent given in a browser)")
    if words < MIN_WORDS:
        raise CorpusError(f"too little article text on the page ({words} words; at least {MIN_WORDS} needed)")


def _tree(html: str | bytes):
    try:
        return lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _author(value: str | None) -> str | None:
    value = _clean(value)
    if not value:
        return None
    value = _AUTHOR_JUNK.sub("", value).strip()
    value = value.removeprefix("By ").removeprefix("by ").strip()
    return value or None


def _is_host(value: str) -> bool:
    """trafilatura falls back to the host name when a page names no site: that is not an outlet's name."""
    return bool(re.fullmatch(r"[\w.-]+\.[a-z]{2,}(:\d+)?|[\d.]+(:\d+)?|localhost(:\d+)?", value.strip(), re.I))


def _canonical(tree, base: str | None) -> str | None:
    """The page's own idea of its address: <link rel=canonical>, og:url, or the JSON-LD article's url."""
    if tree is None:
        return None
    found = (tree.xpath('//link[translate(@rel, "CANONICAL", "canonical")="canonical"]/@href')
             + tree.xpath('//meta[@property="og:url"]/@content') + _jsonld_urls(tree))
    for href in found:
        href = href.strip()
        full = urljoin(base, href) if base else href
        if urlsplit(full).scheme in ("http", "https") and urlsplit(full).hostname:
            return full
    return None


def _jsonld_urls(tree) -> list[str]:
    urls = []
    for block in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        items = data.get("@graph", [data]) if isinstance(data, dict) else data if isinstance(data, list) else []
        for item in items:
            if isinstance(item, dict) and "Article" in str(item.get("@type", "")):
                for key in ("url", "mainEntityOfPage"):
                    value = item.get(key)
                    value = value.get("@id") if isinstance(value, dict) else value
                    if isinstance(value, str):
                        urls.append(value)
    return urls


def _language(tree) -> str | None:
    """The language the page declares: <html lang>, Content-Language meta, og:locale, or JSON-LD inLanguage."""
    if tree is None:
        return None
    xml_ns = {"xml": "http://www.w3.org/XML/1998/namespace"}
    http_equiv = 'translate(@http-equiv, "CONTENTLANGUAGE", "contentlanguage")="content-language"'
    found = (tree.xpath("/html/@lang") + tree.xpath("/html/@xml:lang", namespaces=xml_ns)
             + tree.xpath(f"//meta[{http_equiv}]/@content") + tree.xpath('//meta[@property="og:locale"]/@content'))
    for block in tree.xpath('//script[@type="application/ld+json"]/text()'):
        found += re.findall(r'"inLanguage"\s*:\s*"([^"]+)"', block)
    for value in found:
        tag = _lang_tag(value)
        if tag:
            return tag
    return None


def _lang_tag(value: str | None) -> str | None:
    """A BCP 47 tag such as 'en' or 'en-GB' ('en_US' written 'en-US'); None for anything else."""
    value = (value or "").split(",")[0].strip()
    if not _LANG.fullmatch(value):
        return None
    parts = value.replace("_", "-").split("-")
    return "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])


def utc_now() -> str:
    """The time of a fetch, as stored in sidecars: ISO 8601 in UTC to the second."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
