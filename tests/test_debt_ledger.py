"""`fireline debt`: the three debts per team with ages and owners, and their totals month by month."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from typer.testing import CliRunner

from fireline.cli import app
from fireline.config import parse_config
from fireline.debt.ledger import build_ledger
from fireline.debt.markers import scan_repo
from fireline.ingest import ingest_git

from .gitrepo import GitRepo

ADA = "Ada Lovelace <ada@example.com>"
BOB = "Bob Byte <bob@example.com>"
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def setup(tmp_path):
    repo = GitRepo.create(tmp_path / "jobs")
    repo.commit("Start", t(1, 10), {"purger/job.py": "# TODO: schedule\nrun()\n", "export/x.py": "x = 1\n"},
                author=ADA)
    repo.commit("More", t(2, 14), {"purger/job.py": "# TODO: schedule\nrun()\n# FIXME: sleep\n"}, author=BOB)
    repo.commit("Export", t(3, 3), {"export/x.py": "x = 2  # HACK\n"}, author=BOB)
    cfg = parse_config({"teams": {"Data": {"services": ["purger"]}, "Ops": {"services": ["export"]}},
                        "services": {"purger": {"repo": "jobs", "paths": ["purger/**"]},
                                     "export": {"repo": "jobs", "paths": ["export/**"]}},
                        "budget": {"hotspots": 1}}, source="fireline.toml", base_dir=tmp_path)
    return repo, cfg


def add_actions(store) -> None:
    with store.transaction() as tx:
        tx.insert("postmortems", {"id": ["PM-1"], "services": ['["purger"]'], "date": [date(2026, 2, 1)]})
        tx.insert("action_items", {
            "postmortem_id": ["PM-1"] * 4, "position": [1, 2, 3, 4], "owner": ["Ada", "Bob", "Cy", "Di"],
            "what": ["Alert on silence", "Runbook", "Move to Airflow", "Dashboards"],
            "due": [date(2026, 2, 20), date(2026, 3, 10), date(2026, 5, 1), date(2026, 2, 15)],
            "status": ["open", "dropped", "open", "done"], "done_on": [None, None, None, date(2026, 3, 5)],
            "file": ["pm.md"] * 4, "line": [10, 11, 12, 13]})


def test_the_ledger_lists_each_debt_with_age_and_owner(store, tmp_path):
    repo, cfg = setup(tmp_path)
    ingest_git(store, cfg, repo.path)
    add_actions(store)
    scan = scan_repo(repo.path, repo="jobs")
    ledger = build_ledger(store.tables(), [scan], now=NOW, since=datetime(2026, 1, 1, tzinfo=UTC),
                          team_of={"purger": "Data", "export": "Ops"}, tz="UTC", hotspots=1)
    items = {(i["category"], i["title"]): (i["team"], i["service"], i["owner"], i["age_days"])
             for i in ledger["items"]}
    assert items[("marker", "# TODO: schedule")] == ("Data", "purger", "Ada Lovelace", 80.5)
    assert items[("marker", "# FIXME: sleep")] == ("Data", "purger", "Bob Byte", 45.5)
    assert items[("marker", "x = 2  # HACK")] == ("Ops", "export", "Bob Byte", 28.5)
    # Overdue: open and past due (due 02-20, 40 days ago); dropped; not the one due in May, not the done one.
    assert items[("action overdue", "Alert on silence")] == ("Data", "purger", "Ada", 40.0)
    assert items[("action dropped", "Runbook")][:3] == ("Data", "purger", "Bob")
    assert not any(title in ("Move to Airflow", "Dashboards") for _, title in items)
    assert {c for c, _ in items} >= {"hotspot", "truck factor 1"}
    totals = {(r["month"], r["team"]): (r["technical"], r["process"]) for r in ledger["totals"]}
    # Markers still at HEAD, by when they were written; actions overdue (or dropped) at each month's end.
    # Feb: "Alert" (due 02-20) open, "Dashboards" (due 02-15) only done on 03-05. March adds "Runbook"
    # (dropped, due 03-10) while "Dashboards" is done by then.
    assert totals[("2026-01", "Data")] == (1, 0)
    assert totals[("2026-02", "Data")] == (2, 2)
    assert totals[("2026-03", "Data")] == (2, 2)
    assert totals[("2026-03", "Ops")][0] == 1
    assert ledger["by_team"][0]["team"] == "Data"


def test_the_cli_narrows_to_a_team_and_prints_json(tmp_path):
    repo, _cfg = setup(tmp_path)
    (tmp_path / "fireline.toml").write_text(
        '[teams.Data]\nservices = ["purger"]\n[teams.Ops]\nservices = ["export"]\n'
        '[services.purger]\nrepo = "jobs"\npaths = ["purger/**"]\n[services.export]\nrepo = "jobs"\n'
        'paths = ["export/**"]\n[budget]\nmarkers = ["FIXME", "HACK"]\n')
    base = ["--db", str(tmp_path / "f.duckdb"), "--config", str(tmp_path / "fireline.toml")]
    assert CliRunner().invoke(app, ["ingest", "git", str(repo.path), *base]).exit_code == 0
    run = CliRunner().invoke(app, ["debt", *base, "--team", "Data", "--now", "2026-04-01", "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)  # the scan's progress lines are on stderr
    markers = [i["title"] for i in data["items"] if i["category"] == "marker"]
    assert markers == ["# FIXME: sleep"]  # TODO is not a configured marker; the HACK is team Ops'
    assert {i["team"] for i in data["items"]} == {"Data"}
    assert data["scans"][0]["markers"] == 2
    text = CliRunner().invoke(app, ["debt", *base, "--now", "2026-04-01"])
    assert text.exit_code == 0 and "Technical debt" in text.output and "month by month" in text.output


def test_totals_of_one_service_count_only_that_services_debt(store, tmp_path):
    # Regression: with --service, the knowledge totals counted every service's orphaned files
    # and truck factor 1, so another team's debt showed up in the narrowed month-by-month table.
    repo, cfg = setup(tmp_path)
    ingest_git(store, cfg, repo.path)
    scan = scan_repo(repo.path, repo="jobs")
    kwargs = {"now": NOW, "since": datetime(2026, 1, 1, tzinfo=UTC), "team_of": {"purger": "Data", "export": "Ops"},
              "tz": "UTC", "hotspots": 0}
    whole = build_ledger(store.tables(), [scan], **kwargs)
    assert any(i["service"] == "export" and i["kind"] == "knowledge" for i in whole["items"])
    ledger = build_ledger(store.tables(), [scan], services=["purger"], **kwargs)
    assert {i["service"] for i in ledger["items"]} == {"purger"}
    last = {r["team"]: r for r in ledger["totals"] if r["month"] == "2026-03"}
    assert set(last) == {"Data"}  # Ops owns nothing of purger: no row of zeros, no export knowledge
    assert last["Data"]["knowledge"] == sum(1 for i in ledger["items"] if i["kind"] == "knowledge")


def test_no_knowledge_debt_before_the_repository_existed(store, tmp_path):
    # Regression: a window from 2025 counted the truck factor of files written in 2026 in every month.
    repo, cfg = setup(tmp_path)
    ingest_git(store, cfg, repo.path)
    scan = scan_repo(repo.path, repo="jobs")
    ledger = build_ledger(store.tables(), [scan], now=NOW, since=datetime(2025, 10, 1, tzinfo=UTC),
                          team_of={"purger": "Data", "export": "Ops"}, tz="UTC", hotspots=0)
    knowledge = {(r["month"], r["team"]): r["knowledge"] for r in ledger["totals"]}
    assert all(knowledge.get((m, team), 0) == 0 for m in ("2025-10", "2025-11", "2025-12") for team in ("Data", "Ops"))
    assert knowledge[("2026-03", "Data")] > 0


def test_a_repository_gone_from_disk_is_named_not_called_uningested(tmp_path):
    # Regression: besides "<path> is gone", the ledger said "no repository could be scanned
    # (ingest git first)", telling the user to do what they had done.
    import shutil

    repo, _cfg = setup(tmp_path)
    db = str(tmp_path / "f.duckdb")
    assert CliRunner().invoke(app, ["ingest", "git", str(repo.path), "--db", db]).exit_code == 0
    shutil.rmtree(repo.path)
    run = CliRunner().invoke(app, ["debt", "--db", db, "--now", "2026-04-01", "--json"])
    assert run.exit_code == 0, run.output
    notes = json.loads(run.output)["notes"]
    assert any("is gone" in n for n in notes)
    assert not any("ingest git first" in n for n in notes)


def test_histories_the_report_already_loaded_give_the_same_ledger(store, tmp_path):
    """The report loads each repository's history once for its knowledge, on-call and debt parts; the
    ledger built from them is the ledger built alone, even when the working copy is on another branch
    (then the history of the scanned HEAD is the one that counts)."""
    from fireline.metrics.knowledge_history import load_history

    repo, cfg = setup(tmp_path)
    kwargs = {"now": NOW, "since": datetime(2026, 1, 1, tzinfo=UTC), "team_of": {"purger": "Data", "export": "Ops"},
              "tz": "UTC", "hotspots": 2}
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("Feature", t(3, 20), {"purger/new.py": "# XXX: later\n" * 40}, author=BOB)
    ingest_git(store, cfg, repo.path)
    add_actions(store)
    for branch in ("main", "feature"):
        repo.git("checkout", "-q", branch)
        scan = scan_repo(repo.path, repo="jobs")
        # Loaded the way the report loads them: at the stored default HEAD (main), not the scanned one.
        histories = {"jobs": load_history(store.tables(), "jobs")}
        alone = build_ledger(store.tables(), [scan], heads={"jobs": scan.head}, **kwargs)
        shared = build_ledger(store.tables(), [scan], heads={"jobs": scan.head}, histories=histories, **kwargs)
        assert shared == alone
        hotspots = {i["path"] for i in alone["items"] if i["category"] == "hotspot"}
        assert ("purger/new.py" in hotspots) == (branch == "feature")


def test_the_scan_reports_its_steps_on_stderr_and_quiet_silences_them(tmp_path):
    """Piped stderr gets a line as reading and blaming start and end; --quiet none; stdout stays one JSON
    document either way."""
    import subprocess
    import sys

    repo, _cfg = setup(tmp_path)
    (tmp_path / "fireline.toml").write_text(
        '[teams.Data]\nservices = ["purger"]\n[services.purger]\nrepo = "jobs"\npaths = ["purger/**"]\n')
    outputs = {}
    for flags in ([], ["--quiet"]):
        db = tmp_path / f"f{len(flags)}.duckdb"  # a store each: the second scan would be kept, not read
        base = ["--db", str(db), "--config", str(tmp_path / "fireline.toml")]
        assert CliRunner().invoke(app, ["ingest", "git", str(repo.path), *base]).exit_code == 0
        run = subprocess.run([sys.executable, "-m", "fireline.cli", "debt", *base, "--now", "2026-04-01", "--json",
                              *flags], capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        outputs[bool(flags)] = (json.loads(run.stdout), run.stderr)
    (loud, err), (quiet, quiet_err) = outputs[False], outputs[True]
    lines = err.splitlines()
    assert "reading files (2) ..." in lines and "blaming files (2) ..." in lines
    assert any(line.startswith("blaming files: done in ") for line in lines)
    assert quiet_err == ""
    assert loud["items"] == quiet["items"]


def test_documentation_is_no_hotspot_and_long_owner_lists_are_cut_in_text(tmp_path):
    """Found on pallets/flask: docs/quickstart.rst (185 changes x 859 lines) was a technical-debt
    hotspot, and an orphaned-code item printed 35 names, one per line, in an 80-column terminal."""
    repo = GitRepo.create(tmp_path / "jobs")
    for n in range(8):
        author = f"Dev {n} <dev{n}@example.com>"
        repo.commit(f"Docs {n}", t(1, 2 + n), {"docs/guide.rst": "".join(f"line {i}\n" for i in range(200 + n)),
                                              "app/core.py": f"x = {n}\n", f"app/mod{n}.py": "y = 1\n"},
                    author=author)
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "git", str(repo.path), "--db", db]).exit_code == 0
    run = runner.invoke(app, ["debt", "--db", db, "--at", "2026-04-01", "--json"])
    assert run.exit_code == 0, run.output
    hotspots = [i["path"] for i in json.loads(run.stdout)["items"] if i["category"] == "hotspot"]
    assert hotspots[0] == "app/core.py" and "docs/guide.rst" not in hotspots
    # A year later every author has left: one orphaned-code item owned by all eight.
    run = runner.invoke(app, ["debt", "--db", db, "--at", "2027-04-01", "--json"])
    orphaned = next(i for i in json.loads(run.stdout)["items"] if i["category"] == "orphaned code")
    assert orphaned["owner"].count(", ") == 7  # JSON keeps every name
    run = runner.invoke(app, ["debt", "--db", db, "--at", "2027-04-01"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "Dev 0, Dev 1, Dev 2 and 5 more" in run.stdout
    assert "as of the end of 2027-04-01" in run.stdout  # the day asked for, not the midnight after it
    assert "hotspot app/mod1.py: 1 change x 1 line " in run.stdout
    run = runner.invoke(app, ["debt", "--db", db, "--at", "2027-04-01"], env={"COLUMNS": "80"})
    assert "2026-01-02" in run.stdout  # the date column is not folded
