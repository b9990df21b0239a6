"""A long history is written in batches inside one transaction: all of it or none of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fireline import ingest
from fireline.config import Config
from fireline.sources import git

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


def test_history_longer_than_a_batch_is_stored_whole(store, repo, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH_COMMITS", 3)
    for i in range(7):
        repo.commit(f"change {i}", T0 + timedelta(hours=i))
    result = ingest.ingest_git(store, Config(), repo.path, service="svc")
    assert result.new_changes == 7
    assert store.count("changes") == 7 and store.count("change_files") == 7


def test_a_failure_after_some_batches_leaves_the_store_as_it_was(store, repo, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH_COMMITS", 2)
    for i in range(6):
        repo.commit(f"change {i}", T0 + timedelta(hours=i))
    real = git.iter_changes

    def dies_midway(*args, **kwargs):
        for n, change in enumerate(real(*args, **kwargs)):
            if n == 5:
                raise OSError("disk full")  # the talk's favourite failure
            yield change

    monkeypatch.setattr(git, "iter_changes", dies_midway)
    with pytest.raises(OSError):
        ingest.ingest_git(store, Config(), repo.path, service="svc")
    assert store.count("changes") == 0 and store.count("repos") == 0
    monkeypatch.setattr(git, "iter_changes", real)
    assert ingest.ingest_git(store, Config(), repo.path, service="svc").new_changes == 6
