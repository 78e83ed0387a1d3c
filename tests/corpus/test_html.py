"""Extracting articles from news pages in real-world layouts: main text kept, boilerplate dropped, metadata."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from corpus.html import MIN_WORDS, extract_article
from corpus.errors import CorpusError
from tests.newsserver import FIXTURES

BASE = "http://news.example"
EXPECTED = {k: v for k, v in json.loads((FIXTURES / "expected.json").read_text()).items() if not k.startswith("_")}


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"{base}", BASE.encode())


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_main_text_is_kept_and_boilerplate_dropped(name: str) -> None:
    want = EXPECTED[name]
    text = norm(extract_article(page(name), url=f"{BASE}/{name}").text)
    assert [p for p in want["keep"] if norm(p) not in text] == []
    assert [p for p in want["drop"] if norm(p) in text] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_from_json_ld_open_graph_and_html(name: str) -> None:
    meta = extract_article(page(name), url=f"{BASE}/{name}").meta
    for field, value in EXPECTED[name]["meta"].items():
        value = value.replace("{base}", BASE) if isinstance(value, str) else value
        assert getattr(meta, field) == value, field
    assert meta.url == f"{BASE}/{name}"


def test_headline_first_then_paragraphs_separated_by_blank_lines() -> None:
    ex = extract_article(page("harbour.html"), url=BASE)
    first, blank, second = ex.text.split("\n")[:3]
    assert first == "Aldmere council approves deep-water berth as port traffic grows"
    assert blank == "" and second.startswith("The Aldmere city council on Wednesday")
    assert ex.text.count(first) == 1  # the headline inside the article body is not repeated
    assert ex.text.endswith(".\n") and "\n\n\n" not in ex.text
    assert ex.missing == ()


def test_a_page_without_date_author_or_outlet_says_what_it_lacks() -> None:
    ex = extract_article(page("library.html"), url=f"{BASE}/library")
    assert ex.meta.published is None and ex.meta.author is None and ex.meta.outlet is None
    assert ex.missing == ("author", "publication date", "outlet", "canonical URL", "language")


def test_the_http_content_language_header_is_used_when_the_page_declares_none() -> None:
    assert extract_article(page("library.html"), content_language="de-de").meta.language == "de-DE"
    assert extract_article(page("harbour.html"), content_language="de").meta.language == "en"


def test_a_cookie_wall_is_refused_with_the_reason() -> None:
    with pytest.raises(CorpusError, match="cookie or consent notice"):
        extract_article(page("cookiewall.html"), url=BASE)


@pytest.mark.parametrize("html,reason", [
    (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text|too little article text"),
    (b"<html><body><article><p>Breaking: more soon.</p></article></body></html>", "no article text|too little"),
    (b"%PDF-1.7\x00\x00binary", "not an HTML page"),
    (b"", "no article text"),
])
def test_pages_without_an_article_are_refused(html: bytes, reason: str) -> None:
    with pytest.raises(CorpusError, match=reason):
        extract_article(html, url=BASE)


def test_a_short_report_above_the_minimum_is_kept() -> None:
    words = " ".join(["The harbour master said the channel was dredged again this week."] * (MIN_WORDS // 10 + 1))
    html = f"<html><body><article><h1>Channel dredged</h1><p>{words}</p></article></body></html>"
    assert extract_article(html).words >= MIN_WORDS


def test_corpus_never_imports_network_or_discord_code() -> None:
    code = ("import sys, corpus.html, corpus.store; "
            "bad = [m for m in ('discord', 'aiohttp', 'bot', 'bot.fetch') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
