"""A local news site on 127.0.0.1 for the fetching tests: fixture pages and feeds, and the ways real sites
misbehave (429 with Retry-After, 503s, a redirect loop, an oversized page, a PDF, robots.txt rules).

    with NewsServer() as site:
        site.url("/news/harbour.html")

Every request is recorded (path and headers) in `site.requests`; `site.max_in_flight` is the most requests
ever served at once, per Host header.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "web"
PAGES = {"harbour", "wind", "library", "market", "rail", "budget", "ferry", "cookiewall"}
FEED_LAST_MODIFIED = "Thu, 02 Oct 2025 15:00:00 GMT"
ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: grumpybot\nDisallow: /\n"


class NewsServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.versions: dict[str, str] = {}  # page name -> fixture file to serve instead (a changed page)
        self.ferry_date = "Tue, 10 Jun 2025 16:45:00 GMT"
        self.busy_left = 1  # /busy.html answers 429 this many times first
        self.flaky_left = 2  # /flaky.html answers 503 this many times first
        self.retry_after = "1"
        self.robots = ROBOTS
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> NewsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    def fixture(self, name: str) -> bytes:
        return (FIXTURES / name).read_bytes().replace(b"{base}", self.base.encode())

    def feed(self, name: str) -> bytes:
        return self.fixture(name).replace(b"{ferry_date}", self.ferry_date.encode())

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                host = self.headers.get("Host", "")
                with site._lock:
                    site.requests.append((self.path, dict(self.headers.items())))
                    site.in_flight[host] += 1
                    site.max_in_flight[host] = max(site.max_in_flight[host], site.in_flight[host])
                try:
                    site._route(self, urlsplit(self.path).path)
                finally:
                    with site._lock:
                        site.in_flight[host] -= 1

        return Handler

    def _route(self, h: BaseHTTPRequestHandler, path: str) -> None:
        name = path.removeprefix("/news/").removesuffix(".html")
        if path.startswith("/news/") and name in PAGES:
            return _send(h, 200, self.fixture(self.versions.get(name, f"{name}.html")), "text/html; charset=utf-8")
        if path in ("/feeds/rss.xml", "/feeds/atom.xml"):
            body = self.feed(path.rsplit("/", 1)[1])
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if h.headers.get("If-None-Match") == etag:
                return _send(h, 304, b"", None, {"ETag": etag})
            kind = "application/rss+xml" if "rss" in path else "application/atom+xml"
            return _send(h, 200, body, f"{kind}; charset=utf-8", {"ETag": etag, "Last-Modified": FEED_LAST_MODIFIED})
        if path == "/robots.txt":
            return _send(h, 200, self.robots.encode(), "text/plain")
        if path == "/busy.html":
            if self.busy_left > 0:
                self.busy_left -= 1
                return _send(h, 429, b"Too many requests", "text/plain", {"Retry-After": self.retry_after})
            return _send(h, 200, self.fixture("wind.html"), "text/html")
        if path == "/flaky.html":
            if self.flaky_left > 0:
                self.flaky_left -= 1
                return _send(h, 503, b"Service unavailable", "text/plain")
            return _send(h, 200, self.fixture("library.html"), "text/html")
        if path == "/loop/a":
            return _send(h, 302, b"", None, {"Location": "/loop/b"})
        if path == "/loop/b":
            return _send(h, 302, b"", None, {"Location": self.url("/loop/a")})
        if path == "/moved":
            return _send(h, 301, b"", None, {"Location": "/news/wind.html"})
        if path == "/huge.html":  # declares its size
            return _send(h, 200, b"<html><body>" + b"<p>word </p>" * 600_000 + b"</body></html>", "text/html")
        if path == "/huge-chunked.html":  # does not: the limit must hold while reading
            return _send_chunked(h, b"<p>" + b"filler text " * 10_000 + b"</p>", 100, "text/html")
        if path == "/report.pdf":
            return _send(h, 200, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf")
        if path == "/latin1.html":  # the charset only in the HTTP header
            body = self.fixture("library.html").decode().replace("oldest public library", "oldest café-library")
            return _send(h, 200, body.encode("iso-8859-1"), "text/html; charset=ISO-8859-1")
        if path == "/no-type.html":
            return _send(h, 200, self.fixture("rail.html"), None)
        if path.startswith("/private/"):
            return _send(h, 200, self.fixture("library.html"), "text/html")
        if path.startswith("/slow/"):
            time.sleep(0.3)
            return _send(h, 200, self.fixture("wind.html"), "text/html")
        return _send(h, 404, b"Not found", "text/plain")


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str | None,
          headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    try:
        h.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _send_chunked(h: BaseHTTPRequestHandler, block: bytes, times: int, ctype: str) -> None:
    h.send_response(200)
    h.send_header("Content-Type", ctype)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    try:
        for _ in range(times):
            h.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
