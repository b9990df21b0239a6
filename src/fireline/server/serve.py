"""Start the intake server: checks that refuse an unsafe or impossible start, then uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from ..config import load_config
from ..errors import UserError
from ..store import Store, resolve_url
from .app import create_app
from .auth import ENV, READ_ENV, Secrets, is_loopback, read_token


def run(*, host: str, port: int, workers: int, db: str | None, config_path: Path | None) -> None:
    config = load_config(config_path)
    secrets = Secrets.load(config.server)
    if not is_loopback(host) and len(secrets.missing()) == len(ENV):
        raise UserError(f"refusing to listen on {host} with no secrets: anyone could write to the store. Set "
                        f"{', '.join(ENV.values())} (or [server] in fireline.toml), or listen on 127.0.0.1",
                        where="--host")
    if not is_loopback(host) and not read_token(config.server):
        from ..views.terminal import console

        console(stderr=True).print(f"[yellow]warning:[/] the dashboard is off on {host}: set {READ_ENV} (or [server] "
                                   "read_token) to let people read it with that token")
    url = resolve_url(db)
    store = Store.open(url)  # creates the schema once, and fails early on a bad URL
    kind = store.kind
    store.close()
    if workers < 1:
        raise UserError("must be at least 1", where="--workers")
    if workers > 1 and kind != "postgres":
        raise UserError("several workers need a PostgreSQL store: an embedded DuckDB file has one writer",
                        where="--workers")
    if workers > 1:
        # Each worker process builds its own app from the environment.
        os.environ["FIRELINE_DB"] = url
        os.environ["FIRELINE_SERVE_HOST"] = host
        if config_path:
            os.environ["FIRELINE_CONFIG"] = str(config_path)
        uvicorn.run("fireline.server.serve:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="info")
        return
    app = create_app(lambda: Store.open(url), config, host=host, secrets=secrets)
    uvicorn.run(app, host=host, port=port, log_level="info")


def app_from_env():
    config = load_config()
    url = resolve_url(None)
    return create_app(lambda: Store.open(url), config, host=os.environ.get("FIRELINE_SERVE_HOST", "127.0.0.1"))
