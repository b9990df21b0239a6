"""`fireline serve` sends what `[notify.<name>]` has due: the scheduler runs as one of the server's jobs."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from fireline.app.settings import load_config
from fireline.server.app import create_app
from fireline.store import Store

from .notify_support import notify_world, start_receiver


def _job(app) -> dict:
    return app.state.jobs.status().get("notify", {})


def test_the_server_runs_the_notification_scheduler_on_its_store(demo_org, tmp_path, monkeypatch):
    found, receiver = start_receiver()
    try:
        monkeypatch.setenv("FL_HOOK_URL", found.url)
        db, config_path = notify_world(demo_org.directory, tmp_path, '[notify.chat]\nkind = "webhook"\n'
                                       'url_env = "FL_HOOK_URL"\nteams = ["Data"]\n')
        config = load_config(config_path)
        store = Store.open(db)
        app = create_app(lambda: store, config, normaliser=False)
        with TestClient(app):
            deadline = time.monotonic() + 120
            while not _job(app).get("runs") and time.monotonic() < deadline:
                time.sleep(0.2)
            job = _job(app)
        assert job["runs"] >= 1, job
        assert job["last_error"] is None and job["last_success"] is not None, job
        store.close()
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_without_channels_no_notification_job_is_registered(store):
    from fireline.config import Config

    app = create_app(lambda: store, Config(), normaliser=False)
    with TestClient(app):
        assert "notify" not in app.state.jobs.status()
