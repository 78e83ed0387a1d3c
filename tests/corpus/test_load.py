from pathlib import Path

from corpus.load import load_articles, read_meta
from corpus.errors import CorpusError

import pytest

from tests.conftest import SHIPPED


def test_shipped_articles_load_with_their_metadata():
    report = load_articles(SHIPPED)
    assert [a.id for a in report.articles] == [
        "000_f639dc0ee243de40.txt", "001_48df72bc98de76fa.txt", "002_6a22dc8fdb0ad288.txt",
        "003_0243afef6599c5fc.txt", "004_79896ee4f2c82973.txt"]
    assert report.skipped == () and report.warnings == ()
    meta = {a.id[:3]: a.meta for a in report.articles}
    assert meta["004"].published == "2025-03-06" and not meta["004"].published_inferred
    assert meta["001"].author == "Leila Nezirevic" and meta["001"].outlet == "Anadolu Agency"
    assert meta["003"].published == "2025-03" and meta["003"].published_inferred
    assert meta["002"].title.startswith("Lithuanian Defence Ministry Proposes")
    assert all(m.title for m in meta.values())


def test_text_keeps_diacritics_and_headers_are_skipped_for_the_body():
    articles = {a.id[:3]: a for a in load_articles(SHIPPED).articles}
    assert "Šakalienė" in articles["004"].text and "Žinių radijas" in articles["004"].text
    assert articles["004"].text[articles["004"].body_start:].startswith("Lithuania officially withdrew")
    assert articles["001"].text[articles["001"].body_start:].startswith("LONDON (AA)")
    # passages start at the byline (quotable: "who wrote it?"), but after a dateline
    assert articles["001"].text[articles["001"].quote_start:].startswith("By Leila Nezirevic")
    assert articles["004"].quote_start == articles["004"].body_start


def test_bom_and_crlf_are_handled_and_offsets_keep_crlf(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes("\ufeffHeadline here\r\nNausėda spoke.\r\n".encode("utf-8"))
    (article,) = load_articles(tmp_path).articles
    assert article.text == "Headline here\r\nNausėda spoke.\r\n"
    assert article.meta.title == "Headline here"


def test_bad_files_are_skipped_with_reasons_and_good_ones_kept(tmp_path: Path):
    (tmp_path / "good.txt").write_text("A real article about things. It has sentences.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Nausėda".encode("cp1257"))
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    (tmp_path / "huge.txt").write_text("word " * 100, encoding="utf-8")
    (tmp_path / "copy.txt").write_text("A real article about things. It has sentences.", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    report = load_articles(tmp_path, max_bytes=300)
    assert [a.id for a in report.articles] == ["copy.txt"]  # sorted; the later identical file is the duplicate
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["empty.txt"] == "empty"
    assert reasons["latin1.txt"].startswith("not UTF-8")
    assert reasons["binary.txt"].startswith("binary file")
    assert "limit" in reasons["huge.txt"]
    assert reasons["good.txt"] == "same text as copy.txt, indexed once"
    assert "not an article file" in reasons["photo.jpg"]


def test_a_bad_sidecar_is_reported_and_the_article_still_loads(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Some article text.", encoding="utf-8")
    (tmp_path / "a.meta.toml").write_text('published = "last week"\n', encoding="utf-8")
    report = load_articles(tmp_path)
    assert len(report.articles) == 1
    assert "published must be YYYY" in report.warnings[0].reason


def test_sidecar_rejects_unknown_fields_and_impossible_dates(tmp_path: Path):
    p = tmp_path / "x.meta.toml"
    p.write_text('titel = "typo"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="unknown field"):
        read_meta(p)
    p.write_text('published = "2025-02-30"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="published"):
        read_meta(p)


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_articles(tmp_path / "nope")
