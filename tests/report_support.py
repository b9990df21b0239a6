"""What the report, dashboard and browser tests share: the session's demo organisation with its
`fireline dora --json`, a small two-team store, and a parser for the figures a page shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from fireline.config import Config, TeamConfig
from fireline.ingest import ingest_deployments, ingest_incidents
from fireline.store import Store

WINDOW = ["--since", "2026-01-05T00:00Z", "--until", "2026-07-05T00:00Z"]
FIRELINE = [sys.executable, "-m", "fireline.cli"]


@dataclass
class Demo:
    dir: Path
    db: Path
    config: Path
    report: Path
    dora: dict  # `fireline dora --json` over the demo window
    dora_data: dict  # the same, --team Data


_BUILT: dict[str, Demo] = {}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    for name in ("FIRELINE_DB", "FIRELINE_CONFIG", "FIRELINE_READ_TOKEN"):
        env.pop(name, None)
    return subprocess.run([*FIRELINE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def demo(demo_org) -> Demo:
    """The session's demo organisation (conftest `demo_org`) with its `fireline dora --json`, run
    once per test process however many modules ask for it."""
    if "demo" not in _BUILT:
        result = demo_org
        db, config = result.db, result.directory / "world" / "fireline.toml"

        def dora(*extra: str) -> dict:
            run_ = cli("dora", "--db", str(db), "--config", str(config), *WINDOW, *extra, "--json")
            assert run_.returncode == 0, run_.stderr
            return json.loads(run_.stdout)

        _BUILT["demo"] = Demo(result.directory, db, config, result.directory / "report.html", dora(),
                              dora("--team", "Data"))
    return _BUILT["demo"]


class FigureParser(HTMLParser):
    """data-metric/data-value pairs per DORA table row (data-key), and every link target."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, float | None]] = {}
        self.links: list[str] = []
        self.external: list[str] = []
        self._key: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr":
            self._key = a.get("data-key")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        for name in ("src", "href", "action", "xlink:href"):
            value = (a.get(name) or "").strip().lower()
            if value.startswith(("http:", "https:", "//")):
                self.external.append(value)
        if self._key and a.get("data-metric"):
            value = a.get("data-value")
            self.rows.setdefault(self._key, {})[a["data-metric"]] = float(value) if value else None


def figures(html: str) -> FigureParser:
    parser = FigureParser()
    parser.feed(html)
    return parser


def expected_rows(dora: dict) -> dict[str, dict[str, float | None]]:
    """`fireline dora --json` keyed the way the page keys its table rows."""
    rows = {"all": {m: v["value"] for m, v in dora["overall"].items()}}
    for group in dora["groups"]:
        key = f"service:{group['service']}" if group.get("service") else f"team:{group['team']}"
        rows[key] = {m: group[m]["value"] for m in dora["overall"]}
    return rows


def small_store(store: Store, tmp_path: Path) -> Config:
    """Two teams, a handful of deployments and incidents: enough for every DORA figure."""
    config = Config(timezone="UTC", teams={"Red": TeamConfig(services=["api"]), "Blue": TeamConfig(services=["web"])})
    deployments = tmp_path / "deployments.csv"
    lines = ["id,time,service,environment,sha,status,type"]
    for day in range(1, 29):
        lines.append(f"api-{day},2026-03-{day:02d}T10:00:00Z,api,production,{day:040x},success,")
        if day % 7 == 0:
            lines.append(f"web-{day},2026-03-{day:02d}T11:00:00Z,web,production,{day + 100:040x},success,"
                         f"{'hotfix' if day == 14 else ''}")
    deployments.write_text("\n".join(lines) + "\n")
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "id,service,title,started,detected,resolved,severity,detected_by,cause\n"
        "INC-1,api,Timeouts,2026-03-05T12:00:00Z,2026-03-05T12:10:00Z,2026-03-05T13:00:00Z,SEV2,monitoring,\n"
        "INC-2,web,Blank page,2026-03-15T12:00:00Z,2026-03-15T14:00:00Z,2026-03-15T18:00:00Z,SEV2,customer,\n")
    ingest_deployments(store, config, deployments)
    ingest_incidents(store, config, incidents)
    return config
