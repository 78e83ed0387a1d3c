"""Writing articles into the corpus folder all or nothing, crash repair, recognising articles, dropped HTML."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.load import load_articles, read_meta
from corpus.errors import CorpusError
from corpus.models import ArticleMeta, sha256_text
from corpus.store import STAGING, ArticleWrite, Catalogue, Stored, Transaction, clean_url, load_corpus, meta_toml, \
    recover, url_key
from tests.newsserver import FIXTURES

TEXT = "Harbour dredged\n\nThe harbour channel was dredged to 16 metres this week, the port said.\n"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and STAGING not in p.parts}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "articles"
    f.mkdir()
    (f / "old.txt").write_text("An old article about the port.\n", encoding="utf-8")
    (f / "old.meta.toml").write_text('title = "Old"\n', encoding="utf-8")
    return f


def test_place_then_commit_stores_text_and_sidecar(folder: Path) -> None:
    meta = ArticleMeta(title="Harbour dredged", url="https://news.example/dredged", language="en",
                       extracted_sha256=sha256_text(TEXT))
    with Transaction(folder) as tx:
        tx.stage([ArticleWrite("web/news.example/dredged.txt", TEXT, meta, "a comment")])
        tx.place()
        tx.commit()
    assert (folder / "web/news.example/dredged.txt").read_text(encoding="utf-8") == TEXT
    sidecar = (folder / "web/news.example/dredged.meta.toml").read_text(encoding="utf-8")
    assert sidecar.startswith("# a comment\n") and read_meta(folder / "web/news.example/dredged.meta.toml") == meta
    assert list((folder / STAGING).iterdir()) == [folder / STAGING / ".lock"]
    assert [a.id for a in load_articles(folder).articles] == ["old.txt", "web/news.example/dredged.txt"]


def test_a_failure_after_placing_puts_the_folder_back_as_it_was(folder: Path) -> None:
    before = files(folder)
    with pytest.raises(RuntimeError):
        with Transaction(folder) as tx:
            tx.stage([ArticleWrite("new.txt", TEXT, ArticleMeta(title="New")),
                      ArticleWrite("old.txt", "An updated old article about the port.\n", ArticleMeta(title="Old 2"))])
            tx.place()
            assert (folder / "new.txt").exists() and "updated" in (folder / "old.txt").read_text()
            raise RuntimeError("indexing failed")
    assert files(folder) == before


def test_a_crash_while_placing_is_finished_on_recovery(folder: Path) -> None:
    tx = Transaction(folder).__enter__()
    tx.stage([ArticleWrite("a.txt", TEXT, ArticleMeta(title="A")), ArticleWrite("b.txt", TEXT + "More.\n",
                                                                            ArticleMeta(title="B"))])
    tx._journal("placing")
    (folder / "a.txt").write_text(TEXT)  # the first file made it before the crash
    (tx.dir / "0.txt").unlink()
    for fh in tx._locks:  # the process died: its locks go with it
        fh.close()
    assert recover(folder) == ["finished an add interrupted by a crash (2 article(s))"]
    assert (folder / "b.txt").read_text() == TEXT + "More.\n"
    assert read_meta(folder / "b.meta.toml").title == "B"
    assert not any(p.is_dir() for p in (folder / STAGING).iterdir())


def test_a_crash_before_placing_leaves_the_folder_untouched(folder: Path) -> None:
    before = files(folder)
    tx = Transaction(folder).__enter__()
    tx.stage([ArticleWrite("a.txt", TEXT, ArticleMeta(title="A"))])
    for fh in tx._locks:
        fh.close()
    assert recover(folder) == []
    assert files(folder) == before and not any(p.is_dir() for p in (folder / STAGING).iterdir())


def test_recovery_leaves_a_live_transaction_alone(folder: Path) -> None:
    with Transaction(folder) as tx:
        tx.stage([ArticleWrite("a.txt", TEXT, ArticleMeta())])
        tx.place()
        assert recover(folder) == []
        assert tx.dir.is_dir()
        tx.commit()


def test_a_second_writer_waits_then_gives_up_with_a_clear_message(folder: Path) -> None:
    with Transaction(folder):
        with pytest.raises(CorpusError, match="another add is writing"):
            Transaction(folder, lock_wait=0.2).__enter__()


def test_url_key_ignores_what_does_not_name_the_page() -> None:
    assert url_key("HTTPS://News.Example:443/a/b/?utm_source=rss&id=3#top") == url_key("http://news.example/a/b?id=3")
    assert url_key("https://news.example/a?x=1&y=2") == url_key("https://news.example/a?y=2&x=1")
    assert url_key("https://news.example/a") != url_key("https://news.example/b")
    assert url_key("https://news.example:8443/a") != url_key("https://news.example/a")


def test_clean_url_keeps_what_names_the_page() -> None:
    assert clean_url("https://News.example/a/b/?utm_source=rss&id=3&fbclid=x#top") == "https://News.example/a/b/?id=3"
    assert clean_url("http://news.example/a") == "http://news.example/a"


def test_catalogue_finds_by_url_and_text_and_names_new_files(folder: Path) -> None:
    cat = Catalogue.scan(folder, 2_000_000)
    assert cat.find_text("An old article about the port.\n").rel == "old.txt"
    meta = ArticleMeta(title="Harbour dredged!", url="https://www.news.example/2025/05/dredged.html?utm_medium=x",
                       canonical_url="https://news.example/dredged")
    rel = cat.new_name(meta)
    assert rel == "web/news.example/dredged.txt"
    cat.note(Stored(rel, meta, sha256_text(TEXT)))
    assert cat.find_url("https://news.example/dredged/").rel == rel
    assert cat.find_url("http://www.news.example/2025/05/dredged.html").rel == rel
    assert cat.new_name(meta) == "web/news.example/dredged-2.txt"
    assert cat.new_name(ArticleMeta(title="Mayor: 'No more cuts'")) == "web/local/mayor-no-more-cuts.txt"
    assert cat.new_name(ArticleMeta(url="https://news.example/p/12345")) == "web/news.example/article.txt"


def test_sidecar_text_round_trips_through_the_loader(tmp_path: Path) -> None:
    meta = ArticleMeta(title='He said "no" \\ twice\x7f\tagain', published="2025-05-14", author="Ieva Petraitė",
                       url="https://news.example/x", canonical_url="https://news.example/y", language="en-GB",
                       fetched="2025-05-14T10:00:00Z", source_sha256="a" * 64, extracted_sha256="b" * 64)
    (tmp_path / "x.meta.toml").write_text(meta_toml(meta), encoding="utf-8")
    assert read_meta(tmp_path / "x.meta.toml") == meta
    assert "published_inferred" not in tomllib.loads(meta_toml(meta))


# -- HTML files dropped into the folder -------------------------------------------------------------------

def test_dropped_html_is_extracted_beside_it_and_cited_from_the_txt(folder: Path) -> None:
    shutil.copy(FIXTURES / "wind.html", folder / "wind.html")
    report = load_corpus(folder, 2_000_000)
    ids = [a.id for a in report.articles]
    assert ids == ["old.txt", "wind.txt"] and report.skipped == ()
    article = report.articles[1]
    assert article.text == (folder / "wind.txt").read_text(encoding="utf-8")
    assert article.text.startswith("Kelmar Bank offshore wind tender won by Nordvind consortium\n\n")
    assert article.meta.outlet == "Seaboard Energy Review" and article.meta.published == "2025-06-03"
    assert article.meta.source_sha256 and article.meta.extracted_sha256 == article.sha256


def test_unchanged_html_is_not_extracted_again_and_a_changed_one_is(folder: Path) -> None:
    shutil.copy(FIXTURES / "ferry.html", folder / "ferry.html")
    load_corpus(folder, 2_000_000)
    stamp = (folder / "ferry.meta.toml").read_bytes()
    load_corpus(folder, 2_000_000)
    assert (folder / "ferry.meta.toml").read_bytes() == stamp  # not rewritten (the fetched time would differ)
    shutil.copy(FIXTURES / "ferry_v2.html", folder / "ferry.html")
    report = load_corpus(folder, 2_000_000)
    assert "25 percent higher" in (folder / "ferry.txt").read_text(encoding="utf-8")
    assert [a.id for a in report.articles] == ["ferry.txt", "old.txt"]


def test_a_hand_edited_text_is_kept_when_its_html_changes(folder: Path) -> None:
    shutil.copy(FIXTURES / "ferry.html", folder / "ferry.html")
    load_corpus(folder, 2_000_000)
    edited = (folder / "ferry.txt").read_text(encoding="utf-8").replace("Baltic Link", "BalticLink")
    (folder / "ferry.txt").write_text(edited, encoding="utf-8")
    shutil.copy(FIXTURES / "ferry_v2.html", folder / "ferry.html")
    report = load_corpus(folder, 2_000_000)
    assert (folder / "ferry.txt").read_text(encoding="utf-8") == edited
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("ferry.html", "changed, but ferry.txt was edited by hand and is kept; delete ferry.txt to extract the "
                       "page again")]


def test_dropped_html_that_is_no_article_or_clashes_is_reported_not_stored(folder: Path) -> None:
    shutil.copy(FIXTURES / "cookiewall.html", folder / "wall.html")
    shutil.copy(FIXTURES / "rail.html", folder / "old.html")  # old.txt exists and is not from it
    before = files(folder)
    report = load_corpus(folder, 2_000_000)
    reasons = dict((s.path, s.reason) for s in report.skipped)
    assert "cookie or consent notice" in reasons["wall.html"]
    assert reasons["old.html"] == "old.txt already exists and was not extracted from this file; rename one of them"
    assert files(folder) == before


def test_load_corpus_finishes_an_interrupted_add_first(folder: Path) -> None:
    tx = Transaction(folder).__enter__()
    tx.stage([ArticleWrite("late.txt", TEXT, ArticleMeta(title="Late"))])
    tx._journal("placing")
    for fh in tx._locks:
        fh.close()
    report = load_corpus(folder, 2_000_000)
    assert "late.txt" in [a.id for a in report.articles]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(lambda t: f"<html><body><p>{t}</p>".encode())))
def test_any_bytes_dropped_as_html_are_extracted_or_reported_never_fatal(tmp_path_factory, raw: bytes) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "page.html").write_bytes(raw)
    report = load_corpus(folder, 2_000_000)
    stored = (folder / "page.txt").exists()
    assert stored == bool(report.articles) and stored != bool(report.skipped)
    if stored:
        assert report.articles[0].text == (folder / "page.txt").read_text(encoding="utf-8")
