"""Team Data's data-platform: a monorepo, weekly deploys from the deployments file."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ..dates import FIRST_WORK, KOL, LAST_WORK, LON, WINDOW_START, wall_clock
from ..ordinary_work import Area, random_work
from ..people import P, members
from ..workshop import Workshop
from .building_blocks import Deploy, file_pairs, initial_import, scripted

SWALLOW = ("        except OSError:\n"
           "            continue  # one unreadable file should not stop the purge\n")
PURGE_SILENT = ["def purge(paths):", "    for path in paths:", "        try:",
                "            path.unlink()", SWALLOW.rstrip("\n")]
# The purger job's wrapper: nobody's Area, so random work never touches it and its markers pile
# up. Priya writes the first shortcuts; after she moves to UI (May) the team adds FIXMEs instead
# of fixes, because nobody knows the job well enough to change it (the debt ledger's story).
JOB_HEAD = ["# purger/job.py: runs the purge nightly from cron", "import time", "",
            "def run(paths, purge):"]
JOB_PILE = (  # (day, who, subject, lines appended)
    (date(2026, 2, 10), "priya", "Wrap the purge in a nightly job",
     ["    # TODO: move the schedule out of cron once we have an orchestrator", "    purge(paths)"]),
    (date(2026, 3, 3), "priya", "Retry the purge once when the disk is busy",
     ["    # HACK: a fixed sleep instead of a real backoff", "    time.sleep(30)"]),
    (date(2026, 4, 14), "priya", "Purge the scratch area too",
     ["    # TODO: make the scratch path configurable", "    purge(['/scratch'])"]),
    (date(2026, 5, 6), "tom", "Log the purge duration",
     ["    # FIXME: nobody knows why the job sleeps here; ask Priya", "    started = time.time()"]),
    (date(2026, 5, 27), "sofia", "Skip the purge while a backup runs",
     ["    # FIXME: backup detection reads a lock file by name; breaks if backups move",
      "    # XXX: the job still exits 0 when the backup check fails"]),
    (date(2026, 6, 9), "tom", "Purge the export staging folder",
     ["    # FIXME: hard-coded export path, copied from the export pipeline", "    purge(['/data/export/staging'])"]),
    (date(2026, 6, 24), "sofia", "Keep the purger running during the Airflow move",
     ["    # FIXME: remove once the Airflow DAG owns the schedule",
      "    # HACK: cron and Airflow both run the job until the cut-over"]),
)
PURGE_LOUD = ("        except OSError as exc:\n"
              "            log.error('purge failed for %s: %s', path, exc)\n"
              "            raise SystemExit(1) from exc  # an alert beats a full disk\n")


def plan(shop: Workshop, deploys: list[Deploy]) -> None:
    purger = Area((*file_pairs("purger/{}.py", "purger/tests/test_{}.py", "purge retention"),
                   ("purger/config.yaml", None)),
                  ("purge batch size|disk scan|dry-run mode", "retention window|file age filter",
                   "purger schedule|purge paths"), owner=P["priya"], until=date(2026, 4, 25))
    export = Area((*file_pairs("export/{}.py", "export/tests/test_{}.py", "pipeline transforms sinks"),
                   ("export/schema.py", None)),
                  ("export manifest|late-arriving rows|pipeline backfill",
                   "currency transforms|partition pruning|row deduplication",
                   "parquet writer|S3 sink retries", "schema evolution|export schema"))
    common = Area((*file_pairs("common/{}.py", "common/tests/test_{}.py", "storage"),
                   ("common/logging.py", None), ("common/settings.py", None)),
                  ("storage client|storage retries", "structured logging|log context",
                   "settings loader|environment overrides"))
    initial_import(shop, P["tom"], [purger, export, common], {})
    random_work(shop, 56, [purger], members("Data"), FIRST_WORK, LAST_WORK)
    random_work(shop, 228, [export], members("Data"), FIRST_WORK, LAST_WORK)
    random_work(shop, 56, [common], members("Data"), FIRST_WORK, LAST_WORK)
    scripted(shop, "purger-silent", P["priya"], wall_clock(date(2026, 4, 28), 16, 20, KOL),
              "Refactor purge loop to carry on past unreadable files", [],
              {"purger/purge.py": PURGE_SILENT})
    scripted(shop, "export-hotfix", P["tom"], wall_clock(date(2026, 4, 15), 11, 40, LON),
              "hotfix: export: skip empty partitions instead of crashing", ["export/sinks.py"])
    scripted(shop, "purger-hotfix", P["tom"], wall_clock(date(2026, 5, 17), 11, 20, LON),
              "hotfix: purger: exit non-zero when a delete fails\n\nA failed delete was "
              "skipped silently, so the export host filled up.\n\nRefs: INC-0042",
              [], {"purger/purge.py": (SWALLOW, PURGE_LOUD), "purger/tests/test_purge.py": [
                  "def test_purge_fails_loudly_when_a_delete_fails() -> None: ..."]})
    scripted(shop, "airflow", P["tom"], wall_clock(date(2026, 6, 2), 15, 0, LON),
              "Add Airflow DAG for the purger job", ["purger/dags/purger_dag.py",
                                                     "purger/tests/test_dag.py"])
    job_lines = list(JOB_HEAD)
    for day, who, subject, added in JOB_PILE:
        when = wall_clock(day, 14, 10, P[who].tz)

        def grow(who: str = who, when: datetime = when, subject: str = subject, added: list[str] = added) -> None:
            job_lines.extend(added)  # written straight, not by the seeded generator: other files stay the same
            shop.git.commit("main", P[who], when, subject + "\n", {"purger/job.py": "\n".join(job_lines) + "\n"})
        shop.at(when, grow)
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
