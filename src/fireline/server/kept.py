"""Dashboard pages kept in the store between runs of `fireline serve` (the store side: store/pages.py).

What makes a kept page servable besides the data's version: its context, a digest of the config and
of Fireline's own files, and, when the config has no `at` (pages "as of now"), its age.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from ..app.kept import code_fingerprint
from ..config import Config
from ..store import Store
from ..store import pages as kept_pages
from ..store.state import data_state
from .dashboard import PageKey, Rendered


class Keeper:
    """The pages kept in the store between runs (store/pages.py), for one context: what besides the data
    makes a page what it is. `max_age`: seconds a kept page stays servable (pages "as of now"); None when
    the config fixes `at`, so a page depends on the data and the context only."""

    def __init__(self, context: str, max_age: float | None) -> None:
        self.context, self.max_age = context, max_age

    def open(self, store: Store) -> bool:
        return kept_pages.ensure(store)

    def version(self, store: Store) -> str:
        return data_state(store) or ""

    def load(self, store: Store, version: str) -> list[tuple[PageKey, Rendered, float]]:
        """(key, page, age in seconds) of the pages kept for `version` that may still be served."""
        now, out = datetime.now(UTC), []
        for key, computed_at, status, headers, html in kept_pages.kept(store, version, self.context):
            age = max(0.0, (now - computed_at).total_seconds())
            if self.max_age is not None and age >= self.max_age:
                continue
            path, items = json.loads(key)
            out.append(((path, tuple((k, v) for k, v in items)),
                        Rendered(status, html, tuple((k, v) for k, v in json.loads(headers))), age))
        return out

    def save(self, store: Store, version: str, key: PageKey, page: Rendered) -> None:
        kept_pages.keep(store, version, self.context, (json.dumps([key[0], key[1]]), datetime.now(UTC), page.status,
                                                       json.dumps(page.headers), page.html))


def keeper_for(config: Config, refresh: float) -> Keeper:
    """The keeper of `fireline serve`'s pages; `refresh`: how long a page "as of now" stays servable."""
    context = hashlib.sha256(f"{code_fingerprint()}\0{config.model_dump_json()}".encode()).hexdigest()
    return Keeper(context, None if config.at else refresh)
