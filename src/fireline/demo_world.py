"""The deterministic demo organisation from the talk: four teams, six months of history.

``build_world(root)`` writes real git repositories, a deployments file, an incidents
file and a ``fireline.toml``. Dates, names and the random seed are fixed, so every
build is byte-for-byte identical (commit shas included) whatever today's date is.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fireline.demo_history import (
    UTC,
    Area,
    GitRepo,
    Person,
    Workshop,
    clean_git_env,
    pull_requests,
    random_work,
    wall_clock,
)

WINDOW_START = datetime(2026, 1, 5, tzinfo=UTC)
WINDOW_END = datetime(2026, 7, 5, tzinfo=UTC)
SEED = 20260505
LON, NYC, KOL, TYO = "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"
FIRST_WORK, LAST_WORK = date(2026, 1, 6), date(2026, 7, 4)  # the repos start on 5 January
PRIYA_MOVES = date(2026, 5, 1)  # month 4: the purger's only author joins team UI


def _person(key: str, name: str, team: str, tz: str) -> Person:
    return Person(key, name, f"{name.lower().replace(' ', '.')}@example.com", team, tz)


PEOPLE = {p.key: p for p in (
    _person("hannah", "Hannah Clarke", "SRE", LON),
    _person("marcus", "Marcus Webb", "SRE", NYC),
    _person("arjun", "Arjun Mehta", "SRE", KOL),
    _person("priya", "Priya Raman", "UI", KOL),  # Data until PRIYA_MOVES
    _person("tom", "Tom Fletcher", "Data", LON),
    _person("sofia", "Sofia Alvarez", "Data", NYC),
    _person("kenji", "Kenji Watanabe", "UI", TYO),
    _person("emily", "Emily Chen", "UI", NYC),
    _person("oliver", "Oliver Bennett", "UI", LON),
    _person("yuki", "Yuki Tanaka", "C++", TYO),
    _person("daniel", "Daniel Novak", "C++", LON),
    _person("rachel", "Rachel Goldberg", "C++", NYC),
)}
P = PEOPLE
GITHUB = Person("github", "GitHub", "noreply@github.com", "", "UTC")


def team_on(person: Person, day: date) -> str:
    return "Data" if person.key == "priya" and day < PRIYA_MOVES else person.team


def members(team: str) -> Callable[[date], list[Person]]:
    return lambda day: [p for p in PEOPLE.values() if team_on(p, day) == team]


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


@dataclass
class Deploy:
    when: datetime
    zone: str  # the clock the deploy tool writes its timestamps in
    service: str
    repo: str
    mark: int
    environment: str = "production"
    status: str = "success"
    kind: str = ""
    key: str = ""


def _pairs(template: str, test: str | None, names: str) -> tuple[tuple[str, str | None], ...]:
    """(source, test) paths; tests are named after the source's base name."""
    return tuple((template.format(n), test.format(n.rsplit("/", 1)[-1]) if test else None)
                 for n in names.split())


def _initial(shop: Workshop, author: Person, areas: list[Area], extra: dict[str, str]) -> None:
    files = {path: shop.new_file(path) for a in areas for pair in a.pairs for path in pair if path}
    files.update(extra)
    when = wall_clock(WINDOW_START.date(), 10, 0, author.tz)
    shop.at(when, lambda: shop.git.commit("main", author, when, "Initial import\n", files))


def _scripted(shop: Workshop, key: str, who: Person, when: datetime, msg: str,
              paths: list[str], extra: dict[str, list[str] | tuple[str, str]] | None = None
              ) -> None:
    """A commit the story needs: ``paths`` get random edits; ``extra`` appends lines to a
    file (a list) or replaces text in it (an (old, new) pair)."""
    def act() -> None:
        changes: dict[str, str | None] = dict(shop.edited("main", paths))
        for path, edit in (extra or {}).items():
            old = shop.git.files["main"].get(path) or shop.new_file(path, 2)
            if isinstance(edit, tuple):
                if edit[0] not in old:  # the story relies on this exact code being there
                    raise RuntimeError(f"{path} lost the lines {key} rewrites")
                changes[path] = old.replace(*edit)
            else:
                changes[path] = old + "\n".join(edit) + "\n"
        shop.marks[key] = shop.git.commit("main", who, when, msg, changes)
    shop.at(when, act)


# --- team SRE: annotated v-tags several times a week, hours of lead time ------------

def _platform_infra(shop: Workshop, deploys: list[Deploy]) -> None:
    areas = [
        Area(_pairs("terraform/{}.tf", "tests/terraform/{}.tftest.hcl",
                    "network compute dns storage iam"),
             ("VPC peering|NAT gateway routes|subnet layout",
              "instance sizes|autoscaling group|export host volume",
              "internal DNS zone|DNS records for batch hosts",
              "S3 lifecycle rule|backup bucket policy",
              "instance profile|CI deploy role|bastion access policy"), 3),
        Area(_pairs("ansible/roles/{}/tasks/main.yml", "ansible/roles/{}/molecule/verify.yml",
                    "nginx node_exporter disk ntp"),
             ("nginx worker limits|nginx TLS settings",
              "node exporter role|node exporter collectors",
              "disk mount options|log volume layout", "NTP settings|chrony pool"), 2),
        Area(_pairs("scripts/{}.sh", None, "rotate_logs backup bootstrap"),
             ("log rotation script", "backup retention|backup verification",
              "bootstrap script|host bootstrap checks"), 1),
        Area(_pairs("monitoring/{}.yml", None, "host_alerts scrape_config"),
             ("host alerts|CPU alert thresholds", "scrape intervals|scrape targets"), 1),
    ]
    ingress = "ansible/roles/ingress/defaults/main.yml"
    _initial(shop, P["hannah"], areas, {ingress: "ingress_nginx_version: 1.9.6\n"})
    random_work(shop, 392, areas, members("SRE"), FIRST_WORK, LAST_WORK)
    last = {"tip": -1, "count": 0}  # tips are marks; -1 = nothing tagged yet

    def tag(tagger: Person, when: datetime, note: str = "") -> None:
        def act() -> None:
            tip = shop.git.tips.get("main", -1)
            if tip == last["tip"]:
                return  # nothing new to ship (or nothing at all yet)
            name = f"v1.0.{last['count']}"
            last["tip"], last["count"] = tip, last["count"] + 1
            body = f"Release {name}\n" + (f"\n{note}\n" if note else "")
            shop.git.annotated_tag(name, tip, tagger, when, body)
        shop.at(when, act)

    day = WINDOW_START.date()
    while day < LAST_WORK:
        if day.weekday() < 5 and shop.rng.random() < 0.75:
            if day.isocalendar().week % 2:
                tag(P["hannah"], wall_clock(day, 16, shop.rng.randrange(60), LON))
            else:
                tag(P["marcus"], wall_clock(day, 11, shop.rng.randrange(60), NYC))
        day += timedelta(days=1)
    subject = "Upgrade nginx ingress controller to 1.10"
    bad = wall_clock(date(2026, 2, 10), 10, 5, LON)
    before: dict[str, str | None] = {}

    def upgrade() -> None:
        before[ingress] = shop.git.files["main"][ingress]
        shop.marks["nginx"] = shop.git.commit("main", P["hannah"], bad, subject + "\n",
                                              {ingress: "ingress_nginx_version: 1.10.0\n"})
    shop.at(bad, upgrade)
    tag(P["hannah"], wall_clock(date(2026, 2, 10), 11, 0, LON))
    reverted = wall_clock(date(2026, 2, 10), 11, 48, LON)
    shop.at(reverted, lambda: shop.revert(P["hannah"], reverted, "nginx", subject, before))
    tag(P["hannah"], wall_clock(date(2026, 2, 10), 11, 52, LON), "Hotfix: revert the ingress")
    _scripted(shop, "dns-hotfix", P["arjun"], wall_clock(date(2026, 4, 21), 18, 46, KOL),
              "hotfix: restore internal DNS TTL to 300s", ["terraform/dns.tf"])
    tag(P["hannah"], wall_clock(date(2026, 4, 21), 14, 22, LON), "Hotfix: DNS TTL")
    _scripted(shop, "disk-alert", P["hannah"], wall_clock(date(2026, 5, 18), 11, 10, LON),
              "Add disk usage alert at 85% for export hosts\n\nAction item from INC-0042.",
              [], {"monitoring/disk_alerts.yml": [
                  "- alert: ExportHostDiskAlmostFull",
                  "  expr: disk_used_ratio{role=\"export\"} > 0.85",
                  "  annotations: { runbook: runbooks/disk-full.md }"]})
    _scripted(shop, "runbook", P["marcus"], wall_clock(date(2026, 5, 19), 10, 30, NYC),
              "docs: update runbook for a full disk on export hosts", [],
              {"runbooks/disk-full.md": ["1. Check the purger job's last exit code.",
                                         "2. Free space: purge files older than the window."]})


# --- team Data: a monorepo, weekly deploys from the deployments file -----------------

SWALLOW = ("        except OSError:\n"
           "            continue  # one unreadable file should not stop the purge\n")
PURGE_SILENT = ["def purge(paths):", "    for path in paths:", "        try:",
                "            path.unlink()", SWALLOW.rstrip("\n")]
PURGE_LOUD = ("        except OSError as exc:\n"
              "            log.error('purge failed for %s: %s', path, exc)\n"
              "            raise SystemExit(1) from exc  # an alert beats a full disk\n")


def _data_platform(shop: Workshop, deploys: list[Deploy]) -> None:
    purger = Area((*_pairs("purger/{}.py", "purger/tests/test_{}.py", "purge retention"),
                   ("purger/config.yaml", None)),
                  ("purge batch size|disk scan|dry-run mode", "retention window|file age filter",
                   "purger schedule|purge paths"), owner=P["priya"], until=date(2026, 4, 25))
    export = Area((*_pairs("export/{}.py", "export/tests/test_{}.py", "pipeline transforms sinks"),
                   ("export/schema.py", None)),
                  ("export manifest|late-arriving rows|pipeline backfill",
                   "currency transforms|partition pruning|row deduplication",
                   "parquet writer|S3 sink retries", "schema evolution|export schema"))
    common = Area((*_pairs("common/{}.py", "common/tests/test_{}.py", "storage"),
                   ("common/logging.py", None), ("common/settings.py", None)),
                  ("storage client|storage retries", "structured logging|log context",
                   "settings loader|environment overrides"))
    _initial(shop, P["tom"], [purger, export, common], {})
    random_work(shop, 56, [purger], members("Data"), FIRST_WORK, LAST_WORK)
    random_work(shop, 228, [export], members("Data"), FIRST_WORK, LAST_WORK)
    random_work(shop, 56, [common], members("Data"), FIRST_WORK, LAST_WORK)
    _scripted(shop, "purger-silent", P["priya"], wall_clock(date(2026, 4, 28), 16, 20, KOL),
              "Refactor purge loop to carry on past unreadable files", [],
              {"purger/purge.py": PURGE_SILENT})
    _scripted(shop, "export-hotfix", P["tom"], wall_clock(date(2026, 4, 15), 11, 40, LON),
              "hotfix: export: skip empty partitions instead of crashing", ["export/sinks.py"])
    _scripted(shop, "purger-hotfix", P["tom"], wall_clock(date(2026, 5, 17), 11, 20, LON),
              "hotfix: purger: exit non-zero when a delete fails\n\nA failed delete was "
              "skipped silently, so the export host filled up.\n\nRefs: INC-0042",
              [], {"purger/purge.py": (SWALLOW, PURGE_LOUD), "purger/tests/test_purge.py": [
                  "def test_purge_fails_loudly_when_a_delete_fails() -> None: ..."]})
    _scripted(shop, "airflow", P["tom"], wall_clock(date(2026, 6, 2), 15, 0, LON),
              "Add Airflow DAG for the purger job", ["purger/dags/purger_dag.py",
                                                     "purger/tests/test_dag.py"])
    shipped: dict[str, dict[str, str]] = {}

    def snapshot(prefix: str) -> dict[str, str]:
        return {p: c for p, c in shop.git.files["main"].items() if p.startswith(prefix)}

    def ship(service: str, when: datetime, env: str = "production", kind: str = "",
             key: str = "", fail_first: bool = False) -> None:
        prefix = "purger/" if service == "purger" else "export/"

        def act() -> None:
            if snapshot(prefix) == shipped.get(service):
                return  # the monorepo pipeline only deploys a service whose paths changed
            tip = shop.git.tips["main"]
            if env == "staging":
                deploys.append(Deploy(when, "UTC", service, "data-platform", tip, env))
                return
            if fail_first:
                deploys.append(Deploy(when, LON, service, "data-platform", tip, status="failure"))
            at = when + timedelta(minutes=45 if fail_first else 0)
            deploys.append(Deploy(at, LON, service, "data-platform", tip, kind=kind, key=key))
            shipped[service] = snapshot(prefix)
        shop.at(when, act)

    monday = WINDOW_START.date()
    for _ in range(26):
        for service, weekday, hour in (("purger", 2, 10), ("export-pipeline", 3, 11)):
            day = monday + timedelta(days=weekday)
            forced = day in (date(2026, 4, 29), date(2026, 3, 12))
            if shop.rng.random() < 0.1 and not forced:
                continue  # a skipped week: holidays, a freeze, nobody around
            ship(service, wall_clock(day - timedelta(days=1), 15, 0, "UTC"), "staging")
            fail = day in (date(2026, 2, 19), date(2026, 3, 18))
            key = "export-bad" if day == date(2026, 3, 12) else ""
            ship(service, wall_clock(day, hour, 30, LON), key=key, fail_first=fail)
        monday += timedelta(days=7)
    rollback = wall_clock(date(2026, 3, 12), 15, 20, LON)

    def roll_back() -> None:
        # Back to the export version that ran before this morning's bad deploy.
        shipped_ok = [d for d in deploys if d.service == "export-pipeline"
                      and d.environment == "production" and d.status == "success"]
        deploys.append(Deploy(rollback, LON, "export-pipeline", "data-platform",
                              shipped_ok[-2].mark, kind="rollback"))
    shop.at(rollback, roll_back)
    ship("export-pipeline", wall_clock(date(2026, 4, 15), 12, 30, LON), kind="hotfix")
    ship("purger", wall_clock(date(2026, 5, 17), 13, 5, LON), kind="hotfix")


# --- team UI: PRs with true merges and squashes, lightweight release tags ------------

def _package_json(version: str) -> str:
    scripts = '{ "build": "vite build", "test": "vitest run" }'
    return (f'{{\n  "name": "web-ui",\n  "version": "{version}",\n  "private": true,\n'
            f'  "scripts": {scripts}\n}}\n')


def _web_ui(shop: Workshop, deploys: list[Deploy]) -> None:
    comps = "Header Sidebar PricingGrid ExportPanel DatePicker Dashboard LoginForm Settings"
    areas = [
        Area(_pairs("src/components/{}.tsx", "src/__tests__/{}.test.tsx", comps + " QuoteTicket"),
             ("header user menu|header search", "sidebar navigation|collapsible sidebar",
              "pricing grid filters|pricing grid sorting",
              "export panel progress|export retries",
              "date picker ranges|date picker keyboard support",
              "dashboard layout|dashboard widgets",
              "login form validation|SSO login button", "settings page|dark mode",
              "quote ticket|quote ticket shortcuts"), 3),
        Area(_pairs("src/{}.ts", "src/__tests__/{}.test.ts",
                    "hooks/usePrices hooks/useExports api/client utils/format utils/dates"),
             ("price streaming hook|price subscription cleanup",
              "exports polling|export status hook",
              "API client retries|API auth headers", "price formatting|number formatting",
              "date helpers|relative time labels"), 2),
        Area(_pairs("src/{}.ts", None, "styles/theme config/flags"),
             ("theme tokens|colour contrast", "feature flags|flag defaults"), 1),
    ]
    _initial(shop, P["oliver"], areas, {"package.json": _package_json("2026.1.5")})
    team = members("UI")
    pull_requests(shop, 165, areas, team, FIRST_WORK, WINDOW_END, 0.62, GITHUB)
    random_work(shop, 130, areas, team, FIRST_WORK, LAST_WORK)
    released: dict[str, int] = {"tip": -1}  # a mark; -1 = nothing released yet
    names: set[str] = set()

    def release(captain: Person, when: datetime) -> None:
        def act() -> None:
            if shop.git.tips.get("main", -1) == released["tip"]:
                return  # nothing new to ship (or nothing at all yet)
            local = when.astimezone(ZoneInfo(LON)).date()
            name = f"release-{local:%Y.%m.%d}"
            version = f"{local.year}.{local.month}.{local.day}"
            if name in names:
                name, version = name + ".1", version + "-1"
            msg = f"chore(release): {version}\n"
            bump = {"package.json": _package_json(version)}
            tip = shop.git.commit("main", captain, when, msg, bump)
            shop.git.lightweight_tag(name, tip)
            released["tip"] = tip
            names.add(name)
        shop.at(when, act)

    day = WINDOW_START.date()
    while day < LAST_WORK:
        if day.weekday() < 5 and shop.rng.random() < 0.6:
            rota = [(P["oliver"], 14), (P["emily"], 10), (P["kenji"], 17)]
            if day >= PRIYA_MOVES:
                rota.append((P["priya"], 18))  # she joins the release rota across zones
            captain, hour = rota[day.isocalendar().week % len(rota)]
            release(captain, wall_clock(day, hour, shop.rng.randrange(60), captain.tz))
        day += timedelta(days=1)
    subject = "Add lazy-loaded chart bundle (#401)"
    merged = wall_clock(date(2026, 4, 7), 9, 10, LON)
    chart = {"src/charts/lazyBundle.ts": None, "src/__tests__/lazyBundle.test.ts": None}

    def lazy() -> None:
        files = {p: shop.new_file(p) for p in chart}
        shop.marks["lazy-charts"] = shop.git.commit(
            "main", P["kenji"], wall_clock(date(2026, 4, 6), 17, 40, TYO), subject + "\n", files,
            committer=GITHUB, committed=merged)
    shop.at(merged, lazy)
    release(P["oliver"], wall_clock(date(2026, 4, 7), 14, 30, LON))
    reverted = wall_clock(date(2026, 4, 7), 18, 5, LON)
    shop.at(reverted, lambda: shop.revert(P["oliver"], reverted, "lazy-charts", subject, chart))
    release(P["oliver"], wall_clock(date(2026, 4, 7), 18, 20, LON))
    _scripted(shop, "datepicker-hotfix", P["oliver"], wall_clock(date(2026, 5, 6), 10, 40, LON),
              "hotfix: guard the date picker against a missing locale",
              ["src/components/DatePicker.tsx"])
    release(P["oliver"], wall_clock(date(2026, 5, 6), 11, 0, LON))
    _scripted(shop, "error-wrapper", P["priya"], wall_clock(date(2026, 5, 26), 15, 0, KOL),
              "Refactor third-party error wrapper to stop noisy console errors",
              ["src/utils/errors.ts", "src/__tests__/errors.test.ts"])


# --- team C++: rare deploys, weeks of lead time, a release branch with a cherry-pick --

FIX_LINES = {"src/calendar.cpp": ["double act365(int days) { return days / 365.0; }"],
             "tests/calendar_test.cpp": [
                 "TEST(Calendar, Act365) { EXPECT_DOUBLE_EQ(act365(365), 1.0); }"]}


def _pricing_engine(shop: Workshop, deploys: list[Deploy]) -> None:
    areas = [
        Area((*_pairs("src/{}.cpp", "tests/{}_test.cpp", "pricer curve instrument risk calendar"),
              *_pairs("include/{}.h", None, "pricer curve calendar")),
             ("Black-Scholes greeks|option pricer|quote cache",
              "yield curve bootstrap|curve interpolation",
              "FX forward points|bond accrual|SABR calibration",
              "risk ladder|bucketed vega", "holiday calendars|business-day rolling",
              "pricer interface", "curve interface", "calendar interface"), 4),
        Area(_pairs("{}", None, "src/main.cpp cmake/warnings.cmake docs/build.md"),
             ("quote server entry point", "compiler warnings", "build notes"), 1),
    ]
    cmake = ("cmake_minimum_required(VERSION 3.20)\n"
             "project(pricing_engine VERSION {} LANGUAGES CXX)\n")
    _initial(shop, P["daniel"], areas, {"CMakeLists.txt": cmake.format("2026.1.0")})
    random_work(shop, 245, areas, members("C++"), FIRST_WORK, LAST_WORK)
    _scripted(shop, "daycount", P["yuki"], wall_clock(date(2026, 2, 25), 14, 10, TYO),
              "Refactor day-count conventions into the calendar module",
              ["src/calendar.cpp", "include/calendar.h"])
    branch = "release/2026.03"
    cut = wall_clock(date(2026, 3, 16), 10, 0, NYC)

    def cut_release() -> None:
        shop.git.branch_off(branch, "main")
        shop.marks["release-cut"] = shop.git.commit(
            branch, P["rachel"], cut, "Bump version to 2026.3.0\n",
            {"CMakeLists.txt": cmake.format("2026.3.0")})
    shop.at(cut, cut_release)
    fix_msg = "Fix ACT/365 day-count rounding in accrual calculation\n"
    fixed = wall_clock(date(2026, 3, 23), 10, 15, LON)

    def appended(on: str) -> dict[str, str | None]:
        files = shop.git.files[on]
        return {p: files[p] + "\n".join(lines) + "\n" for p, lines in FIX_LINES.items()}

    def fix() -> None:
        shop.marks["act365-fix"] = shop.git.commit("main", P["daniel"], fixed, fix_msg,
                                                   appended("main"))
    shop.at(fixed, fix)
    picked = wall_clock(date(2026, 3, 25), 9, 30, NYC)

    def cherry_pick() -> None:
        # What `git cherry-pick -x` writes: the original author and time, a new committer.
        msg = f"{fix_msg}\n(cherry picked from commit {shop.git.sha(shop.marks['act365-fix'])})\n"
        shop.marks["act365-pick"] = shop.git.commit(branch, P["daniel"], fixed, msg,
                                                    appended(branch), committer=P["rachel"],
                                                    committed=picked)
    shop.at(picked, cherry_pick)

    def ship(day: date, ref: str = "main", kind: str = "", fail_first: bool = False) -> None:
        when = wall_clock(day, 10, 0, NYC)
        staged = wall_clock(day - timedelta(days=2 if kind == "" else 1), 16, 0, "UTC")
        shop.at(staged, lambda: deploys.append(Deploy(
            staged, "UTC", "pricing-engine", "pricing-engine", shop.git.tips[ref], "staging")))

        def record(at: datetime, status: str = "success") -> None:
            tip = shop.git.tips[ref]
            deploys.append(Deploy(at, NYC, "pricing-engine", "pricing-engine", tip,
                                  status=status, kind=kind if status == "success" else ""))
        if fail_first:  # the first attempt died half way; the team retried the next day
            failed = when - timedelta(days=1)
            shop.at(failed, lambda: record(failed, "failure"))
        shop.at(when, lambda: record(when))

    for day in (date(2026, 1, 14), date(2026, 2, 11), date(2026, 4, 22), date(2026, 6, 24)):
        ship(day)
    ship(date(2026, 3, 18), branch)
    ship(date(2026, 3, 26), branch, "hotfix")
    ship(date(2026, 5, 27), fail_first=True)


# --- incidents: minutes for SRE, hours for UI and Data, days for C++ -----------------

@dataclass(frozen=True)
class _Incident:
    service: str
    title: str
    started: datetime
    detect: timedelta
    restore: timedelta
    severity: str
    detected_by: str
    cause: tuple[str, str] | None = None  # (repo, notable commit) or ("deploy", key)


def _incidents() -> list[_Incident]:
    def inc(service: str, title: str, when: tuple[int, int, int, int, int], detect_min: int,
            restore_min: int, severity: str, by: str, cause: tuple[str, str] | None = None
            ) -> _Incident:
        zone = NYC if service == "pricing-engine" else LON
        started = wall_clock(date(*when[:3]), when[3], when[4], zone)
        return _Incident(service, title, started, timedelta(minutes=detect_min),
                         timedelta(minutes=restore_min), severity, by, cause)

    hour, day = 60, 24 * 60
    return [
        inc("platform-infra", "Load balancer health checks flapping after TLS certificate "
            "rotation", (2026, 1, 27, 14, 20), 3, 18, "SEV3", "monitoring"),
        inc("platform-infra", "Ingress returns 502 for all internal services",
            (2026, 2, 10, 11, 30), 4, 33, "SEV2", "monitoring", ("platform-infra", "nginx")),
        inc("platform-infra", "Internal DNS resolution failing for batch hosts",
            (2026, 4, 21, 14, 5), 2, 25, "SEV2", "monitoring"),
        inc("platform-infra", "Prometheus stopped scraping node exporters",
            (2026, 6, 2, 9, 40), 6, 47, "SEV3", "monitoring"),
        inc("web-ui", "Login spinner never stops on Safari", (2026, 1, 22, 13, 10), 25,
            hour + 40, "SEV3", "customer"),
        inc("web-ui", "Dashboard charts show stale prices", (2026, 2, 17, 10, 5), 70,
            4 * hour + 15, "SEV2", "customer"),
        inc("web-ui", "Third-party analytics errors flood the error tracker",
            (2026, 3, 3, 16, 30), 10, 2 * hour + 50, "SEV3", "monitoring"),
        inc("web-ui", "Blank dashboard after the chart bundle release", (2026, 4, 7, 15, 5),
            2 * hour + 35, 3 * hour + 35, "SEV2", "customer", ("web-ui", "lazy-charts")),
        inc("web-ui", "Date picker crashes for users without a locale", (2026, 5, 6, 9, 20), 6,
            2 * hour + 30, "SEV2", "monitoring"),
        inc("web-ui", "Export download button disabled for large reports",
            (2026, 6, 16, 11, 15), 110, 5 * hour + 20, "SEV3", "customer"),
        inc("export-pipeline", "Nightly export missed the 06:00 SLA", (2026, 1, 29, 6, 10), 35,
            3 * hour + 5, "SEV3", "monitoring"),
        inc("export-pipeline", "Export pipeline writes duplicate rows after deploy",
            (2026, 3, 12, 14, 10), 20, hour + 25, "SEV2", "monitoring", ("deploy", "export-bad")),
        inc("export-pipeline", "Export crashes on empty partitions", (2026, 4, 15, 7, 30), 90,
            5 * hour + 50, "SEV2", "customer"),
        inc("export-pipeline", "Schema change broke downstream parquet readers",
            (2026, 6, 18, 8, 45), 190, 9 * hour, "SEV2", "customer"),
        inc("purger", "Purger job overran its schedule and delayed the nightly export",
            (2026, 2, 24, 3, 15), 50, 2 * hour + 10, "SEV3", "monitoring"),
        inc("purger", TALK_INCIDENT_TITLE, (2026, 5, 16, 1, 40), 7 * hour + 35,
            day + 13 * hour + 50, "SEV1", "customer", ("data-platform", "purger-silent")),
        inc("pricing-engine", "Overnight risk batch fails for FX options", (2026, 1, 21, 2, 30),
            4 * hour + 20, 2 * day + 4 * hour, "SEV2", "monitoring"),
        inc("pricing-engine", "Accrued interest off by one day for ACT/365 bonds",
            (2026, 3, 19, 9, 0), day + 3 * hour, 7 * day + 3 * hour, "SEV2", "customer",
            ("pricing-engine", "daycount")),
        inc("pricing-engine", "Curve bootstrap diverges for short-dated tenors",
            (2026, 4, 28, 8, 30), 40, 2 * day + 18 * hour, "SEV2", "monitoring"),
        inc("pricing-engine", "Quote API latency spike after the pricing release",
            (2026, 6, 30, 9, 45), 15, 3 * day + 2 * hour, "SEV3", "monitoring"),
    ]


TALK_INCIDENT = "INC-0042"
TALK_INCIDENT_TITLE = "Disk full on the export host: purger job failed silently"
REPOS: dict[str, Callable[[Workshop, list[Deploy]], None]] = {
    "platform-infra": _platform_infra,
    "data-platform": _data_platform,
    "web-ui": _web_ui,
    "pricing-engine": _pricing_engine,
}


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

    incidents = sorted(_incidents(), key=lambda i: i.started)
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
    return World(root, {name: root / "repos" / name for name in REPOS}, deployments_file,
                 incidents_file, config_file, WINDOW_START, WINDOW_END, notable)
