"""`python -m bot add` and `python -m bot feeds --once` as a user runs them (hashing encoder, local news site)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.conftest import SHIPPED
from tests.newsserver import FIXTURES


@pytest.fixture
def run(tmp_path: Path, site):
    corpus = tmp_path / "articles"
    shutil.copytree(SHIPPED, corpus)

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
        environ.update({"CITEBOT_CORPUS__PATH": str(corpus), "CITEBOT_DATA__DIR": str(tmp_path / "var"),
                        "CITEBOT_MODEL__BACKEND": "hashing", "CITEBOT_FETCH__ALLOW_PRIVATE_ADDRESSES": "true",
                        "CITEBOT_FETCH__BACKOFF_SECONDS": "0.01", "HF_HUB_OFFLINE": "1"} | env)
        return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=environ,
                              cwd=PROJECT_ROOT, timeout=120)

    run.corpus = corpus
    return run


def test_add_prints_what_it_stored_and_what_it_could_not_find(run, site) -> None:
    done = run("add", site.url("/news/harbour.html"), str(FIXTURES / "library.html"))
    assert done.returncode == 0, done.stderr
    out = done.stdout.replace(site.base, "BASE")
    assert out.startswith(
        "added web/127.0.0.1/aldmere-deep-water-berth.txt (248 words) from BASE/news/harbour.html\n"
        "    title: Aldmere council approves deep-water berth as port traffic grows\n"
        "    author: Ieva Petraitė\n"
        "    published: 2025-05-14\n"
        "    outlet: Baltic Coast Herald\n"
        "    canonical URL: BASE/news/2025/05/14/aldmere-deep-water-berth\n"
        "    language: en\n"
        "added web/local/dane-street-library-to-close-for-a-year-long-renovation.txt (191 words) from ")
    assert "    not found on the page: author, publication date, outlet, canonical URL, language\n" in out
    assert out.rstrip().endswith("Done: 2 added.")
    assert "Fetching and extracting" in done.stderr and "Embedding passages and sentences" in done.stderr
    assert (run.corpus / "web/127.0.0.1/aldmere-deep-water-berth.meta.toml").is_file()

    asked = run("ask", "--json", "How much will the deep-water berth at Port Aldmere cost?")
    cited = [c for c in json.loads(asked.stdout)["citations"]
             if c["source"] == "web/127.0.0.1/aldmere-deep-water-berth.txt"]
    text = (run.corpus / "web/127.0.0.1/aldmere-deep-water-berth.txt").read_text(encoding="utf-8")
    assert cited and all(text[c["start"]:c["end"]] == c["text"] for c in cited)


def test_add_exits_1_when_something_could_not_be_added(run, site) -> None:
    done = run("add", "--json", site.url("/news/cookiewall.html"), site.url("/report.pdf"))
    assert done.returncode == 1
    outcomes = json.loads(done.stdout)["outcomes"]
    assert [(o["status"], o["reason"][:30]) for o in outcomes] == [
        ("refused", "the page shows only a cookie o"), ("failed", "not a web page (content type a")]


def test_add_refuses_private_addresses_unless_allowed(run, site) -> None:
    done = run("add", site.url("/news/harbour.html"), CITEBOT_FETCH__ALLOW_PRIVATE_ADDRESSES="false")
    assert done.returncode == 1
    assert "127.0.0.1 is a loopback address; refused (set fetch.allow_private_addresses to allow it)" in done.stdout
    assert site.requests == []


def test_feeds_once_adds_two_items_and_skips_one_already_stored(run, site) -> None:
    feeds = json.dumps([site.url("/feeds/rss.xml")])
    assert run("add", site.url("/news/harbour.html")).returncode == 0
    done = run("feeds", "--once", CITEBOT_FEEDS__URLS=feeds)
    assert done.returncode == 0, done.stderr
    out = done.stdout.replace(site.base, "BASE")
    assert out.startswith("feed BASE/feeds/rss.xml (Aldmere waterfront news): 2 added, 1 skipped\n")
    assert "  added web/127.0.0.1/ferry-night-crossing.txt (130 words) from BASE/news/ferry.html" in out
    assert ("  skipped BASE/news/harbour.html: already stored as web/127.0.0.1/aldmere-deep-water-berth.txt"
            in out)
    assert "  added web/127.0.0.1/rail-freight-record.txt (139 words) from BASE/news/rail.html" in out
    again = run("feeds", "--once", CITEBOT_FEEDS__URLS=feeds)
    assert again.stdout.replace(site.base, "BASE") == ("feed BASE/feeds/rss.xml (Aldmere waterfront news): "
                                                       "not modified\n")


def test_feeds_without_feeds_configured_says_how_to_add_them(run) -> None:
    done = run("feeds", "--once")
    assert done.returncode == 1 and done.stderr.startswith("error: no feeds to poll: list their addresses in [feeds]")
