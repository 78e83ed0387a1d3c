"""render: answers, sources, reports and timelines always within Discord's limits, and never pinging."""

from __future__ import annotations

import discord
from hypothesis import given, settings as hsettings, strategies as st

from bot import render
from tests.helpers import PING, answer, check_embed, citation

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=9000)
mentiony = st.lists(st.sampled_from(["@everyone", "@here", "<@123456789012345678>", "<@&42>", "<@!7>", "word",
                                     " ", "😀", "\n", "ü", "x" * 300]), max_size=400).map("".join)


def test_clip_keeps_short_text_and_cuts_long_text_at_a_word() -> None:
    assert render.clip("short", 10) == "short"
    out = render.clip("alpha beta gamma delta", 14)
    assert out == "alpha beta…"
    assert render.dlen(out) <= 14


def test_dlen_counts_astral_characters_twice() -> None:
    assert render.dlen("a😀") == 3
    assert render.dlen(render.clip("😀" * 100, 11)) <= 11


@given(st.one_of(texts, mentiony), st.integers(min_value=1, max_value=5000))
def test_clip_never_exceeds_the_limit(text: str, limit: int) -> None:
    assert render.dlen(render.clip(text, limit)) <= limit


@given(st.one_of(texts, mentiony))
def test_neutralised_text_never_pings(text: str) -> None:
    assert not PING.search(render.neutralise(text))
    assert not PING.search(render.message_text(text))


@hsettings(max_examples=60, deadline=None)
@given(question=st.one_of(texts, mentiony), body=st.one_of(texts, mentiony), quote=st.one_of(texts, mentiony),
       title=st.one_of(texts, mentiony), n=st.integers(min_value=0, max_value=30),
       url=st.one_of(st.none(), st.text(max_size=3000)))
def test_answer_embed_is_within_limits_for_any_text(question, body, quote, title, n, url) -> None:
    cites = [citation(i + 1, text=quote, title=title, outlet=title[:50], author=title[-50:], url=url)
             for i in range(n)]
    e = render.answer_embed(answer(question, body, cites))
    check_embed(e)
    for t in [e.title or "", e.description or ""] + [f.name + f.value for f in e.fields]:
        assert not PING.search(t)


def test_answer_embed_layout() -> None:
    c1 = citation(1, date="2024", date_inferred=True, text="Long " * 200)
    e = render.answer_embed(answer("When?", "On 18 July 2024 [1].", [c1, citation(2, url=None)]))
    assert e.description == "On 18 July 2024 [1]."
    assert [f.name for f in e.fields] == ["[1] Article 1", "[2] Article 2"]
    assert "2024 (inferred)" in e.fields[0].value and "LRT" in e.fields[0].value
    assert e.fields[0].value.rstrip().endswith("<https://example.org/1>")
    assert "…”" in e.fields[0].value  # the quote is trimmed, the URL is not
    assert "https://" not in e.fields[1].value


def test_a_citation_shows_its_outlet_author_and_link() -> None:
    c = citation(1, outlet="Anadolu Agency", author="Marieke de Vries", url="https://example.org/a@b")
    (field,) = render.answer_embed(answer("Who?", "She did [1].", [c])).fields
    head = field.value.splitlines()[0]
    assert head == "2024-07-18 · Anadolu Agency · by Marieke de Vries"
    assert field.value.endswith("<https://example.org/a%40b>")
    assert "by " not in render.answer_embed(answer("Who?", "She did [1].", [citation(1)])).fields[0].value


def test_a_resolved_date_is_shown_under_the_answer() -> None:
    from dataclasses import replace

    embed = render.answer_embed(replace(answer(), event_date="Jul 2024"))
    assert embed.description.endswith("**When:** Jul 2024")
    assert "When:" not in render.answer_embed(answer()).description


def test_mention_injection_in_quotes_is_shown_inert() -> None:
    c = citation(1, text="Hello @everyone and <@&123> and <@42>", title="@here news")
    e = render.answer_embed(answer("ping <@1>?", "@everyone [1]", [c]))
    assert "@\u200beveryone" in e.description
    assert not PING.search(e.fields[0].value + e.fields[0].name + e.title)


def test_abstention_is_short_plain_text() -> None:
    text = render.abstention_text(answer(abstained=True))
    assert len(text) < 200 and "do not cover" in text


def test_fit_drops_fields_when_the_total_is_over() -> None:
    e = discord.Embed(title="t" * 256, description="d" * 4096)
    for i in range(25):
        e.add_field(name="n" * 256, value="v" * 1024)
    check_embed(render.fit(e))


def test_sources_pages_are_paginated() -> None:
    rows = [render.SourceRow(f"Title {i} @everyone", f"2024-01-{i % 28 + 1:02d}", i % 2 == 0, "Outlet")
            for i in range(40)]
    pages = render.sources_pages(rows)
    assert len(pages) == 3
    for p in pages:
        check_embed(p)
        assert not PING.search(p.description)
    assert "Page 1 of 3" in pages[0].footer.text
    assert render.sources_pages([])[0].description == "The index has no articles yet."


def event(i: int, text: str = "Something happened.", sources=("a.txt",)) -> dict:
    return {"date": f"2024-07-{i:02d}", "granularity": "day", "label": f"18 July 2024 #{i}", "text": text,
            "citations": [{"source": s, "text": "q", "start": 0, "end": 1} for s in sources]}


def test_timeline_pages_ten_events_each_with_markers_and_legend() -> None:
    events = [event(i, sources=("a.txt", "b.txt") if i % 2 else ("b.txt",)) for i in range(1, 24)]
    pages = render.timeline_pages(events, {"a.txt": "Article A", "b.txt": "Article B"})
    assert len(pages) == 3
    assert len(pages[0].fields) == 10 and len(pages[2].fields) == 3
    assert pages[0].fields[0].value.endswith("[1][2]")
    assert "[1] Article A" in pages[0].footer.text and "[2] Article B" in pages[0].footer.text
    assert "Page 1/3" in pages[0].footer.text


@hsettings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.one_of(texts, mentiony), st.one_of(texts, mentiony)), min_size=1, max_size=25),
       st.lists(st.text(max_size=400), min_size=1, max_size=15))
def test_timeline_pages_within_limits(items, sources) -> None:
    events = [{"date": "2024", "granularity": "year", "label": label, "text": text,
               "citations": [{"source": s} for s in sources]} for label, text in items]
    for page in render.timeline_pages(events, {s: s * 3 for s in sources}):
        check_embed(page)


def test_build_report_lists_skipped_files() -> None:
    from corpus.models import Skipped
    from index.build import BuildReport

    r = BuildReport(3, 30, 10, 20, (Skipped("x.txt", "not UTF-8, skipped"),), 2.0, "flat", "g")
    text = render.build_report_text(r, 2.5)
    assert "3 articles" in text and "30 passages" in text and "10 newly embedded" in text and "20 reused" in text
    assert "x.txt" in text and "not UTF-8" in text and "2.5s" in text


def test_progress_text() -> None:
    assert "50%" in render.progress_text(50, 100, 0.0, 5.0)
    assert "reading" in render.progress_text(0, 0, 0.0, 1.0)
