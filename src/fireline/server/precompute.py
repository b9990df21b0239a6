"""Dashboard pages and the /metrics figures, computed in the background once per store generation.

A request never reads git or computes a figure: it is handed the page computed for the store's
current generation (`Store.generation`, which moves with every committed write). A page not
computed yet is asked of the background worker, and the request waits for it at most
`PAGE_WAIT_SECONDS`; then it gets the page of an earlier generation if there is one, else a
"computing…" page that refreshes itself.

One worker thread, with its own connection, does everything: when the generation moves it computes
the overview first, then the jobs (the /metrics export), then the pages people looked at lately,
each team's overview and the drill-down pages (at most every `MIN_ROUND_SECONDS`); in between, any
page a request is waiting for. Pages say "as of now", so the warm ones are also computed again every
`REFRESH_SECONDS` while the data stands still. The debt section's marker scans (the only part that
reads git) run at most once per repository and generation, and start from the scans kept in the store
(debt/scan_cache.py), so a repository whose HEAD has not moved is not read again. A round whose overview
must be computed starts them (with the repositories' histories and the charts' runtime) in a prefetch
thread with its own connection, so they go on while the worker computes the figures; the generation's
pages share them (generation.py).

Every page computed is also kept in the store (store/pages.py) with the version of the data it was
computed from and its context (config, code, and the clock when the config has no `at`): a server
started again on an unchanged store serves those pages at once, without git, and computes only the
warm pages it lacks. A store changed while the server was down has another version: nothing kept is
served from it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from html import escape

from fastapi.responses import HTMLResponse, Response

from ..app.report.context import Shared, history_of
from ..config import Config
from ..debt.report import ScanCache
from ..metrics.arrow_times import python_rows
from ..store import Store
from .dashboard import PageKey, Reader, Rendered, build_page, page_key
from .generation import GenerationScans
from .kept import Keeper, keeper_for
from .prometheus import DoraCollector

EXPLAINED = ("lead-time", "deployment-frequency", "change-failure-rate", "time-to-restore", "rework-rate")

log = logging.getLogger("fireline.server")

PAGE_WAIT_SECONDS = 1.5  # what a request waits for a page being computed, before the placeholder
POLL_SECONDS = 1.0  # how often the worker looks at the store's generation
MIN_ROUND_SECONDS = 5.0  # a steady stream of webhooks recomputes the warm pages at most this often
REFRESH_SECONDS = 600.0  # pages say "as of now": the warm ones are computed again this often anyway
MAX_PAGES = 256  # pages kept (the least recently served go first)
MAX_RECENT = 32  # pages computed again, ahead of being asked, when the data changes
MAX_QUEUED = 64  # pages waiting to be computed; beyond it the oldest request is forgotten

OVERVIEW: tuple[str, PageKey] = ("page", ("/", ()))
JOBS = ("jobs", None)
Job = Callable[[Store], None]
Builder = Callable[[Store, PageKey, ScanCache], Rendered]
Prefetch = Callable[[Store | None, ScanCache], None]


def placeholder(retry: int = 2) -> HTMLResponse:
    html = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"refresh\" content=\"{retry}\"><title>Fireline: computing…</title></head><body>"
            "<p>Computing this page from the store… it refreshes itself in a moment.</p></body></html>")
    return HTMLResponse(html, status_code=503, headers={"Retry-After": str(retry), "Cache-Control": "no-store"})


class Precompute:
    """The pages (`serve`) and jobs of one server, kept per store generation."""

    def __init__(self, open_store: Callable[[], Store], shared: Callable[[], Store | None],
                 shared_lock: threading.Lock, reader: Reader, build: Builder, *,
                 warm: Callable[[], Iterable[PageKey]] = tuple, jobs: Iterable[Job] = (),
                 wait: float = PAGE_WAIT_SECONDS, poll: float = POLL_SECONDS,
                 refresh: float = REFRESH_SECONDS, keep: Keeper | None = None,
                 prefetch: Prefetch | None = None) -> None:
        self._open, self._shared, self._shared_lock = open_store, shared, shared_lock
        self._keep = keep
        self._prefetch, self._prefetching = prefetch, threading.Thread()
        self._reader, self._build, self._warm, self._jobs = reader, build, warm, list(jobs)
        self._wait, self._poll, self._refresh = wait, poll, refresh
        self._cond = threading.Condition()
        # key -> (generation, round, page); a round is one pass over the warm pages (data changed, or time passed)
        self._pages: OrderedDict[PageKey, tuple[int, int, Rendered]] = OrderedDict()
        self._round = 0
        self._recent: OrderedDict[PageKey, None] = OrderedDict()
        self._todo: OrderedDict[tuple[str, object], None] = OrderedDict()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = False
        self.generation_done = -1  # the generation whose overview and jobs are done (tests and bench wait on it)
        self.computed = 0  # pages computed: what serving from the cache saves is visible
        self.loaded = 0  # pages served from those kept in the store by an earlier run
        self._versions: tuple[int, str | None] = (-1, None)  # (generation, its data version): see _version

    # ---- the request side ---------------------------------------------------------------------

    def generation(self) -> int:
        with self._reader.store() as store:
            return store.generation()

    def serve(self, key: PageKey) -> Response:
        current = self.generation()
        with self._cond:
            self._recent[key] = None
            self._recent.move_to_end(key)
            while len(self._recent) > MAX_RECENT:
                self._recent.popitem(last=False)
            entry = self._fresh(key, current)
            if entry is None:
                self._ask(("page", key), first=True)
                deadline = time.monotonic() + self._wait
                while (entry := self._fresh(key, current)) is None and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
            if entry is None:
                entry = self._pages.get(key)  # an earlier generation's page: what the data was a moment ago
            if entry is None:
                return placeholder()
            self._pages.move_to_end(key)
        generation, _, page = entry
        return page.response({"X-Fireline-Generation": str(generation),
                              **({"X-Fireline-Stale": "computing the current generation"}
                                 if generation < current else {})})

    def _fresh(self, key: PageKey, generation: int) -> tuple[int, int, Rendered] | None:
        entry = self._pages.get(key)
        return entry if entry is not None and entry[0] >= generation else None

    def _ask(self, item: tuple[str, object], *, first: bool = False) -> None:
        """Queue `item` (under the condition's lock); a request's page goes first."""
        self._todo[item] = None
        self._todo.move_to_end(item, last=not first)
        while len(self._todo) > MAX_QUEUED:
            self._todo.popitem(last=True)
        self._wake.set()

    # ---- the worker ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fireline-precompute", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._prefetching.is_alive():
            self._prefetching.join(timeout=30)

    def wait_for(self, generation: int, timeout: float) -> bool:
        """Wait until the overview and the jobs of `generation` (or a later one) are done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.generation_done < generation and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return self.generation_done >= generation

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being computed (tests and the benchmark)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._todo or self._busy) and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(min(left, self._poll))
            return not (self._todo or self._busy)

    def _run(self) -> None:
        try:
            store = self._open()
        except Exception:
            log.exception("the dashboard's worker cannot open the store; pages stay uncomputed")
            return
        if store is self._shared():  # an app built on one Store object: its connection is the intake's
            store = store.sibling()
        lock = threading.Lock()
        rounded, scans, last = -1, GenerationScans(self._reader.scans), -MIN_ROUND_SECONDS
        seen, age = self._load(store, lock)
        try:
            while not self._stop.is_set():
                try:
                    with lock:
                        generation = store.generation()
                except Exception:
                    log.exception("cannot read the store's generation")
                    self._wake.wait(self._poll)
                    continue
                if generation != seen:  # a page asked for now is computed from the new data, markers included
                    seen, scans = generation, GenerationScans(self._reader.scans)
                since = time.monotonic() - last
                if (seen != rounded and since >= MIN_ROUND_SECONDS) or since > self._refresh:
                    # The pages loaded from the store are as old as they are: refreshed when they would have been.
                    rounded, last, age = seen, time.monotonic() - age, 0.0
                    self._changed()
                    with self._cond:
                        overview = self._pages.get(OVERVIEW[1])
                        kept = overview is not None and overview[0] >= seen and overview[1] == self._round
                    if not kept:  # else the overview was kept in the store: nothing to read git for yet
                        self._start_prefetch(store, scans)
                with self._cond:
                    # The overview first, then the jobs (/metrics): pages asked by requests go ahead of
                    # everything else but the jobs, which they would otherwise hold off for as long as they come.
                    overview = self._pages.get(OVERVIEW[1])
                    done = overview is not None and overview[0] >= generation and overview[1] == self._round
                    item = JOBS if JOBS in self._todo and done else next(iter(self._todo), None)
                    if item is not None:
                        del self._todo[item]
                    self._busy = item is not None
                if item is None:
                    self._wake.wait(self._poll)
                    self._wake.clear()
                    continue
                try:
                    self._do(item, store, lock, generation, scans)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            store.close()

    def _start_prefetch(self, store: Store, scans: GenerationScans) -> None:
        """What the round's overview will need that is not the worker's own work (the marker scans: git, in
        other processes; the charts' JavaScript runtime), started in a thread of its own with its own
        connection, so it goes on while the worker computes the overview's figures."""
        if self._prefetch is None or self._prefetching.is_alive():
            return
        prefetch, sibling = self._prefetch, None
        try:
            if not store.read_only:  # opened here: an in-memory store's sibling is a cursor of the worker's
                sibling = store.sibling()
        except Exception:
            log.debug("no second connection for the dashboard's prefetch", exc_info=True)

        def run() -> None:
            try:
                prefetch(sibling, scans)
            except Exception:  # the page that needs it computes it again, and logs what failed then
                log.debug("the dashboard's prefetch failed", exc_info=True)
            finally:
                if sibling is not None:
                    sibling.close()

        self._prefetching = threading.Thread(target=run, name="fireline-prefetch", daemon=True)
        self._prefetching.start()

    def _version(self, store: Store, lock: threading.Lock, generation: int) -> str | None:
        """The data's version, read once per generation before its first page is computed (not on every
        generation: a digest reads every row): a page kept with it was computed from that data or newer,
        so a store found at that version later holds the page's data."""
        if self._keep is None or store.read_only:
            return None
        if self._versions[0] != generation:
            try:
                with lock:
                    self._versions = (generation, self._keep.version(store))
            except Exception:
                log.exception("cannot read the store's data version; the pages of this generation are not kept")
                self._versions = (generation, None)
        return self._versions[1]

    def _load(self, store: Store, lock: threading.Lock) -> tuple[int, float]:
        """Serve the pages kept in the store for its current data, before anything is computed; the
        generation they are served for (-1 when none could be read) and the age of the oldest page
        loaded when it matters (pages as of now)."""
        if self._keep is None or store.read_only:
            return -1, 0.0
        try:
            with lock:
                generation = store.generation()
                if not self._keep.open(store):
                    return -1, 0.0
                version = self._keep.version(store)
                loaded = self._keep.load(store, version)
        except Exception:
            log.exception("cannot read the pages kept in the store; they are computed again")
            return -1, 0.0
        self._versions = (generation, version)
        with self._cond:
            for key, page, _ in loaded:
                # Marked with the coming first round's number, so that round computes only the pages missing.
                self._pages[key] = (generation, self._round + 1, page)
            self.loaded = len(loaded)
            self._cond.notify_all()
        if loaded:
            log.info("%d dashboard pages served from the store, computed by an earlier run", len(loaded))
        timed = self._keep.max_age is not None
        return generation, max((age for _, _, age in loaded), default=0.0) if timed else 0.0

    def _changed(self) -> None:
        with self._cond:
            self._round += 1
            first = (OVERVIEW, JOBS, ("done", None))
            for item in [*first, *(("page", k) for k in reversed(self._recent)), *(("page", k) for k in self._warm())]:
                if item not in self._todo:
                    self._ask(item)
            # A round starts with the overview and the jobs, even when requests reached the queue first.
            for item in reversed(first):
                self._todo.move_to_end(item, last=False)

    def _do(self, item: tuple[str, object], store: Store, lock: threading.Lock, generation: int,
            scans: GenerationScans) -> None:
        kind, what = item
        if kind == "done":
            with self._cond:
                self.generation_done = max(self.generation_done, generation)
                self._cond.notify_all()
            return
        if kind == "jobs":
            for job in self._jobs:
                try:
                    with lock:
                        job(store)
                except Exception:
                    log.exception("a job after the data changed failed; it runs again at the next change")
            return
        key: PageKey = what  # type: ignore[assignment]
        with self._cond:
            kept = self._pages.get(key)
        if kept is not None and kept[0] >= generation and kept[1] == self._round:
            return  # asked twice while it was being computed
        version = self._version(store, lock, generation)
        try:
            with lock:
                page = self._build(store, key, scans)
        except Exception as exc:
            log.exception("cannot compute the page %s", key[0])
            page = Rendered(500, "<!doctype html><title>Fireline</title><p>This page could not be computed: "
                                 f"{escape(type(exc).__name__)} (see the server's log).</p>")
        with self._cond:
            self.computed += 1
            self._pages[key] = (generation, self._round, page)
            self._pages.move_to_end(key)
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
            self._cond.notify_all()
        if self._keep is not None and version is not None and page.status < 500:
            try:
                with lock:
                    self._keep.save(store, version, key, page)
            except Exception:
                log.exception("cannot keep the page %s in the store; a restart computes it again", key[0])


def _logged(fn: Callable[..., object], *args: object, **kwargs: object) -> None:
    """`fn` in a prefetch thread: what fails is computed again by the page that needs it, which says why then."""
    try:
        fn(*args, **kwargs)
    except Exception:
        log.debug("the dashboard's prefetch failed", exc_info=True)


def for_server(open_store: Callable[[], Store], shared: Callable[[], Store | None], shared_lock: threading.Lock,
               reader: Reader, config: Config, collector: DoraCollector, *,
               wait: float = PAGE_WAIT_SECONDS) -> Precompute:
    """The worker of `fireline serve`: the dashboard's pages (each team's overview kept warm) and the
    DORA figures of /metrics."""
    from ..app.exported import exported

    def build(store: Store, key: PageKey, scans: ScanCache) -> Rendered:
        return build_page(store, config, key, scans)

    def warm() -> list[PageKey]:
        return [*(page_key("/", {"team": team}) for team in sorted(config.team_names)),
                *(page_key(f"/explain/{metric}", {}) for metric in EXPLAINED)]

    def export(store: Store) -> None:
        collector.update(exported(store, config))

    def prefetch(store: Store | None, scans: ScanCache) -> None:
        """What the overview needs besides its figures, while the worker computes them: every repository's
        marker scan (git, in other processes; the repositories at once, each on a connection of its own:
        the longest one sets the time, not the sum), in a thread of its own started first; meanwhile here
        vl-convert's runtime (~1 s to start, once per process, mostly off the GIL: better before the page's
        drawing threads), then the repositories' histories on a connection of their own. The histories are
        not made to wait for the scans: the knowledge section needs them before the debt section needs the
        scans."""
        from ..debt.report import scan_repos
        from ..views.charts import warm_up

        if store is None:
            warm_up()
            return
        scanning = threading.Thread(target=_logged, args=(scan_repos, store, config),
                                    kwargs={"cache": scans, "parallel": True}, name="fireline-prefetch-scans",
                                    daemon=True)
        scanning.start()
        try:
            warm_up()
            if isinstance(scans, Shared):
                with store.sibling() as own:
                    tables = own.tables()
                    for repo in sorted(r["repo"] for r in python_rows(tables["repos"].select("repo").to_pyarrow())):
                        history_of(tables, config, repo, scans)
        finally:
            scanning.join()

    return Precompute(open_store, shared, shared_lock, reader, build, warm=warm, jobs=[export], wait=wait,
                      keep=keeper_for(config, REFRESH_SECONDS), prefetch=prefetch)
