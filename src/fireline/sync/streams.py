"""Walking one list of a provider page by page, into raw events, with a cursor that survives a crash.

Each complete page is one transaction: its raw events, its ETag and the cursor's next page commit
together, so an interrupted sync resumes at the first page it had not finished and a page is never
half-stored. A stream that reaches its end records when its run began as `since` for the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ..store import Store, cursors, pending_raw_event
from .client import Client, Page

# One raw event: (delivery id, kind, payload in the sender's webhook shape).
Event = tuple[str, str, dict]


@dataclass
class Tally:
    """What one `fireline sync` run did, per event kind."""

    fetched: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)

    def count(self, events: list[Event], new_ids: set[str]) -> None:
        for delivery_id, kind, _ in events:
            self.fetched[kind] = self.fetched.get(kind, 0) + 1
            if delivery_id in new_ids:
                self.new[kind] = self.new.get(kind, 0) + 1


@dataclass
class Stream:
    """One list of one target: `url` with `params` for a fresh run; `events` turns a page's items into
    raw events and says whether the list can stop (items older than `since`)."""

    source: str
    target: str
    name: str
    url: str
    params: dict[str, Any]
    events: Callable[[list[Any], datetime | None], tuple[list[Event], bool]]
    items: Callable[[Any], list[Any]] = lambda data: data if isinstance(data, list) else []
    # PagerDuty pages by offset in the body (`more`), not by Link headers.
    next_of: Callable[[Page], str | None] = lambda page: page.next_url


def run(store: Store, client: Client, stream: Stream, *, since: datetime | None, tally: Tally,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Callable[[str], None] | None = None) -> None:
    """Walk `stream` from its cursor (or `since`, which wins when given) to its end."""
    cursor = cursors.cursor(store, stream.source, stream.target, stream.name)
    resuming = cursor is not None and cursor[1] is not None and since is None
    started = cursor[2] if resuming and cursor is not None and cursor[2] else now()
    after = since if since is not None else (cursor[0] if cursor else None)
    url: str | None = cursor[1] if resuming and cursor is not None else str(httpx.URL(stream.url,
                                                                                  params=_params(stream, after)))
    visited: set[str] = set()
    while url and url not in visited:  # a provider that pages in a circle must not hold the sync forever
        visited.add(url)
        cached = cursors.etag(store, stream.source, url)
        page = client.get(url, etag=cached[0] if cached else None)
        if page.unchanged:
            events: list[Event] = []
            stop = False
            following = cached[1] if cached else None
        else:
            events, stop = stream.events(stream.items(page.data), after)
            following = None if stop else stream.next_of(page)
        with store.transaction() as tx:
            received = now()
            rows = [pending_raw_event(stream.source, delivery_id, kind, json.dumps(payload, sort_keys=True),
                                      received, json.dumps({"fireline-sync": url}))
                    for delivery_id, kind, payload in events]
            new = tx.insert_values("raw_events", rows)
            if page.etag and not page.unchanged and not _time_filtered(url):
                cursors.put_etag(tx, stream.source, url, page.etag, following, received)
            cursors.put_cursor(tx, stream.source, stream.target, stream.name, cursor[0] if cursor else None,
                               following, started, received)
        tally.count(events, {key[1] for key in new})
        if progress:
            progress(stream.name)
        url = following
    with store.transaction() as tx:
        cursors.put_cursor(tx, stream.source, stream.target, stream.name, started, None, None, now())


def _time_filtered(url: str) -> bool:
    """A URL asking for what changed after a time is new on every run: its ETag would never be sent again."""
    return any(key in httpx.URL(url).params for key in ("since", "updated_after"))


def _params(stream: Stream, after: datetime | None) -> dict[str, Any]:
    return {k: (v(after) if callable(v) else v) for k, v in stream.params.items()
            if not callable(v) or v(after) is not None}


def older(items: Iterable[Any], key: str, after: datetime | None) -> bool:
    """True when a newest-first list has reached items last changed before `after`."""
    if after is None:
        return False
    for item in items:
        value = item.get(key) if isinstance(item, dict) else None
        if isinstance(value, str) and _time(value) < after:
            return True
    return False


def is_new(item: Any, key: str, after: datetime | None) -> bool:
    value = item.get(key) if isinstance(item, dict) else None
    return after is None or not isinstance(value, str) or _time(value) >= after


def _time(value: str) -> datetime:
    text = value.strip().replace("Z", "+00:00").replace(" UTC", "+00:00")
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
