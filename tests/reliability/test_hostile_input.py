"""Hostile input on every text path, property-based (hypothesis): questions of any Unicode through the
service and the renderer, article files of any bytes and sidecars with bad dates through corpus.load, and
mentions or Markdown in questions and in articles. Nothing crashes; a refused input gets a clear message;
nothing pings anyone; every message fits Discord's limits."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from bot import render
from bot.cogs.ask import strip_mentions_of, thread_name
from bot.conversation import follow_up_query
from bot.service import QuestionError, Service, clean_question
from corpus.chunk import chunk_article
from corpus.load import load_articles, read_meta
from corpus.errors import CorpusError
from index.answer import Answer, Citation
from index.hashing_encoder import HashingEncoder
from index.timeline import build_timeline
from tests.conftest import SHIPPED, make_settings
from tests.helpers import check_embed, check_message
from tests.reliability.common import FIGURES

COUNTS: dict[str, int] = {}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Characters that break naive text handling: controls, bidi marks and overrides, zero-width and joiners,
# surrogates (lone ones arrive in JSON), private use, line/paragraph separators, combining marks, emoji.
NASTY = "\x00\x07\x1b\x7f\u0085\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\u2028\u2029" \
        "\ud800\udfff\ue000\u0301\u20e3👍🏽\U0001f600\U000e0001"
MARKUP = ["@everyone", "@here", "<@123456789012345678>", "<@!123>", "<@&987654321>", "<#42>", "**", "__", "~~",
          "||", "```", "`", "> ", "# ", "[x](https://evil.example)", "<https://x>", "\\", "\n", "@", "&"]

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)
hostile = st.lists(st.one_of(any_text, st.sampled_from(MARKUP), st.text(NASTY, max_size=20),
                             st.sampled_from(["When did parliament vote?", "cluster munitions", "Lithuania", "?!.,;"])),
                   max_size=12).map("".join)


def count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1
    FIGURES["hypothesis examples"].update(COUNTS, total=sum(v for k, v in COUNTS.items() if k != "total"))


@pytest.fixture(scope="module")
def service():
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    corpus = tmp / "articles"
    shutil.copytree(SHIPPED, corpus)
    (corpus / "999_hostile.txt").write_text(
        "Pings @everyone and @here about <@&987654321> and <@!123456789012345678>\n\n"
        "The convention was discussed by @everyone at ```code``` length with **bold** claims and ||spoilers||. "
        "Parliament voted on cluster munitions, said <@&987654321> and [a link](https://evil.example). "
        + "Very long words " + "x" * 3000 + " end.\n", encoding="utf-8")
    (corpus / "999_hostile.meta.toml").write_text(
        'title = "@everyone <@&1> ```" \noutlet = "@here **Outlet**"\nurl = "https://evil.example/@everyone"\n',
        encoding="utf-8")
    # never declining: this test is about how quotes of the hostile article render, not about declining
    s = Service(make_settings(tmp, corpus, answer={"decline_below": 0}), encoder=HashingEncoder())
    s.ensure_index()
    yield s
    shutil.rmtree(tmp, ignore_errors=True)


def check_answer_renders(answer: Answer, asked: str | None = None) -> None:
    if answer.abstained:
        check_message({"content": render.abstention_text(answer)})
    embed = render.answer_embed(answer, asked)
    check_embed(embed)
    check_message({"embed": embed})
    assert all(f.value.strip() and f.name.strip() for f in embed.fields)


@SETTINGS
@given(hostile)
@example("\u202e?snoitinum retsulc nehW\u202c")
@example("```\n@everyone\n```")
@example("?!?!...,,,;;;")
@example("\u200b\u200c\u200d\ufeff")
@example("x" * 100_000)
@example("<@&987654321> when did parliament vote?")
def test_any_question_is_answered_or_refused_with_a_message(service, question) -> None:
    count("questions through Service.ask_sync")
    try:
        answer = service.ask_sync(question)
    except QuestionError as exc:
        msg = str(exc)
        assert msg and len(msg) < 300 and msg.endswith((".", ")"))
        check_message({"content": render.message_text(msg)})
        return
    assert isinstance(answer, Answer) and answer.answer
    assert 0 < len(answer.question) <= service.settings.answer.max_question_chars
    for c in answer.citations:  # quotes stay verbatim slices of the article
        assert c.text == (service.settings.corpus_dir / c.source).read_text(encoding="utf-8-sig")[c.start:c.end]
    check_answer_renders(answer, asked=question)


@SETTINGS
@given(hostile, st.one_of(st.none(), hostile))
def test_message_questions_and_follow_ups_never_crash(question, previous) -> None:
    count("mention texts through strip/follow-up/clean")
    q = strip_mentions_of(question, 999, [1])
    assert "<@999>" not in q and "<@!999>" not in q
    query = follow_up_query(previous, q, 1000)
    try:
        cleaned = clean_question(query, 1000)
    except QuestionError:
        return
    assert cleaned.strip() == cleaned and len(cleaned) <= 1000
    name = thread_name(q)
    assert 1 <= len(name) <= 100


cite = st.builds(Citation, n=st.integers(1, 10), source=hostile, title=st.one_of(st.none(), hostile),
                 date=st.one_of(st.none(), hostile), text=hostile, start=st.integers(0, 10), end=st.integers(0, 10),
                 score=st.floats(allow_nan=True), date_inferred=st.booleans(), outlet=st.one_of(st.none(), hostile),
                 url=st.one_of(st.none(), hostile))


@SETTINGS
@given(hostile, hostile, st.lists(cite, max_size=30), st.booleans(), st.one_of(st.none(), hostile))
def test_any_answer_renders_within_limits_and_pings_nobody(question, text, citations, abstained, asked) -> None:
    count("answers through bot.render")
    check_answer_renders(Answer(question or "q", text or "a", abstained, tuple(citations)), asked)


@SETTINGS
@given(st.lists(st.fixed_dictionaries({"label": hostile, "text": hostile, "date": hostile,
                                       "citations": st.lists(st.fixed_dictionaries({"source": hostile}),
                                                             max_size=5)}), max_size=25),
       st.dictionaries(hostile, hostile, max_size=5), hostile, st.dictionaries(hostile, hostile, max_size=30))
def test_timelines_status_and_messages_render_within_limits(events, titles, heading, stats) -> None:
    count("timelines, status cards and messages through bot.render")
    for page in render.timeline_pages(events, titles, heading):
        check_embed(page)
        check_message({"embed": page})
    card = render.status_embed(stats)
    check_embed(card)
    check_message({"embed": card})
    check_message({"content": render.message_text(heading)})


@SETTINGS
@given(st.dictionaries(st.sampled_from(["a.txt", "b.md", "c/d.txt", "e.TXT", "f.bin", "g.txt"]),
                       st.one_of(st.binary(max_size=3000), hostile.map(lambda s: s.encode("utf-8", "surrogatepass")),
                                 st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb\xbfTitle\r\n\r\nBody.\r\n",
                                                  b"\x00" * 10, b"\xff\xfe"])), max_size=6))
def test_article_files_of_any_bytes_load_or_are_skipped_with_a_reason(files) -> None:
    count("article folders of arbitrary bytes through corpus.load")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        report = load_articles(folder, max_bytes=2000)
        seen = {a.id for a in report.articles} | {s.path for s in report.skipped}
        assert seen == set(files), (seen, set(files))
        assert all(s.reason for s in report.skipped)
        for a in report.articles:
            assert a.text.strip()
            for c in chunk_article(a, 60, 1):
                assert a.text[c.start:c.end] == c.text


bad_dates = st.one_of(
    hostile, st.sampled_from(["2024-13", "2024-02-30", "2024-00-10", "0000", "99999", "2024/07/18", "18.07.2024",
                              "2024-7-1", " 2024 ", "2024-07-18T10:00", "２０２４-０７", "٢٠٢٤", "2024\n",
                              "", "yesterday", "2024-07-18\n2025"]))
sidecar_values = st.one_of(bad_dates.map(lambda d: f'published = "{d.replace(chr(92), "")}"'.replace("\n", "\\n")),
                           st.sampled_from(["published = 2024-07-18", "published = 2024", "published = true",
                                            "published = [1]", "title = 3", "nonsense = 'x'", "= broken",
                                            'published_inferred = "yes"']),
                           hostile)


@SETTINGS
@given(sidecar_values)
@example('published = "0000"')  # year 0 was accepted and crashed the timeline, and with it every reindex
@example('published = "\u0662\u0660\u0662\u0664"')  # Arabic-Indic digits were accepted as a year
@example('published = "2024-02-30"')
def test_sidecars_with_bad_dates_are_reported_and_the_article_still_loads(sidecar) -> None:
    count("metadata sidecars through corpus.load")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "a.txt").write_text("A title\n\nParliament voted in July 2024.\n", encoding="utf-8")
        (folder / "a.meta.toml").write_text(sidecar, encoding="utf-8", errors="surrogatepass")
        try:
            meta = read_meta(folder / "a.meta.toml")
        except CorpusError as exc:
            assert "a.meta.toml" in str(exc)
            meta = None
        report = load_articles(folder)
        assert [a.id for a in report.articles] == ["a.txt"]
        if meta is None:
            assert len(report.warnings) == 1 and "a.meta.toml" in report.warnings[0].reason
        elif meta.published is not None:  # accepted dates are real dates in plain ASCII digits
            assert all(p.isascii() and p.isdigit() for p in meta.published.split("-")), meta.published
        build_timeline(report.articles, HashingEncoder().encode)  # dates in the metadata never crash the timeline


def test_mentions_and_markdown_in_articles_never_ping(service) -> None:
    """Questions that retrieve the hostile article: its title, outlet, URL and quotes are shown inert."""
    hits = 0
    for q in ["What did the convention discussion with bold claims say?", "Who pinged about cluster munitions?",
              "@everyone what was discussed at code length?", "spoilers and a link about the convention"]:
        answer = service.ask_sync(q)
        check_answer_renders(answer, asked=q)
        hits += any(c.source == "999_hostile.txt" for c in answer.citations)
    assert hits, "the hostile article was never cited, so this test proved nothing"
    pages = render.sources_pages(render.source_rows(service.index.articles))
    for p in pages:
        check_embed(p)
        check_message({"embed": p})
