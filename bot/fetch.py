"""Fetching web pages and feeds, bounded and polite (the only code in citebot that makes web requests).

- only http and https; a host that resolves to a private, loopback, link-local or otherwise non-public
  address is refused (checked on the addresses actually connected to), unless `fetch.allow_private_addresses`;
- a timeout per request, a size limit (checked while reading, so a lying or missing Content-Length does not
  matter), the content type checked, at most `fetch.max_redirects` redirects, each hop checked again;
- one User-Agent, one request at a time per site, robots.txt obeyed (RFC 9309) unless `fetch.respect_robots`
  is off;
- 429 and 5xx answers and network errors are retried with exponential backoff, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import socket
import time
import urllib.robotparser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from bot.settings import FetchSettings
from corpus.errors import CitebotError

log = logging.getLogger(__name__)

PAGE_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/x-rss+xml")
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1"
REDIRECTS = (301, 302, 303, 307, 308)
RETRIED = (429, 500, 502, 503, 504)
ROBOTS_MAX_BYTES = 500_000
ROBOTS_TTL = 24 * 3600.0  # RFC 9309: a cached robots.txt is not used for more than a day
ROBOTS_RETRY_TTL = 600.0  # an unreachable robots.txt is tried again after this long


class FetchError(CitebotError):
    """A page or feed that could not be fetched; the message says why, in words for the user."""

    def __init__(self, message: str, transient: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient  # worth trying again later (network trouble, server busy)
        self.status = status


class AddressRefused(OSError):
    """A host resolved to an address that fetching must not reach."""


@dataclass(frozen=True)
class Fetched:
    """A successful response (or a 304 when `not_modified`)."""

    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    content_language: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def refusal_for(address: str) -> str | None:
    """Why an IP address must not be fetched from by default, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("private", ip.is_private),
                       ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                       ("reserved", ip.is_reserved)):
        if flag:
            return kind
    return None if ip.is_global else "non-public"


class SafeResolver(AbstractResolver):
    """The system resolver, refusing hosts that resolve to non-public addresses (unless allowed)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        results = await self._inner.resolve(host, port, family)
        if not self.allow_private:
            for r in results:
                kind = refusal_for(r["host"])
                if kind:
                    raise AddressRefused(f"{host} resolves to {r['host']}, a {kind} address; refused "
                                         "(set fetch.allow_private_addresses to allow it)")
        return results

    async def close(self) -> None:
        await self._inner.close()


class Politeness:
    """What all fetches in a process share: one lock per site, and the sites' robots.txt rules."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._robots: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None, str | None]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    def lock(self, site: str) -> asyncio.Lock:
        return self._locks.setdefault(site, asyncio.Lock())

    async def robots(self, origin: str, load: Callable[[], Awaitable[tuple[object, str | None]]]):
        """(parser or None for 'allow all', or the reason everything is disallowed), cached per origin."""
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            cached = self._robots.get(origin)
            if cached and cached[0] > time.monotonic():
                return cached[1], cached[2]
            parser, refusal = await load()
            ttl = ROBOTS_RETRY_TTL if refusal else ROBOTS_TTL
            self._robots[origin] = (time.monotonic() + ttl, parser, refusal)
            return parser, refusal


class Fetcher:
    """An HTTP client for pages and feeds; use as `async with Fetcher(settings) as f: await f.page(url)`."""

    def __init__(self, settings: FetchSettings, politeness: Politeness | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.settings = settings
        self.politeness = politeness or Politeness()
        self.sleep = sleep  # tests record the waits instead of waiting
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        connector = aiohttp.TCPConnector(resolver=SafeResolver(s.allow_private_addresses), limit=8,
                                         ttl_dns_cache=60)
        self.session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": s.user_agent},
            timeout=aiohttp.ClientTimeout(total=s.timeout_seconds, connect=min(10.0, s.timeout_seconds)))
        return self

    async def __aexit__(self, *exc) -> None:
        if self.session is not None:
            await self.session.close()

    async def page(self, url: str) -> Fetched:
        """A web page (HTML)."""
        return await self.get(url, PAGE_TYPES, PAGE_ACCEPT)

    async def feed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """An RSS or Atom feed, asked for conditionally: status 304 when it has not changed."""
        return await self.get(url, FEED_TYPES, FEED_ACCEPT, etag=etag, last_modified=last_modified)

    async def get(self, url: str, types: tuple[str, ...] | None, accept: str = "*/*", etag: str | None = None,
                  last_modified: str | None = None, robots: bool = True, max_bytes: int | None = None) -> Fetched:
        """GET `url`, following redirects by hand so that every hop is checked; FetchError says why not."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen: list[str] = []
        current = url
        while True:
            check_url(current, self.settings.allow_private_addresses)
            if robots and self.settings.respect_robots:
                await self._check_robots(current)
            seen.append(current)
            result = await self._request(current, headers, types, max_bytes or self.settings.max_bytes)
            if isinstance(result, Fetched):
                return result
            target = urljoin(current, result)
            if target in seen:
                raise FetchError(f"redirect loop: {' → '.join(seen + [target])}")
            if len(seen) > self.settings.max_redirects:
                raise FetchError(f"more than {self.settings.max_redirects} redirects (last to {target})")
            current = target

    async def _request(self, url: str, headers: dict[str, str], types: tuple[str, ...] | None,
                       max_bytes: int) -> Fetched | str:
        """One URL, retried on 429/5xx/network errors; a Fetched, or the Location of a redirect."""
        s = self.settings
        parts = urlsplit(url)
        async with self.politeness.lock(f"{parts.hostname}:{parts.port or parts.scheme}"):
            attempt = 0
            while True:
                wait = None
                try:
                    async with self.session.get(url, headers=headers, allow_redirects=False) as r:
                        if r.status in REDIRECTS:
                            location = r.headers.get("Location")
                            if not location:
                                raise FetchError(f"redirect ({r.status}) without a Location", status=r.status)
                            return location
                        if r.status == 304:
                            return Fetched(str(r.url), 304, "", b"", r.headers.get("ETag"),
                                           r.headers.get("Last-Modified"))
                        if r.status in RETRIED:
                            wait = retry_after(r.headers.get("Retry-After"))
                            error = FetchError(f"the server answered {r.status} {r.reason or ''}".strip(),
                                               transient=True, status=r.status)
                        elif r.status >= 400 or r.status < 200:
                            raise FetchError(f"the server answered {r.status} {r.reason or ''}".strip(),
                                             status=r.status)
                        else:
                            return await _read(r, url, types, max_bytes)
                except aiohttp.ClientConnectorDNSError as exc:
                    if isinstance(exc.os_error, AddressRefused):
                        raise FetchError(str(exc.os_error)) from None
                    raise FetchError(f"cannot find the host {parts.hostname}") from None
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    what = "timed out" if isinstance(exc, asyncio.TimeoutError) else f"{exc.__class__.__name__}"
                    error = FetchError(f"network error ({what})", transient=True)
                if attempt >= s.retries:
                    raise error
                delay = wait if wait is not None else s.backoff_seconds * 2 ** attempt
                if delay > s.max_retry_after_seconds:
                    raise FetchError(f"{error}; the server asks to wait {delay:.0f} s, more than "
                                     f"fetch.max_retry_after_seconds ({s.max_retry_after_seconds:.0f} s)",
                                     transient=True, status=error.status)
                log.info("%s: %s; trying again in %.1f s", url, error, delay)
                await self.sleep(delay)
                attempt += 1

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser, refusal = await self.politeness.robots(origin, lambda: self._load_robots(origin))
        if refusal:
            raise FetchError(refusal, transient=True)
        if parser is not None and not parser.can_fetch(self.settings.user_agent, url):
            raise FetchError(f"the site's robots.txt does not allow fetching {parts.path or '/'} "
                             "(fetch.respect_robots)")

    async def _load_robots(self, origin: str):
        """RFC 9309: a 4xx means no rules; a server or network error means no access for now."""
        try:
            got = await self.get(origin + "/robots.txt", None, "text/plain,*/*;q=0.1", robots=False,
                                 max_bytes=ROBOTS_MAX_BYTES)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return None, None
            if exc.status is None and not exc.transient:
                return None, str(exc)  # the site itself cannot be reached (unknown host, refused address)
            return None, f"the site's robots.txt cannot be read ({exc}); not fetching until it can"
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(got.body.decode("utf-8", errors="replace").splitlines())
        return parser, None


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse what is not an http(s) URL with a host, and literal non-public IP addresses."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"only http and https addresses can be fetched, not {parts.scheme or 'this'}: {url}")
    if not parts.hostname:
        raise FetchError(f"no host name in {url}")
    try:
        parts.port
    except ValueError:
        raise FetchError(f"bad port in {url}") from None
    if parts.username or parts.password:
        raise FetchError("addresses with a user name or password are not fetched")
    try:
        kind = refusal_for(parts.hostname)
    except ValueError:
        return  # a name: checked when it is resolved
    if kind and not allow_private:
        raise FetchError(f"{parts.hostname} is a {kind} address; refused (set fetch.allow_private_addresses "
                         "to allow it)")


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


async def _read(r: aiohttp.ClientResponse, url: str, types: tuple[str, ...] | None, max_bytes: int) -> Fetched:
    declared = r.headers.get("Content-Type")
    ctype = r.content_type if declared else ""
    if types is not None and declared and ctype not in types:
        raise FetchError(f"not {_kind(types)} (content type {ctype})")
    if r.content_length is not None and r.content_length > max_bytes:
        raise FetchError(f"larger than the {max_bytes:,}-byte limit ({r.content_length:,} bytes; fetch.max_bytes)")
    body = bytearray()
    async for block in r.content.iter_chunked(1 << 16):
        body += block
        if len(body) > max_bytes:
            raise FetchError(f"larger than the {max_bytes:,}-byte limit (fetch.max_bytes)")
    if types is not None and not declared and not _sniff(bytes(body[:2048]), types):
        raise FetchError(f"not {_kind(types)} (no content type, and it does not look like one)")
    return Fetched(str(r.url), r.status, ctype, bytes(body), r.headers.get("ETag"), r.headers.get("Last-Modified"),
                   r.headers.get("Content-Language"))


def _kind(types: tuple[str, ...]) -> str:
    return "a web page" if types == PAGE_TYPES else "an RSS or Atom feed"


def _sniff(head: bytes, types: tuple[str, ...]) -> bool:
    text = head.lstrip().lower()
    if types == PAGE_TYPES:
        return text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:512]
    return text.startswith(b"<?xml") or any(tag in text for tag in (b"<rss", b"<feed", b"<rdf:rdf"))
