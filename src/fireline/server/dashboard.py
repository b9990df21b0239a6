"""The dashboard in `fireline serve`: the report's sections as pages, filters in the URL.

`/` is the overview; `/explain/<metric>` lists the rows behind a figure; `/report.html` is the
same view as one self-contained file. Every filter (team, service, since, until, profile) is in
the query string, so a link shows the same thing to whoever opens it.

Pages are computed in the background when the store's data changes and kept per store generation
(precompute.py): a request never reads git or computes a figure, it is handed the page. On a
loopback address the pages are open; on any other address they need the read token
(FIRELINE_READ_TOKEN or [server] read_token), given once as `?token=`, as a bearer token, or
through the cookie the first visit sets.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..app import report as report_view
from ..app.report.context import Shared
from ..app.report.drawing import Drawing
from ..app.report.sections import LABELS, drill_table, metric_cell, summary_of
from ..config import Config
from ..debt.report import ScanCache
from ..errors import UserError
from ..metrics.explain import ALIASES
from ..metrics.tiers import PROFILES
from ..scope import team_map
from ..store import Store
from ..views.report.model import AnchorLinks, Figure, PageLinks, Section
from ..window import as_of
from .auth import READ_COOKIE

FILTERS = ("team", "service", "since", "until", "profile")


class Reader:
    """A read connection opened on first use; shares the intake's lock only when it is the same store.

    It also keeps the debt section's marker scans for the life of the server (`scans`, read only by the
    background worker of precompute.py): a repository is read again only when its HEAD moved."""

    def __init__(self, open_store: Callable[[], Store], shared: Callable[[], Store | None],
                 shared_lock: threading.Lock) -> None:
        self._open, self._shared, self._shared_lock = open_store, shared, shared_lock
        self.scans = ScanCache()
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._guard = threading.Lock()
        self._own = False

    @contextmanager
    def store(self) -> Iterator[Store]:
        with self._guard:
            if self._store is None:
                store = self._open()
                self._own = store is not self._shared()
                self._lock = threading.Lock() if self._own else self._shared_lock
                self._store = store
        with self._lock:
            yield self._store

    def close(self) -> None:
        if self._store is not None and self._own:
            self._store.close()
        self._store = None


def _query(request: Request) -> dict[str, str]:
    return {k: v.strip() for k in FILTERS if (v := request.query_params.get(k)) and v.strip()}


def _filters(ctx: report_view.Context | None, config: Config, store: Store, query: dict[str, str]
             ) -> report_view.Filters:
    services = sorted(ctx.team_of if ctx is not None else team_map(config, store))
    since, until = ("", "")
    if ctx is not None:
        first, last = report_view.window_dates(ctx)
        since, until = first.isoformat(), last.isoformat()
    # What the link said is kept as written (an ISO time stays a time), so Apply never moves the window.
    since, until = query.get("since", since), query.get("until", until)
    profile = query.get("profile") or config.profile
    return report_view.Filters(
        teams=[report_view.Option(t, t, t == query.get("team")) for t in sorted(config.team_names)],
        services=[report_view.Option(s, s, s == query.get("service")) for s in services],
        profiles=[report_view.Option(p, p, p == profile) for p in PROFILES],
        since=since, until=until, timezone=config.timezone)


def _context(store: Store, config: Config, query: dict[str, str], **kw: Any) -> report_view.Context:
    if isinstance(kw.get("scans"), Shared):  # the background worker's: the generation's histories too
        kw["shared"] = kw["scans"]
    # As of the config's `at` when it has one, as `fireline report` is: a fixed history reads the same every day.
    at = as_of(config.at, config.timezone) if config.at else None
    return report_view.build_context(store, config, team=query.get("team"), service=query.get("service"),
                                     since=query.get("since"), until=query.get("until"),
                                     profile=query.get("profile"), today=at.today if at else None,
                                     now=at.now if at else None, **kw)


def _error_page(config: Config, store: Store, query: dict[str, str], message: str) -> str:
    page = report_view.Page(title="Fireline dashboard", scope_text="", sections=[], footer="",
                            filters=_filters(None, config, store, query), error=message)
    return report_view.render(page)


def _explain_section(ctx: report_view.Context, metric: str, limit: int) -> Section:
    summary = summary_of(ctx)
    figure = metric_cell(ctx, metric, summary.overall.metrics[metric])
    figure.href = None
    table = drill_table(ctx, metric, ctx.team if not ctx.service else None, ctx.service, limit)
    return Section(f"explain-{metric.replace('_', '-')}", LABELS[metric],
                   f"The rows behind {LABELS[metric].lower()} for this scope.",
                   figures=[Figure(LABELS[metric], figure)], tables=[table])


def _authorised(request: Request, token: str | None, exposed: bool) -> Response | None:
    """None when the request may read; else the answer that refuses it."""
    if not exposed:
        return None
    if not token:
        return HTMLResponse("<!doctype html><title>Fireline</title><p>The dashboard is off on this public address: "
                            "set FIRELINE_READ_TOKEN (or [server] read_token) to share it.</p>", status_code=403)
    auth = request.headers.get("authorization") or ""
    offered = [request.cookies.get(READ_COOKIE) or "", request.query_params.get("token") or "",
               auth[7:].strip() if auth.lower().startswith("bearer ") else ""]
    if not any(o and hmac.compare_digest(o.encode(), token.encode()) for o in offered):
        return HTMLResponse("<!doctype html><title>Fireline</title><p>This dashboard needs its read token: open the "
                            "link with ?token=… once, or send Authorization: Bearer ….</p>", status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    if request.query_params.get("token"):
        # Trade the token in the URL for a cookie, so it does not stay in the address bar or in shared links.
        rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
        response.set_cookie(READ_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response
    return None


PageKey = tuple[str, tuple[tuple[str, str], ...]]  # (path, filters in order): one page for whoever asks


def page_key(path: str, query: dict[str, str]) -> PageKey:
    return path, tuple(sorted(query.items()))


@dataclass(frozen=True)
class Rendered:
    """A page as computed in the background (precompute.py) and served as often as it is asked for."""

    status: int
    html: str
    headers: tuple[tuple[str, str], ...] = ()

    def response(self, extra: dict[str, str] | None = None) -> HTMLResponse:
        return HTMLResponse(self.html, status_code=self.status, headers={**dict(self.headers), **(extra or {})})


def build_page(store: Store, config: Config, key: PageKey, scans: ScanCache | None) -> Rendered:
    """One dashboard page from the store (and marker scans), for the path and filters of `key`; a bad
    filter (or metric) is the form with its message."""
    path, items = key
    query = dict(items)
    try:
        if path == "/":
            ctx = _context(store, config, query, links=PageLinks(query), drill_rows=0, scans=scans)
            with Drawing() as drawing:
                view = report_view.report_page(ctx, title="Fireline dashboard",
                                               filters=_filters(ctx, config, store, query), on_section=drawing.draw)
                qs = urlencode(query)
                view.footer += f" Download this view as one file: /report.html{'?' + qs if qs else ''}."
                return Rendered(200, report_view.render(view, drawing.svgs()))
        if path.startswith("/explain/"):
            metric = path.removeprefix("/explain/")
            name = ALIASES.get(metric)
            if name is None:
                raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(ALIASES)}")
            ctx = _context(store, config, query, links=PageLinks(query), drill_rows=0, scans=scans)
            section = _explain_section(ctx, name, 1000)
            qs = urlencode(query)
            view = report_view.report_page(ctx, title=f"Fireline: {LABELS[name].lower()}",
                                           filters=None, sections=[section])
            view.back = "/" + (f"?{qs}" if qs else "")
            return Rendered(200, report_view.render(view))
        if path == "/report.html":
            ctx = _context(store, config, query, links=AnchorLinks(), scans=scans)
            with Drawing() as drawing:
                view = report_view.report_page(ctx, on_section=drawing.draw)
                return Rendered(200, report_view.render(view, drawing.svgs()),
                                (("Content-Disposition", 'inline; filename="fireline-report.html"'),))
        raise ValueError(f"no dashboard page at {path}")
    except UserError as exc:
        return Rendered(400, _error_page(config, store, query, str(exc)))


class Pages(Protocol):
    def serve(self, key: PageKey) -> Response: ...


def router(pages: Pages, *, token: str | None, exposed: bool) -> APIRouter:
    """The dashboard's routes. A request checks the read token and answers with what the background
    computed (`pages`, see precompute.py): it never reads git nor computes a figure itself."""
    api = APIRouter(include_in_schema=False)

    def page(request: Request, path: str) -> Response:
        refused = _authorised(request, token, exposed)
        if refused:
            return refused
        return pages.serve(page_key(path, _query(request)))

    @api.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        return page(request, "/")

    @api.get("/explain/{metric}", response_class=HTMLResponse)
    def explain(metric: str, request: Request) -> Response:
        return page(request, f"/explain/{metric}")

    @api.get("/report.html", response_class=HTMLResponse)
    def report_file(request: Request) -> Response:
        return page(request, "/report.html")

    return api
