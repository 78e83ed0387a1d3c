"""Fetching against a local news site: limits, redirects, retries, robots.txt, addresses, politeness."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from bot.fetch import FetchError, Fetcher, Politeness, check_url, refusal_for, retry_after
from bot.settings import FetchSettings


def settings(**kw) -> FetchSettings:
    return FetchSettings(**({"allow_private_addresses": True, "backoff_seconds": 0.5} | kw))


class Sleeps(list):
    """Records the waits asked for instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def fetch(site, path: str, sleeps=None, **kw):
    async with Fetcher(settings(**kw), sleep=Sleeps() if sleeps is None else sleeps) as f:
        return await f.page(site.url(path))


async def test_a_page_is_fetched_with_one_user_agent_after_robots_txt(site) -> None:
    got = await fetch(site, "/news/harbour.html", user_agent="citebot-test/1.0 (+mailto:ops@example.org)")
    assert got.status == 200 and got.content_type == "text/html" and b"deep-water berth" in got.body
    assert site.paths() == ["/robots.txt", "/news/harbour.html"]
    assert {h["User-Agent"] for _, h in site.requests} == {"citebot-test/1.0 (+mailto:ops@example.org)"}


async def test_429_is_retried_after_the_time_retry_after_asks(site) -> None:
    sleeps = Sleeps()
    site.retry_after = "3"
    got = await fetch(site, "/busy.html", sleeps)
    assert got.status == 200 and sleeps == [3.0]
    assert site.paths().count("/busy.html") == 2


async def test_5xx_is_retried_with_exponential_backoff(site) -> None:
    sleeps = Sleeps()
    got = await fetch(site, "/flaky.html", sleeps, backoff_seconds=1.5)
    assert got.status == 200 and sleeps == [1.5, 3.0]


async def test_retries_stop_after_the_limit_with_the_last_answer(site) -> None:
    site.flaky_left = 10
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="503") as exc:
        await fetch(site, "/flaky.html", sleeps, retries=2)
    assert exc.value.transient and len(sleeps) == 2 and site.paths().count("/flaky.html") == 3


async def test_a_retry_after_beyond_the_limit_is_not_waited_for(site) -> None:
    site.retry_after = "3600"
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="asks to wait 3600 s, more than fetch.max_retry_after_seconds"):
        await fetch(site, "/busy.html", sleeps)
    assert sleeps == []


async def test_a_redirect_is_followed_and_a_loop_is_refused(site) -> None:
    got = await fetch(site, "/moved")
    assert got.url == site.url("/news/wind.html") and b"Kelmar" in got.body
    with pytest.raises(FetchError, match="redirect loop: .*/loop/a → .*/loop/b → .*/loop/a"):
        await fetch(site, "/loop/a")
    with pytest.raises(FetchError, match="more than 0 redirects"):
        await fetch(site, "/moved", max_redirects=0)


@pytest.mark.parametrize("path", ["/huge.html", "/huge-chunked.html"])
async def test_an_oversized_page_is_refused(site, path) -> None:
    with pytest.raises(FetchError, match="larger than the 1,000,000-byte limit"):
        await fetch(site, path, max_bytes=1_000_000)


async def test_only_web_pages_are_accepted_as_pages(site) -> None:
    with pytest.raises(FetchError, match=r"not a web page \(content type application/pdf\)"):
        await fetch(site, "/report.pdf")
    assert b"Rail freight" in (await fetch(site, "/no-type.html")).body  # no type, but plainly HTML


async def test_client_errors_are_not_retried(site) -> None:
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="404 Not Found") as exc:
        await fetch(site, "/gone.html", sleeps)
    assert not exc.value.transient and sleeps == []


async def test_robots_txt_is_obeyed_unless_turned_off(site) -> None:
    with pytest.raises(FetchError, match="robots.txt does not allow fetching /private/memo.html"):
        await fetch(site, "/private/memo.html")
    assert "/private/memo.html" not in site.paths()
    assert (await fetch(site, "/private/memo.html", respect_robots=False)).status == 200
    with pytest.raises(FetchError, match="robots.txt does not allow"):
        await fetch(site, "/news/harbour.html", user_agent="GrumpyBot/2.0")


async def test_a_missing_robots_txt_allows_everything_and_an_erroring_one_nothing(site) -> None:
    site.robots = None
    orig = site._route

    def route(h, path):
        if path == "/robots.txt":
            status = 404 if site.robots is None else 500
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return None
        return orig(h, path)

    site._route = route
    assert (await fetch(site, "/news/rail.html")).status == 200
    site.robots = "error"
    with pytest.raises(FetchError, match="robots.txt cannot be read"):
        await fetch(site, "/news/rail.html", retries=0)


async def test_conditional_requests_get_304(site) -> None:
    async with Fetcher(settings()) as f:
        first = await f.feed(site.url("/feeds/rss.xml"))
        again = await f.feed(site.url("/feeds/rss.xml"), first.etag, first.last_modified)
    assert first.status == 200 and first.etag and first.last_modified
    assert again.not_modified and again.body == b""
    sent = [h for p, h in site.requests if p == "/feeds/rss.xml"][1]
    assert sent["If-None-Match"] == first.etag and sent["If-Modified-Since"] == first.last_modified


async def test_one_request_at_a_time_per_site(site) -> None:
    politeness = Politeness()
    async with Fetcher(settings(), politeness) as f:
        await asyncio.gather(*(f.page(site.url(f"/slow/{i}.html")) for i in range(4)))
    host = f"127.0.0.1:{site.url('').rsplit(':', 1)[1]}"
    assert site.max_in_flight[host] == 1
    assert sum(1 for p in site.paths() if p.startswith("/slow/")) == 4


async def test_private_and_loopback_addresses_are_refused_by_default(site) -> None:
    port = site.url("").rsplit(":", 1)[1]
    for url, kind in ((site.url("/news/harbour.html"), "loopback"), (f"http://localhost:{port}/", "loopback")):
        with pytest.raises(FetchError, match=f"{kind} address; refused"):
            async with Fetcher(settings(allow_private_addresses=False)) as f:
                await f.page(url)
    assert site.requests == []  # nothing reached the server


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.10", "private"), ("172.16.5.4", "private"),
    ("169.254.169.254", "link-local"), ("::1", "loopback"), ("fe80::1", "link-local"), ("fd00::1", "private"),
    ("::ffff:127.0.0.1", "loopback"), ("0.0.0.0", "private"), ("224.0.0.1", "multicast"), ("100.64.0.1", "non-public"),
    ("93.184.215.14", None), ("2606:4700::1111", None)])
def test_which_addresses_are_refused(address: str, kind: str | None) -> None:
    assert refusal_for(address) == kind


@pytest.mark.parametrize("url,message", [
    ("ftp://news.example/a", "only http and https"), ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"), ("http:///nohost", "no host name"),
    ("http://user:pw@news.example/", "user name or password"), ("http://10.0.0.1/admin", "private address"),
    ("http://[::1]:8080/", "loopback address"), ("http://news.example:99999/", "bad port")])
def test_urls_that_are_refused_before_any_request(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        check_url(url)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("7") == 7.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after(soon) <= 31
    assert retry_after(None) is None and retry_after("soon") is None


async def test_a_slow_answer_times_out_and_is_retried(site) -> None:
    sleeps = Sleeps()
    with pytest.raises(FetchError, match=r"network error \(timed out\)") as exc:
        await fetch(site, "/slow/1.html", sleeps, timeout_seconds=0.1, retries=1)
    assert exc.value.transient and sleeps == [0.5] and site.paths().count("/slow/1.html") == 2


async def test_an_unknown_host_is_named_plainly(monkeypatch) -> None:
    import socket

    import aiohttp

    async def unknown(self, host, port=0, family=socket.AF_INET):  # no DNS query leaves the machine
        raise OSError(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(aiohttp.ThreadedResolver, "resolve", unknown)
    with pytest.raises(FetchError, match=r"^cannot find the host no-such-host\.example$"):
        async with Fetcher(settings(allow_private_addresses=False)) as f:
            await f.page("http://no-such-host.example/news")
