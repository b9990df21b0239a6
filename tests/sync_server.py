"""A local stand-in for GitHub, GitLab and PagerDuty: a real HTTP server on loopback that serves the
providers' published example objects (tests/data/sync) and plays what real APIs do to a client:
pages (Link headers, GitLab's X-Next-Page, PagerDuty's offset/more), ETags and 304, rate limits,
a 502, a dropped connection, a refused or expiring token."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DATA = Path(__file__).resolve().parent / "data" / "sync"


def example(name: str) -> Any:
    """A fresh copy of one published example (tests change their copies)."""
    return copy.deepcopy(json.loads((DATA / name).read_text(encoding="utf-8")))


class FakeAPI:
    def __init__(self) -> None:
        self.routes: dict[str, list[Any]] = {}
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.expire_after: int | None = None  # answer 401 once this many requests were served
        self.refuse_token = False
        self.link_headers = True  # False: GitLab-style X-Next-Page only
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, path: str, *pages: Any) -> None:
        """`path` answers these pages in turn (page=N, or PagerDuty's offset=N*limit)."""
        self.routes[path] = list(pages)

    def fail(self, path: str, *faults: str) -> None:
        """The next requests of `path` meet these faults, one each: "502", "drop", "slow", "ratelimit",
        "secondary", "429"."""
        self.faults[path] += list(faults)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.requests.append((parts.path, query, headers))
            count = len(self.requests)
            fault = self.faults[parts.path].pop(0) if self.faults.get(parts.path) else None
        if self.refuse_token or (self.expire_after is not None and count > self.expire_after):
            return _send(handler, 401, {"message": "Bad credentials",
                                        "documentation_url": "https://docs.github.com/rest"})
        if fault == "drop":
            handler.close_connection = True
            handler.connection.close()  # no status line at all: the client sees the connection drop
            return None
        if fault == "slow":  # longer than the client's timeout in the test that plays it
            time.sleep(1.0)
        if fault == "502":
            return _send(handler, 502, {"message": "Server\x1b[2J Error\n"})
        if fault == "ratelimit":
            reset = str(int(time.time()) + 2)
            return _send(handler, 403, {"message": "API rate limit exceeded for user ID 1."},
                         {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        if fault == "secondary":
            return _send(handler, 403, {"message": "You have exceeded a secondary rate limit. Please wait a few "
                                                   "minutes before you try again."}, {"Retry-After": "1"})
        if fault == "429":
            return _send(handler, 429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
                         {"Retry-After": "1"})
        pages = self.routes.get(parts.path)
        if pages is None:
            return _send(handler, 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if "offset" in query:  # PagerDuty: the page whose own `offset` is the one asked for
            offset = int(query["offset"][0])
            index = next((i for i, p in enumerate(pages) if isinstance(p, dict) and p.get("offset", 0) == offset),
                         len(pages))
        else:
            index = int(query.get("page", ["1"])[0]) - 1
        body = pages[index] if index < len(pages) else []
        raw = json.dumps(body, sort_keys=True).encode()
        etag = '"' + hashlib.sha1(raw).hexdigest() + '"'
        extra = {"ETag": etag}
        if index + 1 < len(pages) and "offset" not in query:
            following = {k: v[0] if len(v) == 1 else v for k, v in query.items()} | {"page": str(index + 2)}
            if self.link_headers:
                extra["Link"] = f'<{self.url}{parts.path}?{urlencode(following, doseq=True)}>; rel="next"'
            else:
                extra["X-Next-Page"] = str(index + 2)
        if headers.get("if-none-match") == etag:
            return _send(handler, 304, None, extra)
        return _send(handler, 200, body, extra)


def _send(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    raw = b"" if body is None else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(raw)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    if raw:
        handler.wfile.write(raw)


def _handler(api: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            api.answer(self)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler
