"""Header lines as news text really has them: headline, byline, date or dateline, in any order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.header import parse_byline, parse_date_line, parse_dateline, read_header
from corpus.load import load_articles

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "header_dates.jsonl"
CASES = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
BODY = "VILNIUS (Reuters) – Lithuania officially withdrew from the convention on Thursday.\nMore text follows.\n"


@pytest.mark.parametrize("case", CASES, ids=[c["line"] for c in CASES])
def test_date_lines_are_read_and_ambiguous_or_relative_ones_are_not_guessed(case):
    assert parse_date_line(case["line"]) == case["date"]


@pytest.mark.parametrize("head", [
    "Lithuania leaves the cluster munitions convention\nBy Marieke de Vries\nPublished 6 March 2025\n",
    "Lithuania leaves the cluster munitions convention\nMarch 6, 2025 10:42 CET\nBy Marieke de Vries\n",
    "6 March 2025\nLithuania leaves the cluster munitions convention\nBy Marieke de Vries\n",
    "By Marieke de Vries\nThu 6 Mar 2025 10.42 GMT\nLithuania leaves the cluster munitions convention\n",
    "Lithuania leaves the cluster munitions convention\n\nBy Marieke de Vries\n\n06.03.2025 10:42\n\n",
])
def test_headline_byline_and_date_in_any_order(head):
    h = read_header(head + BODY)
    assert h.title == "Lithuania leaves the cluster munitions convention"
    assert h.author == "Marieke de Vries"
    assert h.published == "2025-03-06"
    assert (head + BODY)[h.body_start:].startswith("VILNIUS (Reuters)")
    assert h.outlet == "Reuters"  # from the dateline, which stays part of the prose


def test_a_leading_date_line_is_not_quoted_but_a_headline_is():
    text = "Published 6 March 2025\nLithuania leaves the convention\n" + BODY
    h = read_header(text)
    assert text[h.quote_start:].startswith("Lithuania leaves the convention")
    text = "Lithuania leaves the convention\nPublished 6 March 2025\n" + BODY
    assert read_header(text).quote_start == 0


def test_the_old_date_prefix_still_works_with_prose_on_the_same_line():
    text = " date 2025-03-06 Lithuania officially withdrew from the convention.\n"
    h = read_header(text)
    assert h.published == "2025-03-06" and text[h.body_start:].startswith("Lithuania officially")
    assert h.quote_start == h.body_start and h.title is None


def test_published_wins_over_updated_and_updated_is_used_alone():
    assert read_header("Updated 7 March 2025\nPublished 6 March 2025\n" + BODY).published == "2025-03-06"
    assert read_header("Last updated: 7 March 2025\n" + BODY).published == "2025-03-07"


def test_prose_ends_the_header_and_a_date_in_prose_is_not_the_publication_date():
    text = "Lithuania leaves the convention\nThe parliament voted on 18 July 2024 to leave.\n6 March 2025\n"
    h = read_header(text)
    assert h.title == "Lithuania leaves the convention" and h.published is None
    assert text[h.body_start:].startswith("The parliament voted")


@pytest.mark.parametrize("line, author, outlet", [
    ("By Marieke de Vries", "Marieke de Vries", None),
    ("By Ludwig van der Berg", "Ludwig van der Berg", None),
    ("By Leila Nezirevic", "Leila Nezirevic", None),
    ("by Seán O’Brien", "Seán O’Brien", None),
    ("By Ana dos Santos and Jan de Boer", "Ana dos Santos and Jan de Boer", None),
    ("By Leila Nezirevic | Anadolu Agency", "Leila Nezirevic", "Anadolu Agency"),
    ("By Andrius Sytas, Reuters", "Andrius Sytas", "Reuters"),
    ("Reporting by Andrius Sytas; editing by Jan Smit", None, None),
    ("By the way, this is not a byline", None, None),
    ("By 2025 the convention had 111 parties", None, None),
])
def test_bylines_with_particles_several_names_and_an_outlet(line, author, outlet):
    found = parse_byline(line)
    assert (found[0] if found else None, found[1] if found else None) == (author, outlet)


def test_datelines_give_the_agency_and_a_date_only_with_a_year():
    assert parse_dateline("LONDON (AA) – Lithuania’s parliament voted") == ("AA", None)
    assert parse_dateline("VILNIUS, March 6, 2025 (Reuters) - Lithuania") == ("Reuters", "2025-03-06")
    assert parse_dateline("VILNIUS, March 6 (Reuters) - Lithuania") == ("Reuters", None)
    assert parse_dateline("KYIV, Ukraine (AP) — The war") == ("AP", None)
    assert parse_dateline("Lithuania (a NATO member) – voted") == (None, None)


def test_loading_reads_the_header_and_the_sidecar_wins(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Lithuania leaves the convention\nBy Marieke de Vries\nPublished 6 March 2025\n"
                                    + BODY, encoding="utf-8")
    (tmp_path / "b.txt").write_text("Another headline\n" + BODY, encoding="utf-8")
    (tmp_path / "b.meta.toml").write_text('outlet = "Reuters News Agency"\npublished = "2025-03"\n', encoding="utf-8")
    a, b = load_articles(tmp_path).articles
    assert (a.meta.title, a.meta.author, a.meta.published, a.meta.outlet) == (
        "Lithuania leaves the convention", "Marieke de Vries", "2025-03-06", "Reuters")
    assert (b.meta.title, b.meta.outlet, b.meta.published) == ("Another headline", "Reuters News Agency", "2025-03")
