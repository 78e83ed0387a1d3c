"""Adding articles from the local news site through the real service (hashing encoder): what is stored,
what is skipped and why, updates, answers citing the added article, and all-or-nothing behaviour."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.ingest import Ingestor, Source
from bot.service import Service
from corpus.load import read_meta
from corpus.models import sha256_text
from corpus.store import STAGING
from index.hashing_encoder import HashingEncoder
from tests.conftest import make_settings
from tests.newsserver import FIXTURES

BERTH = "web/127.0.0.1/aldmere-deep-water-berth.txt"


def net(**kw) -> dict:
    return {"allow_private_addresses": True, "backoff_seconds": 0.01} | kw


@pytest.fixture
def service(tmp_path: Path, corpus_dir: Path) -> Service:
    svc = Service(make_settings(tmp_path, corpus_dir, fetch=net()), encoder=HashingEncoder())
    svc.ensure_index()
    return svc


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and STAGING not in p.parts}


async def test_add_stores_text_and_sidecar_and_indexes_it(service: Service, site) -> None:
    report = await Ingestor(service).add([site.url("/news/harbour.html")])
    (o,) = report.outcomes
    assert o.status == "added" and o.path == BERTH and o.missing == () and o.words > 200
    folder = service.settings.corpus_dir
    text = (folder / BERTH).read_text(encoding="utf-8")
    assert text.startswith("Aldmere council approves deep-water berth as port traffic grows\n\nThe Aldmere city")
    assert "portwatcher77" not in text and "Related articles" not in text and "cookies" not in text
    meta = read_meta(folder / "web/127.0.0.1/aldmere-deep-water-berth.meta.toml")
    assert (meta.title, meta.author, meta.published, meta.outlet, meta.language) == (
        "Aldmere council approves deep-water berth as port traffic grows", "Ieva Petraitė", "2025-05-14",
        "Baltic Coast Herald", "en")
    assert meta.url == site.url("/news/harbour.html")
    assert meta.canonical_url == site.url("/news/2025/05/14/aldmere-deep-water-berth")
    assert meta.extracted_sha256 == sha256_text(text) and meta.fetched.endswith("Z")
    assert report.build is not None and report.build.appended  # only the new article was embedded
    assert BERTH in service.index.articles and service.index.articles[BERTH].meta.outlet == "Baltic Coast Herald"


async def test_a_question_about_the_added_article_cites_it_verbatim(service: Service, site) -> None:
    await Ingestor(service).add([site.url("/news/harbour.html")])
    answer = await service.ask("How much will the deep-water berth at Port Aldmere cost?")
    assert not answer.abstained
    cited = [c for c in answer.citations if c.source == BERTH]
    assert cited, [c.source for c in answer.citations]
    article = (service.settings.corpus_dir / BERTH).read_text(encoding="utf-8")
    for c in cited:
        assert article[c.start:c.end] == c.text
    assert cited[0].title == "Aldmere council approves deep-water berth as port traffic grows"


async def test_skips_and_failures_say_why_and_store_nothing(service: Service, site) -> None:
    folder = service.settings.corpus_dir
    before = snapshot(folder)
    generation = service.index.path
    paths = ["/news/cookiewall.html", "/loop/a", "/huge.html", "/report.pdf", "/private/memo.html", "/gone.html"]
    report = await Ingestor(service).add([site.url(p) for p in paths] + ["ftp://example.org/x", "notes.txt"])
    got = [(o.status, o.reason) for o in report.outcomes]
    assert got[0] == ("refused", "the page shows only a cookie or consent notice, not the article (the site may "
                                 "need consent given in a browser)")
    assert got[1][0] == "failed" and got[1][1].startswith("redirect loop")
    assert got[2] == ("failed", "larger than the 5,000,000-byte limit (7,200,026 bytes; fetch.max_bytes)")
    assert got[3] == ("failed", "not a web page (content type application/pdf)")
    assert got[4] == ("failed", "the site's robots.txt does not allow fetching /private/memo.html "
                                "(fetch.respect_robots)")
    assert got[5] == ("failed", "the server answered 404 Not Found")
    assert got[6][0] == "failed" and "only http and https" in got[6][1]
    assert got[7] == ("failed", "not a URL (http:// or https://) or an .html file")
    assert snapshot(folder) == before and report.build is None and service.index.path == generation


async def test_the_same_page_again_or_the_same_text_elsewhere_is_skipped(service: Service, site) -> None:
    ing = Ingestor(service)
    await ing.add([site.url("/news/wind.html")])
    report = await ing.add([site.url("/news/wind.html?utm_source=x"), site.url("/moved"), site.url("/busy.html")])
    reasons = [(o.status, o.reason) for o in report.outcomes]
    stored = "web/127.0.0.1/kelmar-bank-tender.txt"
    assert reasons == [("skipped", f"already stored as {stored}, unchanged")] * 3  # same canonical URL
    assert report.build is None


async def test_two_copies_in_one_add_are_stored_once(service: Service, site) -> None:
    report = await Ingestor(service).add([site.url("/news/rail.html"), site.url("/no-type.html")])
    assert [o.status for o in report.outcomes] == ["added", "skipped"]
    assert report.outcomes[1].reason == "already stored as web/127.0.0.1/rail-freight-record.txt, unchanged"


async def test_a_changed_page_updates_the_stored_article(service: Service, site) -> None:
    ing = Ingestor(service)
    first = (await ing.add([site.url("/news/ferry.html")])).outcomes[0]
    site.versions["ferry"] = "ferry_v2.html"
    second = (await ing.add([site.url("/news/ferry.html")])).outcomes[0]
    assert first.status == "added" and second.status == "updated" and second.path == first.path
    folder = service.settings.corpus_dir
    assert "25 percent higher" in (folder / first.path).read_text(encoding="utf-8")
    assert len(list((folder / "web").rglob("*.txt"))) == 1
    assert "25 percent higher" in " ".join(c.text for c in service.index.chunks if c.article_id == first.path)


async def test_a_hand_edited_article_is_not_overwritten(service: Service, site) -> None:
    ing = Ingestor(service)
    path = (await ing.add([site.url("/news/ferry.html")])).outcomes[0].path
    txt = service.settings.corpus_dir / path
    txt.write_text(txt.read_text(encoding="utf-8").replace("Baltic Star", "MS Baltic Star"), encoding="utf-8")
    site.versions["ferry"] = "ferry_v2.html"
    (o,) = (await ing.add([site.url("/news/ferry.html")])).outcomes
    assert o.status == "skipped" and o.reason == f"changed on the site, but {path} was edited by hand and is kept"
    assert "MS Baltic Star" in txt.read_text(encoding="utf-8")


async def test_an_html_file_is_added_with_what_it_lacks(service: Service) -> None:
    (o,) = (await Ingestor(service).add([str(FIXTURES / "library.html")])).outcomes
    assert o.status == "added" and o.path == "web/local/dane-street-library-to-close-for-a-year-long-renovation.txt"
    assert o.missing == ("author", "publication date", "outlet", "canonical URL", "language")
    assert o.path in service.index.articles


async def test_feed_hints_fill_only_what_the_page_lacks(service: Service, site) -> None:
    source = Source(site.url("/flaky.html"), title="Ignored title", author="Press Office", published="2025-04-01")
    (o,) = (await Ingestor(service).add([source])).outcomes
    assert o.meta.title == "Dane Street library to close for a year-long renovation"
    assert (o.meta.author, o.meta.published) == ("Press Office", "2025-04-01")


async def test_an_indexing_failure_leaves_corpus_and_index_as_they_were(service: Service, site, monkeypatch) -> None:
    folder = service.settings.corpus_dir
    before, generation = snapshot(folder), service.index.path

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service, "reindex_sync", broken)
    report = await Ingestor(service).add([site.url("/news/harbour.html"), site.url("/news/wind.html")])
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    assert all("indexing failed, nothing stored: [Errno 28] No space left on device" in o.reason
               for o in report.outcomes)
    assert snapshot(folder) == before and service.index.path == generation


def test_a_crash_between_storing_and_indexing_is_repaired_on_the_next_start(tmp_path: Path, corpus_dir: Path,
                                                                             site) -> None:
    script = textwrap.dedent(f"""
        import asyncio, os
        from bot.ingest import Ingestor
        from bot.service import Service
        from index.hashing_encoder import HashingEncoder
        from tests.conftest import make_settings
        from pathlib import Path
        svc = Service(make_settings(Path({str(tmp_path)!r}), Path({str(corpus_dir)!r}),
                                    fetch={{"allow_private_addresses": True}}), encoder=HashingEncoder())
        svc.ensure_index()
        svc.reindex_sync = lambda *a, **k: os._exit(9)  # the process dies once the files are in place
        asyncio.run(Ingestor(svc).add([{site.url("/news/harbour.html")!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.returncode == 9
    assert (corpus_dir / BERTH).is_file() and any((corpus_dir / STAGING).glob("*/journal.json"))
    svc = Service(make_settings(tmp_path, corpus_dir), encoder=HashingEncoder())
    report = svc.ensure_index()
    assert report is not None and BERTH in svc.index.articles
    assert svc.index.articles[BERTH].meta.outlet == "Baltic Coast Herald"
    assert not any(p.is_dir() for p in (corpus_dir / STAGING).iterdir())


async def test_a_page_in_another_encoding_is_stored_as_utf8(service: Service, site) -> None:
    (o,) = (await Ingestor(service).add([site.url("/latin1.html")])).outcomes
    text = (service.settings.corpus_dir / o.path).read_text(encoding="utf-8")
    assert "the city's oldest café-library" in text


async def test_an_update_drops_a_hand_written_date_note_once_the_page_states_its_date(service: Service,
                                                                                     site) -> None:
    ing = Ingestor(service)
    path = (await ing.add([site.url("/news/ferry.html")])).outcomes[0].path
    sidecar = service.settings.corpus_dir / path.replace(".txt", ".meta.toml")
    sidecar.write_text(sidecar.read_text(encoding="utf-8") + 'published_note = "Confirmed with the operator."\n',
                       encoding="utf-8")
    site.versions["ferry"] = "ferry_v2.html"
    (o,) = (await ing.add([site.url("/news/ferry.html")])).outcomes
    meta = read_meta(sidecar)
    assert o.status == "updated" and meta.published_note is None  # the page states its date: no note needed
    assert meta.published == "2025-06-10" and meta.extracted_sha256 == sha256_text(
        (service.settings.corpus_dir / path).read_text(encoding="utf-8"))


async def test_an_article_extracted_from_an_html_file_in_the_folder_is_not_updated_from_the_web(
        service: Service, site) -> None:
    folder = service.settings.corpus_dir
    (folder / "ferry.html").write_bytes(site.fixture("ferry.html"))
    service.reindex_sync()
    site.versions["ferry"] = "ferry_v2.html"
    (o,) = (await Ingestor(service).add([site.url("/news/ferry.html")])).outcomes
    assert o.status == "skipped" and o.reason == ("changed on the site, but ferry.txt is extracted from ferry.html "
                                                  "in the articles folder: replace that file to update it")
    assert "18 percent higher" in (folder / "ferry.txt").read_text(encoding="utf-8")


def test_an_update_keeps_what_the_stored_sidecar_had_where_the_page_says_nothing() -> None:
    from bot.ingest import _keep_known
    from corpus.models import ArticleMeta

    old = ArticleMeta(title="Old title", published="2025-04", published_inferred=True, published_note="why",
                      outlet="Aldmere City", url="https://a.example/x")
    new = ArticleMeta(title="New title", url="https://a.example/x", fetched="2025-06-01T00:00:00Z")
    assert _keep_known(new, old) == ArticleMeta(title="New title", published="2025-04", published_inferred=True,
                                                published_note="why", outlet="Aldmere City", url="https://a.example/x",
                                                fetched="2025-06-01T00:00:00Z")
