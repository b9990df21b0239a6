"""`fireline demo`: build the demo organisation, ingest it, and summarise it.

The world itself (repositories, deployments, incidents, config) comes from
world.py; this module runs it through the same pipeline a user would.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..config import load_config
from ..errors import UserError
from ..ingest import ingest_alerts, ingest_deployments, ingest_git, ingest_incidents
from ..metrics.scope import Scope
from ..metrics.summary import Summary, summarise
from ..metrics.tiers import get_profile
from ..store import Store
from .parts import PARTS
from .world import World, build_world

MARKER = ".fireline-demo"


@dataclass
class DemoResult:
    directory: Path
    db: Path
    summary: Summary
    hints: list[str]
    world: World | None = None  # what build_world wrote, with the story's notable shas and ids


def _prepare(directory: Path) -> None:
    """Rebuild from scratch, but never delete a folder that is not an earlier demo."""
    if directory.exists():
        if not directory.is_dir():
            raise UserError("exists and is not a directory", where=str(directory))
        if any(directory.iterdir()) and not (directory / MARKER).exists():
            raise UserError("not empty and not an earlier demo; choose another --dir", where=str(directory))
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("Built by `fireline demo`; deleted and rebuilt on every run.\n")


# The world's config reads its paths from world/; the root's reads the same files from the demo folder.
_ROOT_PATHS = (('repo = "repos/', 'repo = "world/repos/'), ('folder = "postmortems"', 'folder = "world/postmortems"'),
               ('pto_calendars = ["pto.ics"]', 'pto_calendars = ["world/pto.ics"]'))


def write_root_config(directory: Path, world: World) -> Path:
    """`<demo>/fireline.toml`: the world's config with the store and the as-of time (`db`, `at`)."""
    text = world.config_file.read_text()
    for old, new in _ROOT_PATHS:
        if old not in text:
            raise AssertionError(f"the demo config no longer has {old!r}: update _ROOT_PATHS")
        text = text.replace(old, new)
    head = (f'# Built by `fireline demo`: run any command from this folder.\n'
            f'db = "fireline.duckdb"\nat = "{world.window_end:%Y-%m-%dT%H:%MZ}"\n')
    path = directory / "fireline.toml"
    path.write_text(head + text)
    return path


def _short(path: Path) -> str:
    """A path relative to the working directory when it is inside it: shorter hints to copy."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run(directory: Path) -> DemoResult:

    directory = directory.resolve()
    _prepare(directory)
    world = build_world(directory / "world")
    config = load_config(world.config_file)
    db = directory / "fireline.duckdb"
    store = Store.open(str(db))
    try:
        for path in sorted({p for p in (config.repo_path(s) for s in config.services) if p is not None}):
            ingest_git(store, config, path)
        ingest_deployments(store, config, world.deployments_file)
        ingest_incidents(store, config, world.incidents_file)
        if world.alerts_file:
            ingest_alerts(store, config, world.alerts_file)
        for part in PARTS:
            part.ingest(store, config, world.root)
        scope = Scope(since=world.window_start, until=world.window_end,
                      production=tuple(config.production_environments), time_basis=config.time_basis)
        services = sorted(config.services)
        summary = summarise(store.tables(), scope, get_profile(config.profile),
                            team_of=config.service_team_map(services), group_sets=(("team",), ("team", "service")))
    finally:
        store.close()
    write_root_config(directory, world)
    # The root config names the store and the story's last instant as "now": from the demo folder every
    # command works without flags, and the window below reproduces the table above to the hour.
    window = f"--since {world.window_start:%Y-%m-%d}"
    hints = [
        f"Demo organisation built in {_short(directory)} (store: fireline.duckdb, config: fireline.toml, "
        f"as of {world.window_end:%Y-%m-%d %H:%M} UTC).",
        f"Explore it (with the virtual environment active: . .venv/bin/activate), from cd {_short(directory)}:",
        f"  fireline dora {window} --team Data",
        f"  fireline dora {window} --by month",
        f"  fireline explain time-to-restore {window} --service purger",
        f"  fireline explain lead-time {window} --team C++",
        f"  fireline dora {window} --profile dora-2024 --json",
        f"  fireline alerts report {window}",
    ]
    for part in PARTS:
        hints += part.hints(window)
    return DemoResult(directory, db, summary, hints, world)
