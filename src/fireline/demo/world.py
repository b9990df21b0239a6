"""The deterministic demo organisation from the talk: four teams, six months of history.

``build_world(root)`` writes real git repositories, a deployments file, an incidents
file and a ``fireline.toml``. Dates, names and the random seed are fixed, so every
build is byte-for-byte identical (commit shas included) whatever today's date is.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .alerts import write_alert_history
from .dates import LON, NYC, PRIYA_MOVES, WINDOW_END, WINDOW_START
from .fastimport import GitRepo, clean_git_env
from .incidents import TALK_INCIDENT, TALK_INCIDENT_TITLE, story_incidents
from .parts import PARTS
from .people import PEOPLE
from .repos import REPOS
from .repos.building_blocks import Deploy
from .workshop import Workshop

SEED = 20260505


@dataclass(frozen=True)
class World:
    """What ``build_world`` wrote. ``notable`` names the story's commits and deploys, e.g.
    ``"INC-0042/cause"``, ``"pricing-engine/act365-pick"``, ``"web-ui/revert:lazy-charts"``,
    ``"deploy/export-bad"`` -> a full sha or a deployment id."""

    root: Path
    repos: dict[str, Path]
    deployments_file: Path
    incidents_file: Path
    config_file: Path
    window_start: datetime
    window_end: datetime
    notable: dict[str, str] = field(default_factory=dict)  # story name -> sha or id
    alerts_file: Path | None = None  # alert history (NDJSON); none for the purger, as in the talk


def _stamp(when: datetime, zone: str) -> str:
    # Deploy tools and incident trackers write local time with an offset; UTC as "Z".
    return when.astimezone(ZoneInfo(zone)).isoformat().replace("+00:00", "Z")


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _config() -> str:
    people = "\n".join(
        f'"{p.name}" = {{ email = "{p.email}", team = "{p.team}", timezone = "{p.tz}" }}'
        for p in PEOPLE.values())
    return _core_config(people) + "".join(part.CONFIG_TOML for part in PARTS)


def _core_config(people: str) -> str:
    return f"""# Fireline demo organisation
timezone = "Europe/London"
production_environments = ["production"]
profile = "seed"

[teams.SRE]
services = ["platform-infra"]
[teams.Data]
services = ["purger", "export-pipeline"]
[teams.UI]
services = ["web-ui"]
[teams."C++"]
services = ["pricing-engine"]

[services.platform-infra]
repo = "repos/platform-infra"
deploy_tags = "v*"
[services.purger]
repo = "repos/data-platform"
paths = ["purger/**"]
[services.export-pipeline]
repo = "repos/data-platform"
paths = ["export/**"]
[services.web-ui]
repo = "repos/web-ui"
deploy_tags = "release-*"
[services.pricing-engine]
repo = "repos/pricing-engine"

# Priya Raman wrote the purger job in team Data and moved to team UI on {PRIYA_MOVES}.
[people]
{people}
"""


def build_world(root: Path) -> World:
    """Build the demo organisation under ``root`` (created; must be absent or empty)."""
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} already exists and is not empty")
    root.mkdir(parents=True, exist_ok=True)
    deploys: list[Deploy] = []
    shas: dict[str, dict[int, str]] = {}
    notable: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="fireline-demo-home-") as home:
        env = clean_git_env(home)
        for seed, (name, plan) in enumerate(REPOS.items(), SEED):
            shop = Workshop(GitRepo(root / "repos" / name, env), seed)
            plan(shop, deploys)
            shop.run()
            shas[name] = shop.git.finish()
            notable.update({f"{name}/{key}": shas[name][m] for key, m in shop.marks.items()})

    deploys.sort(key=lambda d: (d.when, d.service, d.environment, d.status))
    deploy_ids = {d.key: f"dep-{i:04d}" for i, d in enumerate(deploys, 1) if d.key}
    notable.update({f"deploy/{k}": v for k, v in deploy_ids.items()})
    deployments_file = root / "deployments.csv"
    deployments_file.write_text(_csv(
        ["id", "time", "service", "environment", "sha", "status", "type"],
        [[f"dep-{i:04d}", _stamp(d.when, d.zone), d.service, d.environment,
          shas[d.repo][d.mark], d.status, d.kind] for i, d in enumerate(deploys, 1)]))

    incidents = sorted(story_incidents(), key=lambda i: i.started)
    first = 42 - next(n for n, i in enumerate(incidents) if i.title == TALK_INCIDENT_TITLE)
    rows = []
    for number, inc in enumerate(incidents, first):
        zone = NYC if inc.service == "pricing-engine" else LON
        cause = ""
        if inc.cause and inc.cause[0] == "deploy":
            cause = deploy_ids[inc.cause[1]]
        elif inc.cause:
            cause = notable[f"{inc.cause[0]}/{inc.cause[1]}"]
        times = (inc.started, inc.started + inc.detect, inc.started + inc.restore)
        rows.append([f"INC-{number:04d}", inc.service, inc.title,
                     *(_stamp(t, zone) for t in times), inc.severity, inc.detected_by, cause])
    incidents_file = root / "incidents.csv"
    incidents_file.write_text(_csv(["id", "service", "title", "started", "detected", "resolved",
                                    "severity", "detected_by", "cause"], rows))
    notable[f"{TALK_INCIDENT}/cause"] = notable["data-platform/purger-silent"]
    config_file = root / "fireline.toml"
    config_file.write_text(_config())
    alerts_file = write_alert_history(root, SEED)
    for part in PARTS:
        part.build(root)
    return World(root, {name: root / "repos" / name for name in REPOS}, deployments_file,
                 incidents_file, config_file, WINDOW_START, WINDOW_END, notable, alerts_file)
