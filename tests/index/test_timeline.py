"""Timeline dates: expressions found and normalised, scored against a hand-made gold file; bad ranges refused."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.load import load_articles
from corpus.models import Article, ArticleMeta
from index.timeline import TimelineError, extract_mentions, parse_iso, select_events

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "corpus" / "articles"
GOLD = ROOT / "tests" / "fixtures" / "timeline_gold.json"


@pytest.fixture(scope="module")
def articles() -> tuple[Article, ...]:
    return load_articles(ARTICLES).articles


def article(text: str, published: str | None = None, id: str = "t.txt") -> Article:
    return Article(id=id, text=text, meta=ArticleMeta(published=published))


def norm(text: str, published: str | None = "2025-03-06") -> list[tuple[str, str, str]]:
    return [(text[m.start:m.end], m.when.value, m.when.granularity) for m in extract_mentions(article(text, published))]


def one(text: str, published: str | None = "2025-03-06"):
    found = extract_mentions(article(text, published))
    assert len(found) == 1, found
    return found[0].when


# -- normalisation rules ---------------------------------------------------------------------------------

def test_a_year_stays_a_year():
    assert norm("Lithuania joined the Convention in 2011.") == [("2011", "2011", "year")]
    assert norm("It banned them under the 1997 Anti-Personnel Landmines Convention.") == [("1997", "1997", "year")]


def test_days_in_their_usual_spellings():
    for text in ("It entered into force on August 1, 2010.", "It entered into force on 1 August 2010.",
                 "It entered into force on 2010-08-01.", "It entered into force on the 1st of August 2010."):
        w = one(text)
        assert (w.value, w.granularity, w.label) == ("2010-08-01", "day", "1 Aug 2010"), text


def test_month_and_year():
    w = one("It was signed in Dublin in December 2008.")
    assert (w.value, w.granularity, w.label) == ("2008-12", "month", "Dec 2008")


def test_day_without_year_takes_the_publication_year():
    w = one("On 7 July, the US announced an aid package.", "2023")
    assert (w.value, w.granularity) == ("2023-07-07", "day")
    assert one("It withdrew on 6 March.", "2025-03-06").value == "2025-03-06"
    # in the past tense, a later month than the publication's is last year's
    assert one("Talks began on 20 November.", "2025-03-06").value == "2024-11-20"


def test_last_month_name_resolves_against_publication():
    assert (one("Last July, the US supplied them.", "2025-03-06").value,
            one("Last July, the US supplied them.", "2025-03-06").granularity) == ("2024-07", "month")
    assert one("Parliament voted last July.", "2024-07").value == "2023-07"  # in July, last July is a year ago
    assert one("Parliament voted last July.", "2024-11-02").value == "2024-07"
    w = one("Parliament voted last July.", "2024")  # published some time in 2024: July 2023 or July 2024
    assert w.granularity == "approximate" and (w.start, w.end) == (dt.date(2023, 7, 1), dt.date(2024, 7, 31))


def test_weekday_resolves_against_publication_day():
    # 2025-03-06 is a Thursday: the publication weekday means that very day
    assert one("The move, announced on Thursday, drew criticism.").value == "2025-03-06"
    assert one("He told the cabinet on Monday.").value == "2025-03-03"
    assert one("He spoke last Thursday.").value == "2025-02-27"
    assert one("Ministers will meet on Monday.").value == "2025-03-10"


def test_weekday_with_a_coarse_publication_date_is_approximate():
    w = one("Parliament voted on Thursday to exit.", "2024-07")
    assert (w.value, w.granularity, w.label) == ("2024-07", "approximate", "≈ Jul 2024")
    assert w.start <= dt.date(2024, 7, 18) <= w.end
    w = one("He told the cabinet on Wednesday.", "2024")
    assert (w.value, w.granularity, w.label) == ("2024", "approximate", "≈ 2024")


def test_seasons():
    w = one("It filed the documents in early autumn.", "2025-03-06")
    assert (w.value, w.granularity, w.label) == ("2024-09", "season", "early autumn 2024")
    w = one("Parliament approved it last summer.", "2025-03-06")
    assert (w.value, w.granularity, w.label) == ("2024-06", "season", "summer 2024")
    assert one("Parliament approved it last summer.", "2024-07-15").label == "summer 2023"  # summer not over
    assert one("They have reviewed it since the previous summer.", "2025-03").label == "summer 2024"
    w = one("Fuel ran short in winter 2024.")
    assert (w.start, w.end, w.label) == (dt.date(2024, 12, 1), dt.date(2025, 2, 28), "winter 2024–25")


def test_modifiers_make_a_date_approximate_without_narrowing_it():
    w = one("In mid-July 2023 the US supplied cluster munitions.")
    assert (w.value, w.granularity, w.label) == ("2023-07", "approximate", "mid-Jul 2023")
    assert (w.start, w.end) == (dt.date(2023, 7, 1), dt.date(2023, 7, 31))
    w = one("As it became known at the end of August, the US is considering it.", "2023")
    assert (w.value, w.granularity, w.label) == ("2023-08", "approximate", "end of Aug 2023")
    assert one("The minister expressed hope in mid-August.", "2023").label == "mid-Aug 2023"
    w = one("Talks resume in early 2026.")
    assert (w.value, w.granularity, w.label) == ("2026", "approximate", "early 2026")
    assert one("The treaty dates from around 1997.").label == "≈ 1997"


def test_relative_units_and_today():
    assert norm("The idea surfaced last year.", "2024") == [("last year", "2023", "year")]
    assert one("A vote is expected next month.").value == "2025-04"
    w = one("The waiting period concluded today.")
    assert (w.value, w.granularity) == ("2025-03-06", "day")
    w = one("The waiting period concluded today.", "2025-03")
    assert (w.value, w.granularity) == ("2025-03", "approximate")


def test_the_following_year_counts_from_the_date_before_it():
    assert norm("It was signed in 2008 and ratified the following year.") == [
        ("2008", "2008", "year"), ("the following year", "2009", "year")]
    assert norm("The following year, it changed.") == []  # nothing to count from


def test_future_tense_looks_forward():
    assert one("Parliament will vote in June.").value == "2025-06"
    assert one("Parliament voted in June.").value == "2024-06"


@pytest.mark.parametrize("text", [
    "The Baltic nation plans to complete its withdrawal within six months of the notification.",
    "More than $95 million has already been allocated for demining.",
    "The US announced an $800 million military aid package.",
    "The convention comprises 112 state parties and 12 signatories.",
    "It has a population of approximately 2.8 million.",
    "It has taken nearly six months for the decision to become effective.",
    "This initiated a six-month waiting period.",
    "Currently, we cannot procure these munitions.",
    "We’ve done quite a bit of work in this field.",
    "It plans to make a decision within the next few months.",
    "Some 2000 troops took part.",
    "May I add that prices fall in the past year?",
    "The soldiers March forward.",
    "Theresa May said so in the 1990s.",
])
def test_non_dates(text):
    assert norm(text) == []


def test_no_publication_date_never_means_today():
    a = article("Parliament voted on Thursday, last July. It concluded today. The treaty dates from 2008.", None)
    found = extract_mentions(a)
    assert [(a.text[m.start:m.end], m.when.value) for m in found] == [("2008", "2008")]  # relative ones stay unresolved


def test_parse_iso():
    assert (parse_iso("2024").start, parse_iso("2024").end) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert parse_iso("2024-02").end == dt.date(2024, 2, 29)


@pytest.mark.parametrize("date_from, date_to, query", [
    ("2024-13", None, None), ("July 2024", None, None), (None, "2024-02-30", None), ("2025", "2024", None),
    (None, None, "the of"),
])
def test_bad_selection_is_refused(date_from, date_to, query):
    with pytest.raises(TimelineError) as refused:
        select_events(None, date_from, date_to, query)
    assert refused.value.exit_status == 2  # the command line's usage error


# -- the gold file ---------------------------------------------------------------------------------------

def score(articles, gold) -> tuple[int, int, int]:
    """(correct gold mentions, extracted mentions, extracted mentions that are right)."""
    by_id = {a.id: a for a in articles}
    spans = []
    for g in gold["mentions"]:
        a = by_id[g["article"]]
        at = a.text.index(g["text"], a.body_start)
        spans.append((g, at, at + len(g["text"])))
    extracted = [m for a in articles for m in extract_mentions(a)]
    right = set()
    for m in extracted:
        for g, s, e in spans:
            if g["article"] == m.article_id and m.start < e and s < m.end:
                if (m.when.value, m.when.granularity) == (g["value"], g["granularity"]) \
                        and g.get("label", m.when.label) == m.when.label:
                    right.add((id(m), id(g)))
    correct = len({gid for _, gid in right})
    good = len({mid for mid, _ in right})
    return correct, len(extracted), good


def test_gold_score(articles):
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    correct, extracted, good = score(articles, gold)
    total = len(gold["mentions"])
    precision = good / extracted if extracted else 0.0
    print(f"\ntimeline gold: {correct}/{total} date mentions normalised correctly, "
          f"precision {precision:.2f} ({good}/{extracted} extracted)")
    assert correct >= total - 2
    assert precision >= 0.95


def test_gold_non_dates_are_not_extracted(articles):
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    by_id = {a.id: a for a in articles}
    mentions = {a.id: extract_mentions(a) for a in articles}
    for g in gold["non_dates"]:
        a = by_id[g["article"]]
        s = a.text.index(g["text"], a.body_start)
        e = s + len(g["text"])
        assert not [a.text[m.start:m.end] for m in mentions[a.id] if m.start < e and s < m.end], g


# -- the command line ------------------------------------------------------------------------------------

def _run_cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CITEBOT_DATA__DIR=str(data_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "bot", "timeline", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


def test_cli_refuses_a_bad_date(tmp_path):
    done = _run_cli(["--from", "2024-7"], tmp_path)
    assert done.returncode == 2 and "YYYY-MM" in done.stderr  # argparse's usage error
    done = _run_cli(["--from", "2025", "--to", "2024"], tmp_path)
    assert done.returncode == 2 and done.stderr == "error: --from 2025 is after --to 2024\n"
    assert not any(tmp_path.iterdir())  # refused before building anything


