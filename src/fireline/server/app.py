"""`fireline serve`: webhook intake with nothing lost.

Each accepted event is written raw, with its delivery id as key, and committed before
the 2xx is sent; a re-delivery finds its key and changes nothing. Records are derived
from the raw table by a background normaliser (normalise.py), so a burst of webhooks
is answered at the speed of one insert each.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from .. import normalise, safe_json
from ..config import Config
from ..errors import UserError
from ..store import Store, pending_raw_event
from . import dashboard, openapi, precompute, remote
from .auth import Secrets, is_loopback, read_token, verify
from .group_commit import GroupCommitter, RowRefused
from .guard import Guard
from .jobs import Jobs
from .prometheus import DoraCollector
from .sync import RepoSync

log = logging.getLogger("fireline.server")
BATCH = 5000  # raw events normalised per round
HEALTH_WAIT = 1.0  # seconds /healthz waits for the store before answering with the queue as last seen

# Headers worth keeping with the raw event: they say what it was and who sent it.
KEPT_HEADERS = ("x-github-event", "x-github-delivery", "x-github-hook-id", "x-gitlab-event", "x-gitlab-event-uuid",
                "idempotency-key", "x-gitlab-instance", "user-agent", "content-type")

MAX_DELIVERY_ID = 200  # characters; GitHub's and GitLab's are 36, /events' ids are capped at 200 too

_BODY_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter("fireline_intake_received", "Requests received", ["source"], registry=self.registry)
        self.rejected = Counter("fireline_intake_rejected", "Requests refused", ["source", "reason"],
                                registry=self.registry)
        self.stored = Counter("fireline_intake_stored", "Raw events stored", ["source"], registry=self.registry)
        self.duplicates = Counter("fireline_intake_duplicates", "Re-deliveries of stored events", ["source"],
                                  registry=self.registry)
        self.normalised = Counter("fireline_normalised", "Raw events normalised", registry=self.registry)
        self.pending = Gauge("fireline_normalisation_pending", "Raw events waiting", registry=self.registry)
        self.lag = Gauge("fireline_normalisation_lag_seconds", "Age of the oldest waiting raw event",
                         registry=self.registry)
        self.failed = Gauge("fireline_normalisation_failed", "Raw events whose records could not be derived "
                            "(fireline events failed)", registry=self.registry)

    def show(self, queue: normalise.QueueState) -> None:
        self.pending.set(queue.pending)
        self.lag.set(queue.oldest_age(datetime.now(UTC)))
        self.failed.set(queue.failed)


def _endpoint(intake: Callable, source: str) -> Callable:
    async def endpoint(request: Request) -> JSONResponse:
        return await intake(source, request)

    return endpoint


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


NOTIFY_EVERY = 60.0  # seconds between looks at what is due; cron schedules have minute resolution


def _send_notifications(store_url: str, config: Config) -> int:
    """Send what `[notify.<name>]` has due now (notify.scheduler records each, so it goes once); its own
    connection: only the notifications table is written, which nothing else of the server writes."""
    from ..notify.scheduler import send_due

    with Store.open(store_url) as store:
        return len(send_due(store, config))


def create_app(open_store: Callable[[], Store], config: Config, *, host: str = "127.0.0.1",
               secrets: Secrets | None = None, normaliser: bool = True,
               dashboard_token: str | None = None, allowed_hosts: list[str] | None = None,
               cli_token: str | None = None, page_wait: float = precompute.PAGE_WAIT_SECONDS) -> FastAPI:
    """The intake (webhooks, /events, /healthz, /metrics) and the dashboard (`/`, see dashboard.py).

    `dashboard_token` guards reading on a public address (default: FIRELINE_READ_TOKEN or [server] read_token).
    `allowed_hosts`: the Host header values answered (see guard.py; `fireline serve` always passes them);
    None answers any Host, for an app mounted inside another or driven by a test client.
    `cli_token`: the bearer token of serve.json, accepted by POST /cli besides the ingest token (remote.py).
    `page_wait`: seconds a request waits for a dashboard page being computed (see precompute.py).
    """
    secrets = secrets or Secrets.load(config.server)
    dashboard_token = dashboard_token or read_token(config.server)
    exposed = not is_loopback(host)
    metrics = _Metrics()
    # A connection is used by one thread at a time (DuckDB's are not thread-safe). The intake
    # and the normaliser each get their own, so a long normalisation never stalls an answer.
    lock = threading.Lock()
    state: dict[str, Any] = {"normaliser_lock": lock}
    reader = dashboard.Reader(open_store, lambda: state.get("store"), lock)
    dora = DoraCollector()
    metrics.registry.register(dora)
    pages = precompute.for_server(open_store, lambda: state.get("store"), lock, reader, config, dora, wait=page_wait)
    wake = threading.Event()
    stop = threading.Event()
    jobs = Jobs()  # periodic work: repository sync (sync.py); others register with app.state.jobs

    @contextmanager
    def exclusive() -> Iterator[None]:
        """Writes from outside the intake (a CLI's ingest, a repository sync) wait for the intake's
        batch and the normaliser's round, and hold both off until they commit."""
        with lock:
            if state["normaliser_lock"] is lock:
                yield
            else:
                with state["normaliser_lock"]:
                    yield

    def normalise_loop() -> None:
        # Paced, not woken per request: each round relinks, so a burst is taken in few rounds.
        backlog = False
        while not stop.is_set():
            if not backlog:
                wake.wait(config.server.normalise_interval_seconds)
            try:
                with state["normaliser_lock"]:
                    done = normalise.normalise_pending(state["normaliser_store"], config, limit=BATCH)
                metrics.normalised.inc(done)
                backlog = done == BATCH
            except Exception:  # keep intake alive; the raw events wait for the next round
                log.exception("normalisation failed; the raw events stay pending")
                backlog = False
            try:
                with state["normaliser_lock"]:
                    metrics.show(normalise.queue_state(state["normaliser_store"]))
            except Exception:
                log.exception("cannot read the normalisation queue")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["store"] = open_store()
        state["committer"] = app.state.committer = GroupCommitter(lambda: state["store"], lock)
        state["committer"].start()
        worker = threading.Thread(target=normalise_loop, name="fireline-normaliser", daemon=True)
        if normaliser:
            state["normaliser_store"] = open_store()
            if state["normaliser_store"] is not state["store"]:
                state["normaliser_lock"] = threading.Lock()
            worker.start()
        state["sync"] = RepoSync(jobs, config, lambda: state["store"].url, exclusive)
        if config.notify:
            jobs.add("notify", NOTIFY_EVERY, lambda: _send_notifications(state["store"].url, config), kind="notify")
        jobs.start()
        pages.start()
        yield
        jobs.stop()  # a sync under way commits (or rolls back) before the store closes
        stop.set()
        wake.set()
        pages.stop()
        state["committer"].stop()
        reader.close()
        if normaliser:
            worker.join(timeout=30)
            if state["normaliser_store"] is not state["store"]:
                state["normaliser_store"].close()
        state["store"].close()

    app = FastAPI(title="Fireline intake", version="1", lifespan=lifespan,
                  description="Webhooks from GitHub, GitLab, Alertmanager and PagerDuty, and Fireline's own "
                              "events, stored raw before they are answered.")
    app.state.precompute = pages
    responses = Counter("fireline_http_responses", "HTTP responses sent, by status (500s included)", ["status"],
                        registry=metrics.registry)
    app.add_middleware(Guard, responses=responses, allowed_hosts=allowed_hosts)

    async def read_body(request: Request, source: str) -> bytes:
        limit = config.server.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _Refused(413, "too_large", f"body of {declared} bytes is over the limit of {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _Refused(413, "too_large", f"body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def parse(source: str, body: bytes, content_type: str) -> tuple[dict, str]:
        """The payload and the body's text; depth, number and encoding limits in safe_json."""
        media = content_type.split(";")[0].strip().lower()
        try:
            text = safe_json.decode(body, where="body")
            if source == "github" and media == "application/x-www-form-urlencoded":
                text = (parse_qs(text).get("payload") or [""])[0]
            elif media != "application/json" and not media.endswith("+json"):
                raise _Refused(415, "content_type", f"content type must be application/json, got {media or 'none'}")
            payload = safe_json.loads(text, where="body")
        except safe_json.JSONRefused as exc:
            raise _Refused(400, "malformed_json", str(exc)) from None
        if not isinstance(payload, dict):
            raise _Refused(400, "malformed_json", "the body must be a JSON object")
        return payload, text

    def raw_rows(source: str, kind: str, items: list[tuple[str, dict]], headers: dict[str, str],
                 body: str | None) -> list[tuple]:
        kept = json.dumps({k: v for k, v in headers.items() if k in KEPT_HEADERS}, sort_keys=True)
        now = datetime.now(UTC)
        return [pending_raw_event(source, delivery_id, kind,
                                  body if body is not None else json.dumps(payload, sort_keys=True), now, kept)
                for delivery_id, payload in items]

    async def intake(source: str, request: Request) -> JSONResponse:
        metrics.received.labels(source).inc()
        try:
            headers = {k.lower(): v for k, v in request.headers.items()}
            body = await read_body(request, source)
            secret = secrets.for_source(source)
            if secret:
                reason = verify(source, secret, body, headers)
                if reason:
                    raise _Refused(401, "signature", reason)
            elif exposed:
                raise _Refused(401, "no_secret", f"no secret is configured for {source} on this public address")
            payload, text = parse(source, body, headers.get("content-type", ""))
            problem = openapi.violation(openapi.BODIES[source], payload) if source in openapi.BODIES else None
            if problem:  # what the published schema refuses, before the sender's own rules
                raise _Refused(422, "invalid_payload", problem)
            module = normalise.sender(source)
            try:
                kind = module.event_kind(headers, payload)
                items = module.delivery_ids(kind, headers, payload)
                for _, item in items:  # refuse now what could never be normalised
                    module.normalise(kind, item, **config.normalise_options())
            except (ValueError, UserError) as exc:  # PayloadError and pydantic's errors are ValueErrors
                raise _Refused(422, "invalid_payload", str(exc) or type(exc).__name__) from None
            if not items:
                raise _Refused(422, "invalid_payload", "the payload holds no event")
            long_ids = [d for d, _ in items if len(d) > MAX_DELIVERY_ID]
            if long_ids:
                raise _Refused(422, "invalid_payload", f"a delivery id of {len(long_ids[0])} characters "
                                                       f"(at most {MAX_DELIVERY_ID})")
            # The body as it came is the raw event, unless one request carried several events.
            verbatim = text if len(items) == 1 and items[0][1] is payload and text.lstrip()[:1] == "{" else None
            try:
                stored = await state["committer"].submit(raw_rows(source, kind, items, headers, verbatim))
            except RowRefused as exc:
                raise _Refused(422, "store_refused", str(exc)) from None
        except _Refused as refused:
            metrics.rejected.labels(source, refused.reason).inc()
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        if "sync" in state and source in ("github", "gitlab"):  # a push to a configured repository: fetch it now
            for _, item in items:
                state["sync"].on_push(source, kind, item)
        duplicates = len(items) - stored
        metrics.stored.labels(source).inc(stored)
        metrics.duplicates.labels(source).inc(duplicates)
        status = "stored" if stored else "duplicate"
        return JSONResponse({"status": status, "kind": kind, "stored": stored, "duplicates": duplicates},
                            status_code=202 if stored else 200)

    for source, path in (("github", "/webhooks/github"), ("gitlab", "/webhooks/gitlab"),
                         ("alertmanager", "/webhooks/alertmanager"), ("pagerduty", "/webhooks/pagerduty"),
                         ("events", "/events")):
        app.add_api_route(path, _endpoint(intake, source), methods=["POST"], name=f"intake_{source}",
                          openapi_extra=_BODY_SCHEMA, summary=f"Receive {source} events", responses={
                              202: {"description": "stored"}, 200: {"description": "already stored"},
                              400: {"description": "malformed JSON"}, 401: {"description": "not authentic"},
                              413: {"description": "too large"}, 415: {"description": "not JSON"},
                              422: {"description": "missing or invalid fields"}})

    openapi.install(app)

    @app.get("/healthz", responses={503: {"description": "degraded (events failing, or the queue not draining) "
                                                         "or the store unreachable"}})
    def healthz() -> JSONResponse:
        """200 `ok`; 503 `degraded` with its reasons, or `error` when the store cannot be read."""
        writing = False
        try:
            # A CLI's ingest or a repository sync holds the lock for its whole transaction: a probe then
            # gets the queue as last seen rather than waiting (and timing out) behind it.
            if lock.acquire(timeout=HEALTH_WAIT if "queue" in state else -1):
                try:
                    queue = state["queue"] = normalise.queue_state(state["store"])
                finally:
                    lock.release()
            else:
                queue, writing = state["queue"], True
        except Exception as exc:  # any failure means unhealthy; say which
            return JSONResponse({"status": "error", "error": type(exc).__name__}, status_code=503)
        metrics.show(queue)
        lag = queue.oldest_age(datetime.now(UTC))
        reasons = []
        if queue.failed:
            reasons.append(f"{queue.failed} raw events failed to normalise (fireline events failed)")
        if queue.pending and lag > config.server.max_pending_age_seconds:
            reasons.append(f"the oldest of {queue.pending} waiting raw events is {lag:.0f} s old "
                           f"(over max_pending_age_seconds = {config.server.max_pending_age_seconds:g})")
        body: dict[str, Any] = {"status": "degraded" if reasons else "ok", "pending": queue.pending,
                                "failed": queue.failed,
                "lag_seconds": round(lag, 3)}
        if reasons:
            body["reasons"] = reasons
        if writing:
            body["writing"] = True
        if config.repos:
            body["repositories"] = jobs.status("repository")
        return JSONResponse(body, status_code=503 if reasons else 200)

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        try:
            with lock:
                metrics.show(normalise.queue_state(state["store"]))
        except Exception:  # the counters still answer; the queue gauges keep their last value
            log.exception("cannot read the normalisation queue")
        return PlainTextResponse(generate_latest(metrics.registry).decode(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(dashboard.router(pages, token=dashboard_token, exposed=exposed))
    app.include_router(remote.router(lambda: state["store"].url, exclusive,
                                     lambda: [t for t in (cli_token, secrets.values["ingest"]) if t]))
    app.state.jobs = jobs
    return app
