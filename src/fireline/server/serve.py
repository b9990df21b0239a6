"""Start the intake server: checks that refuse an unsafe or impossible start, then uvicorn."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from ..config import Config, load_config
from ..errors import UserError
from ..store import Store, resolve_url
from . import address as addresses
from .app import create_app
from .auth import ENV, READ_ENV, SECRET_OF, Secrets, bound_addresses, is_loopback, read_token
from .guard import allowed_hosts
from .logs import log_config
from .protocol import HeaderDeadlineProtocol

PARENT_ENV = "FIRELINE_SERVE_PARENT"  # the supervisor's pid, for worker processes
MAX_CONNECTIONS = 1000  # per process; beyond it uvicorn answers 503
MAX_HEADER_BYTES = 16 * 1024  # h11's limit on a request line and headers


def _where(host: str) -> str:
    addresses = bound_addresses(host)
    if not host.strip():
        return f"every interface (--host {host!r}: {', '.join(addresses)})"
    shown = ", ".join(a for a in addresses if a != host)
    return f"{host} ({shown})" if shown else host


def check_host(host: str, secrets: Secrets, config: Config) -> list[str]:
    """Refuse a non-loopback address with no secrets; the warnings to print at start."""
    warnings = []
    if not is_loopback(host):
        if len(secrets.missing()) == len(ENV):
            raise UserError(f"refusing to listen on {_where(host)} with no secrets: anyone could write to the store. "
                            f"Set {', '.join(ENV.values())} (or [server] in fireline.toml), or listen on 127.0.0.1",
                            where="--host")
        if not read_token(config.server):
            warnings.append(f"the dashboard is off on {host or 'every interface'}: set {READ_ENV} (or [server] "
                            "read_token) to let people read it with that token")
    else:
        unsigned = {source: ENV[name] for source, name in SECRET_OF.items() if not secrets.values[name]}
        if unsigned:
            routes = ", ".join("/events" if s == "events" else f"/webhooks/{s}" for s in unsigned)
            warnings.append(f"unsigned deliveries are accepted on {routes}: no secret is set for them, so anything "
                            f"that can reach {host} can write events (set {', '.join(sorted(set(unsigned.values())))})")
    return warnings


def uvicorn_options(config: Config) -> dict[str, Any]:
    """What every `fireline serve` process runs with: a header deadline, bounded connections and
    headers, and an access log without tokens."""
    return {"http": HeaderDeadlineProtocol, "timeout_keep_alive": config.server.header_timeout_seconds,
            "limit_concurrency": MAX_CONNECTIONS, "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
            "log_config": log_config(), "log_level": "info", "server_header": False}


def run(*, host: str, port: int, workers: int, db: str | None, config_path: Path | None) -> None:
    config = load_config(config_path)
    secrets = Secrets.load(config.server)
    warnings = check_host(host, secrets, config)
    url = resolve_url(db, config.store_url())
    if (path := addresses.duckdb_path(url)) is not None:
        url = str(path)  # commands sent by CLIs run in their own folders (remote.py)
    other = addresses.other_server(url)
    if other is not None and other.store != str(addresses.duckdb_path(url)):
        raise UserError(f"another fireline serve (pid {other.pid}, store {other.store}) keeps its address in this "
                        "folder: give each served DuckDB store a folder of its own", where=url)
    store = Store.open(url)  # creates the schema once, and fails early on a bad URL
    kind = store.kind
    store.close()
    if workers < 1:
        raise UserError("must be at least 1", where="--workers")
    if workers > 1 and kind != "postgres":
        raise UserError("several workers need a PostgreSQL store: an embedded DuckDB file has one writer",
                        where="--workers")
    from ..views.terminal import console

    for warning in warnings:
        console(stderr=True).print(f"[yellow]warning:[/] {warning}")
    options = uvicorn_options(config)
    if workers > 1:
        # Each worker process builds its own app from the environment, and dies with this process.
        os.environ["FIRELINE_DB"] = url
        os.environ["FIRELINE_SERVE_HOST"] = host
        os.environ[PARENT_ENV] = str(os.getpid())
        if config_path:
            os.environ["FIRELINE_CONFIG"] = str(config_path)
        uvicorn.run("fireline.server.serve:app_from_env", factory=True, host=host, port=port, workers=workers,
                    **options)
        return
    token = addresses.Address.new("", url).token
    app = create_app(lambda: Store.open(url), config, host=host, secrets=secrets,
                     allowed_hosts=allowed_hosts(config.server.allowed_hosts, host), cli_token=token)
    server = AddressedServer(uvicorn.Config(app, host=host, port=port, **options), url, token)
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's own exit code when it cannot start (the port is taken)


class AddressedServer(uvicorn.Server):
    """uvicorn's server that leaves its address beside a DuckDB store once it listens (address.py), and
    removes it when it stops, after the last batch is committed and the store closed: a CLI that then
    finds no address opens the store itself."""

    def __init__(self, config: uvicorn.Config, store_url: str, token: str) -> None:
        super().__init__(config)
        self.file = addresses.file_for(store_url)
        self.store = addresses.duckdb_path(store_url)
        self.token = token

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets)
        if not self.started or self.file is None or self.store is None:
            return
        port = self.servers[0].sockets[0].getsockname()[1] if self.servers else self.config.port
        address = addresses.Address.new(addresses.client_url(self.config.host, port), str(self.store))
        addresses.write(self.file, addresses.Address(**{**address.__dict__, "token": self.token}))

    async def shutdown(self, sockets: list | None = None) -> None:
        try:
            await super().shutdown(sockets)
        finally:
            if self.file is not None:
                addresses.remove(self.file, os.getpid())


def die_with_parent(parent: int) -> None:
    """Make this worker process end when its supervisor does, even by SIGKILL: otherwise the workers
    keep the port and the store, and the next start fails with "Address already in use"."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGTERM when the parent exits
    else:  # elsewhere, a watchdog notices the parent is gone
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="fireline-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def app_from_env():
    parent = os.environ.get(PARENT_ENV)
    if parent and parent.isdigit():
        die_with_parent(int(parent))
    config = load_config()
    url = resolve_url(None, config.store_url())
    host = os.environ.get("FIRELINE_SERVE_HOST", "127.0.0.1")
    return create_app(lambda: Store.open(url), config, host=host,
                      allowed_hosts=allowed_hosts(config.server.allowed_hosts, host))
