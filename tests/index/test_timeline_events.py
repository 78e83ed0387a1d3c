"""Timeline events on the shipped articles: mentions merged across sources by meaning (the bundled model, as the
index compares them), ordered, cited verbatim, selected by dates and words, and printed."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
from types import SimpleNamespace

import pytest

from bot.terminal import format_events
from corpus.load import load_articles
from corpus.models import Article
from index.timeline import build_timeline, select_events
from tests.index.test_timeline import ARTICLES, _run_cli, article

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def articles() -> tuple[Article, ...]:
    return load_articles(ARTICLES).articles


@pytest.fixture(scope="module")
def timeline(articles, model_encoder) -> dict:
    return build_timeline(articles, model_encoder.encode)


@pytest.fixture(scope="module")
def events_of(model_encoder):
    """The timeline of some articles, their mentions compared by the bundled model as the index does."""
    return lambda articles: build_timeline(articles, model_encoder.encode)["events"]


def test_no_publication_date_never_means_today(events_of):
    a = article("Parliament voted on Thursday, last July. It concluded today. The treaty dates from 2008.", None)
    today = dt.date.today()
    events = events_of([a])
    assert [e["date"] for e in events] == ["2008"]
    assert all(not (e["start"] <= today.isoformat() <= e["end"]) for e in events)


# -- events ----------------------------------------------------------------------------------------------

EXPECTED = [  # (date, granularity, words in the event's line, the articles that report it)
    ("2008-12", "month", "signed", {"000", "002", "003"}),
    ("2010-08-01", "day", "force", {"000"}),
    ("2011", "year", "Lithuania", {"000", "001", "002"}),
    ("2023-07-07", "day", "aid package", {"000", "001", "002"}),
    ("2024-07", "month", "parliament", {"001", "003", "004"}),
    ("2024-09", "season", "United Nations", {"004"}),
    ("2025-03-06", "day", "withdrew", {"003", "004"}),
]


@pytest.mark.parametrize("date, granularity, words, sources", EXPECTED)
def test_merged_events(timeline, date, granularity, words, sources):
    found = [e for e in timeline["events"] if e["date"] == date and e["granularity"] == granularity]
    assert len(found) == 1, found  # one entry, not one per source
    event = found[0]
    assert words in event["text"]
    assert {c["source"][:3] for c in event["citations"]} == sources


def test_labels(timeline):
    labels = {e["date"]: e["label"] for e in timeline["events"]}
    assert labels["2023-07-07"] == "7 Jul 2023"
    assert labels["2024-07"] == "Jul 2024"
    assert "autumn 2024" in labels["2024-09"]
    assert labels["2025-03-06"] == "6 Mar 2025"


def test_distinct_events_stay_apart(timeline):
    # the vote, the filing and the withdrawal are three events, and so are the 2023 supply and proposal
    dates = [e["date"] for e in timeline["events"]]
    assert len(dates) == len(set((e["date"], e["label"]) for e in timeline["events"]))
    assert {"2024-07", "2024-09", "2025-03-06", "2023-07-07", "2023-08"} <= set(dates)


def test_order_by_interval_first_day_then_last(timeline, events_of):
    keys = [(e["start"], e["end"]) for e in timeline["events"]]
    assert keys == sorted(keys)
    wide = events_of([article("A bridge opened in January 2008. The war began in 2008.", "2025")])
    assert [e["label"] for e in wide] == ["Jan 2008", "2008"]
    coarse = events_of([article("The talks ended in mid-2025. A tunnel opened on 1 January 2025. "
                                     "A port closed in January 2025. The budget passed in early 2025.", "2026")])
    assert [e["label"] for e in coarse] == ["1 Jan 2025", "Jan 2025", "early 2025", "mid-2025"]


def test_event_text_is_a_glance_long_and_cut_at_a_clause_or_a_word(timeline):
    from index.timeline import EVENT_CHARS, trim_text

    for e in timeline["events"]:
        assert len(e["text"]) <= EVENT_CHARS and not e["text"].startswith("…") and not e["text"][0].islower()
    landmines = next(e for e in timeline["events"] if e["date"] == "1997")
    assert landmines["text"].startswith("Lithuania’s government is also contemplating")  # the opening phrase went
    text = ("The parliament voted to leave the convention on Thursday, citing regional security concerns in the "
            "Baltic region and the war")
    assert trim_text(text, 100) == "The parliament voted to leave the convention on Thursday…"
    assert trim_text("word " * 30, 40) == ("word " * 7).strip() + "…"
    assert trim_text("short enough", 40) == "short enough"


def test_citations_are_verbatim(articles, timeline):
    by_id = {a.id: a for a in articles}
    for event in timeline["events"]:
        assert event["citations"]
        for c in event["citations"]:
            assert by_id[c["source"]].text[c["start"]:c["end"]] == c["text"]
        assert set(event) >= {"date", "granularity", "label", "text", "citations"}
        assert "\n" not in event["text"]


def test_timeline_is_json(timeline):
    assert json.loads(json.dumps(timeline)) == timeline


def test_sources_that_disagree_are_kept_and_said(events_of):
    a = article("Lithuania joined the Convention on Cluster Munitions in 2011.", "2024", "a.txt")
    b = article("Lithuania joined the Convention on Cluster Munitions in 2010.", "2024", "b.txt")
    events = events_of([a, b])
    assert len(events) == 1
    assert events[0]["label"] == "2010 or 2011" and "differ" in events[0]["note"]
    assert {c["source"] for c in events[0]["citations"]} == {"a.txt", "b.txt"}


# -- selecting -------------------------------------------------------------------------------------------

def test_filter_by_dates(timeline):
    in_2024 = select_events(timeline, "2024", "2024")
    assert {"2024-07", "2024-09"} <= {e["date"] for e in in_2024}
    assert all(e["start"] <= "2024-12-31" and e["end"] >= "2024-01-01" for e in in_2024)
    assert [e["date"] for e in select_events(timeline, "2025-03-06")] == ["2025-03-06"]
    assert {e["date"] for e in select_events(timeline, None, "2010-08")} == {"1997", "2008-12", "2010-08-01"}
    assert all("terms" not in e for e in in_2024)


def test_filter_by_query(timeline):
    assert [e["date"] for e in select_events(timeline, query="parliament vote")] == ["2024-07"]
    assert [e["date"] for e in select_events(timeline, query="Lithuania joined")] == ["2011"]
    assert [e["date"] for e in select_events(timeline, "2023", "2023", query="US aid package")] == ["2023-07-07"]


def test_text_format(timeline):
    titles = {"000_f639dc0ee243de40.txt": "Ministry wants to leave"}
    lines = format_events(timeline["events"], titles).splitlines()
    events, legend = lines[:len(timeline["events"])], lines[len(timeline["events"]) + 2:]
    assert lines[len(timeline["events"]):len(timeline["events"]) + 2] == ["", "Sources:"]
    line = next(line for line in events if line.startswith("7 Jul 2023"))
    numbers = {entry.split("] ")[1].rsplit(" (", 1)[-1].rstrip(")"): entry.split("]")[0] + "]" for entry in legend}
    assert numbers["000_f639dc0ee243de40.txt"] in line and numbers["002_6a22dc8fdb0ad288.txt"] in line
    assert "[1] " in lines[-len(legend)] and "Ministry wants to leave (000_f639dc0ee243de40.txt)" in "\n".join(legend)
    assert max(len(line) for line in lines) <= 140
    assert format_events([]) == "No dated events match."


def test_service_methods_are_thin(timeline):
    from bot.service import Service

    fake = SimpleNamespace(index=SimpleNamespace(timeline=timeline),
                           ensure_index=lambda **kw: None, load_corpus=lambda: None)
    fake.timeline_sync = functools.partial(Service.timeline_sync, fake)
    assert Service.timeline_sync(fake, "2025-03") == select_events(timeline, "2025-03")
    events = asyncio.run(Service.timeline(fake, None, None, "parliament vote"))
    assert [e["date"] for e in events] == ["2024-07"]


def test_cli_json_on_the_shipped_corpus(tmp_path, articles):
    done = _run_cli(["--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    by_id = {a.id: a for a in articles}
    for date, granularity, words, sources in EXPECTED:
        [event] = [e for e in events if e["date"] == date and e["granularity"] == granularity]
        assert {c["source"][:3] for c in event["citations"]} == sources
    for event in events:
        assert event["granularity"] in {"day", "month", "season", "year", "approximate"}
        for c in event["citations"]:
            assert by_id[c["source"]].text[c["start"]:c["end"]] == c["text"]
    # the built index carries the timeline; a second, filtered run reads it
    assert list(tmp_path.rglob("timeline.json"))
    done = _run_cli(["--from", "2024-07", "--to", "2024-07", "--query", "parliament vote"], tmp_path)
    assert done.returncode == 0, done.stderr
    line, blank, heading, *sources = done.stdout.splitlines()
    assert line.startswith("Jul 2024") and "parliament" in line and line.endswith("[1][2][3]")
    assert sources[2].startswith("[3] ") and sources[2].endswith("(004_79896ee4f2c82973.txt)")
