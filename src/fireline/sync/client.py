"""One HTTP client for every provider: pages, conditional requests, rate limits and retries.

A provider's answer is one of: a page (JSON and the URL of the next page), "unchanged" (a 304 for
the ETag stored from the last time: GitHub does not count it against the rate limit), or an error
the user must fix (401, 404, a token that expired mid-sync), raised as SyncError (exit 2) with the
provider's own message. Rate limits and server errors are waited out: `sleep` is injectable so the
tests play a reset without waiting for it.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ..errors import UserError

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')
USER_AGENT = "fireline-sync"
MAX_WAIT = 3600.0  # never sleep longer than an hour for one rate-limit reset


class SyncError(UserError):
    """The provider refused what the user asked for (wrong token, missing repository)."""


@dataclass
class Stats:
    requests: int = 0
    not_modified: int = 0
    pages: int = 0
    retries: int = 0
    waited_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "pages": self.pages, "not_modified": self.not_modified,
                "retries": self.retries, "waited_seconds": round(self.waited_seconds, 3)}


@dataclass
class Page:
    url: str
    data: Any  # None when the page did not change (304)
    next_url: str | None
    etag: str | None
    unchanged: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class Client:
    """GETs JSON from one provider with its auth headers; `get` handles everything but the meaning."""

    def __init__(self, provider: str, headers: dict[str, str], *, timeout: float = 30.0, retries: int = 5,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.provider = provider
        self.http = httpx.Client(headers={"User-Agent": USER_AGENT, **headers}, timeout=timeout,
                                 follow_redirects=True, transport=transport)
        self.retries = retries
        self.sleep = sleep
        self.clock = clock
        self.stats = Stats()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: dict[str, Any] | None = None, *, etag: str | None = None) -> Page:
        """One page. Waits out rate limits and retries 5xx, timeouts and dropped connections
        (with back-off); raises SyncError for what waiting cannot fix."""
        attempt = 0
        headers = {"If-None-Match": etag} if etag else {}
        while True:
            self.stats.requests += 1
            try:
                response = self.http.get(url, params=params, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                attempt += 1
                if attempt > self.retries:
                    raise SyncError(f"{self.provider}: {url}: no answer after {attempt} tries ({exc})") from None
                self._wait(_backoff(attempt))
                continue
            wait = self._rate_limit_wait(response)
            if wait is not None:
                attempt += 1
                if attempt > self.retries + 5:
                    raise SyncError(f"{self.provider}: {url}: still rate limited after {attempt} tries: "
                                    f"{_message(response)}")
                self._wait(wait)
                continue
            if response.status_code >= 500:
                attempt += 1
                if attempt > self.retries:
                    raise SyncError(f"{self.provider}: {url}: HTTP {response.status_code} after {attempt} tries: "
                                    f"{_message(response)}")
                self._wait(_backoff(attempt))
                continue
            break
        links = {rel: link for link, rel in _LINK.findall(response.headers.get("link", ""))}
        next_url = links.get("next")
        if response.status_code == 304:
            self.stats.not_modified += 1
            return Page(url, None, next_url, etag, unchanged=True, headers=dict(response.headers))
        if response.status_code >= 400:
            raise SyncError(_refusal(self.provider, url, response))
        self.stats.pages += 1
        try:
            data = response.json()
        except ValueError:
            raise SyncError(f"{self.provider}: {url}: not JSON (HTTP {response.status_code})") from None
        if next_url is None and response.headers.get("x-next-page"):
            # GitLab without Link headers (some proxies drop them): the page number says it.
            next_url = str(response.url.copy_set_param("page", response.headers["x-next-page"]))
        return Page(url, data, next_url, response.headers.get("etag"), headers=dict(response.headers))

    def _wait(self, seconds: float) -> None:
        seconds = max(0.0, min(seconds, MAX_WAIT))
        self.stats.retries += 1
        self.stats.waited_seconds += seconds
        self.sleep(seconds)

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait before asking again, or None when this is not a rate limit.

        GitHub: a primary limit is 403/429 with X-RateLimit-Remaining 0 (wait until X-RateLimit-Reset);
        a secondary limit is 403/429 with Retry-After, or a message about it (wait a minute).
        GitLab and PagerDuty answer 429, with Retry-After or RateLimit-Reset.
        """
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after:
            return _retry_after(retry_after, self.clock())
        reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
        if headers.get("x-ratelimit-remaining") == "0" or (response.status_code == 429 and reset):
            if reset and reset.isdigit():
                value = float(reset)
                # X-RateLimit-Reset is an epoch time; GitLab's RateLimit-Reset too, some send seconds.
                return max(1.0, value - self.clock() + 1) if value > 1e9 else max(1.0, value)
            return 60.0
        if response.status_code == 429 or "secondary rate limit" in _message(response).lower():
            return 60.0
        return None


def _retry_after(value: str, now: float) -> float:
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 60.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _backoff(attempt: int) -> float:
    return float(min(60, 2 ** (attempt - 1)))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _message(response: httpx.Response) -> str:
    """The provider's own words (GitHub and GitLab say `message`, PagerDuty `error.message`), on one line
    and without terminal control characters: a hostile or broken server must not write to the terminal."""
    return _CONTROL.sub(" ", _words(response)).strip()[:500]


def _words(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        for key in ("message", "error_description", "error"):
            if body.get(key):
                return str(body[key])
    return str(body)[:300]


def _refusal(provider: str, url: str, response: httpx.Response) -> str:
    status = response.status_code
    why = {401: "the token was refused (wrong or expired?)", 403: "the token may not read this",
           404: "not found (a missing repository or project, or a token that may not see it)"}.get(status, "")
    parts = [f"{provider}: {url}: HTTP {status}", _message(response)]
    if why:
        parts.append(why)
    return ": ".join(p for p in parts if p)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
