"""`fireline testing`: bug-fix commits and whether each brought a regression test.

The repositories are real git repositories built here, so every figure is known by
construction (the tallies are worked out by hand next to FIXES below); the store tests
run on DuckDB and on PostgreSQL through the `store` fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fireline.config import Config, load_config, parse_config
from fireline.ingest import ingest_git
from fireline.metrics import testing
from fireline.metrics.scope import Scope
from fireline.metrics.testing import Classifier, TestingParams, language_of_test_file, months_between
from fireline.store import Store

from .gitrepo import GitRepo

SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
CONFIG = {
    "teams": {"Backend": {"services": ["api", "engine", "billing"]}, "Frontend": {"services": ["web"]}},
    "services": {
        "api": {"repo": "mono", "paths": ["api/**"]},
        "web": {"repo": "mono", "paths": ["web/**"]},
        "engine": {"repo": "mono", "paths": ["engine/**"]},
        "tools": {"repo": "mono", "paths": ["tools/**"]},  # no team: its fixes go to "(no team)"
        "billing": {"repo": "billing"},
    },
}


def t(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def build_repos(base: Path) -> dict[str, str]:
    """Two repositories; returns the sha of each commit the tests name."""
    sha: dict[str, str] = {}
    mono = GitRepo.create(base / "mono")
    sha["init"] = mono.commit("Initial import", t(3, 2), {
        "api/app.py": "app\n", "web/src/cart.ts": "cart\n", "engine/price.cc": "price\n",
        "tools/sync.go": "sync\n", "api/charge.py": "charge\n", "tools/parser/src/lib.rs": "lib\n"})
    # March. Frontend: one fix with a test, one without (1/2).
    sha["cart"] = mono.commit("Fix rounding in cart totals", t(3, 5), {
        "web/src/cart.ts": "cart 2\n", "web/src/cart.test.ts": "test\n"})
    sha["focus"] = mono.commit("fix(ui): button focus ring", t(3, 6), {"web/src/Button.tsx": "button\n"})
    # Not a fix: "prefix" holds "fix" but not as a word.
    sha["prefix"] = mono.commit("Add prefix matching to search", t(3, 10), {
        "api/search.py": "s\n", "api/tests/test_search.py": "t\n"})
    # Backend: the keyword is in the body only; Python and C++ tests (with the billing fix: 3/3).
    sha["basket"] = mono.commit("Handle empty basket\n\nFixes a crash when the basket is empty.", t(3, 12), {
        "api/basket.py": "b\n", "api/test_basket.py": "t\n"})
    sha["overflow"] = mono.commit("hotfix: engine overflow on large quotes", t(3, 15), {
        "engine/price.cc": "price 2\n", "engine/price_test.cc": "t\n"})
    # (no team): a Go fix with its test (1/1).
    sha["sync"] = mono.commit("Bugfix: tools sync retries", t(3, 20), {
        "tools/sync.go": "sync 2\n", "tools/sync_test.go": "t\n"})
    # April. Not fixes: "prefixes" and "fixture" are other words.
    sha["prefixes"] = mono.commit("Prefixes are now configurable\n\nRefactor the prefix handling; fixture update.",
                                  t(4, 2), {"api/prefix.py": "p\n", "api/tests/fixture.json": "{}\n"})
    sha["discount"] = mono.commit("Add discount codes", t(4, 3), {"api/discount.py": "d\n",
                                                                  "api/tests/test_discount.py": "t\n"})
    # Backend April: the revert deletes the feature's test (no test added), an incident fix, a fix on
    # a branch merged with a merge commit (the merge itself is not a second fix): 0/3 with billing's 0/1.
    mono.git("revert", "--no-edit", sha["discount"], when=t(4, 4))
    sha["revert"] = mono.head()
    sha["incident"] = mono.commit("Stop double charging\n\nRefs: INC-0007", t(4, 8), {"api/charge.py": "c2\n"})
    mono.git("checkout", "-q", "-b", "feed-fix")
    sha["feed"] = mono.commit("Fix price feed parsing", t(4, 10), {"engine/feed.cc": "feed\n"})
    mono.git("checkout", "-q", "main")
    mono.git("merge", "-q", "--no-ff", "-m", "Merge branch 'feed-fix'", "feed-fix", when=t(4, 11))
    sha["merge"] = mono.head()
    # Frontend April: a TSX test under __tests__ (1/1).
    sha["checkout"] = mono.commit("Regression in web checkout", t(4, 15), {
        "web/src/checkout.tsx": "c\n", "web/src/__tests__/checkout.tsx": "t\n"})
    # (no team) April: Rust integration tests, and Ruby specs outside every service's paths (2/2).
    sha["parser"] = mono.commit("Patch rust parser", t(4, 20), {
        "tools/parser/src/lib.rs": "lib 2\n", "tools/parser/tests/parse.rs": "t\n"})
    sha["importer"] = mono.commit("fix: ruby importer", t(4, 22), {
        "scripts/import.rb": "i\n", "spec/import_spec.rb": "t\n"})

    billing = GitRepo.create(base / "billing")
    sha["bill"] = billing.commit("Initial import", t(3, 1), {"src/main/java/Bill.java": "b\n"})
    sha["tax"] = billing.commit("Fixed tax calculation", t(3, 18), {
        "src/main/java/Tax.java": "t\n", "src/test/java/TaxTest.java": "t\n"})
    sha["money"] = billing.commit("FIX: currency rounding", t(4, 25), {"src/main/java/Money.java": "m\n"})
    return sha


# By hand: (team, month) -> (fixes, with a test).
EXPECTED = {
    ("Frontend", "2026-03"): (2, 1), ("Frontend", "2026-04"): (1, 1),
    ("Backend", "2026-03"): (3, 3), ("Backend", "2026-04"): (4, 0),
    ("(no team)", "2026-03"): (1, 1), ("(no team)", "2026-04"): (2, 2),
}
FIXES = {"cart", "focus", "basket", "overflow", "sync", "revert", "incident", "feed", "checkout", "parser",
         "importer", "tax", "money"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, dict[str, str], Config]:
    base = tmp_path_factory.mktemp("testing-debt")
    sha = build_repos(base)
    (base / "fireline.toml").write_text(_toml(CONFIG))
    return base, sha, parse_config(CONFIG, source="test", base_dir=base)


def _toml(cfg: dict) -> str:
    lines = []
    for name, team in cfg["teams"].items():
        lines += [f"[teams.{name}]", f"services = {json.dumps(team['services'])}"]
    for name, svc in cfg["services"].items():
        lines.append(f"[services.{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in svc.items()]
    return "\n".join(lines) + "\n"


def ingest(store: Store, world) -> None:
    base, _sha, cfg = world
    for name in ("mono", "billing"):
        ingest_git(store, cfg, base / name)
    with store.transaction() as tx:
        tx.insert("incidents", {"id": ["INC-0007", "12"], "service": ["api", "api"],
                                "started": [t(4, 7), t(4, 7)], "title": ["double charge", "numeric id"]})


def run_report(store: Store, world, services: list[str] | None = None, **kw) -> testing.TestingReport:
    cfg = world[2]
    scope = Scope(SINCE, UNTIL, services=tuple(services) if services is not None else None)
    return testing.report(store.tables(), scope, team_of=cfg.service_team_map(sorted(cfg.services)), **kw)


# ---- message rules and path patterns (no store) ------------------------------------------------

@pytest.mark.parametrize(("message", "expected"), [
    ("Add prefix matching", []),
    ("Use the fixture helper", []),
    ("Improve debugging output", []),
    ("fix(ui): focus ring", ["conventional commit fix(ui):"]),
    ("fix!: drop the old API", ["conventional commit fix!:"]),
    ("hotfix: purger exits non-zero", ["conventional commit hotfix:"]),
    ("Fix-up the retry loop", ["keyword 'fix' in the subject"]),
    ("Tidy\n\nFIXES #12", ["keyword 'fixes' in the message"]),
    ("Bug: totals wrong", ["keyword 'bug' in the subject"]),
    ("Apply security patch", ["keyword 'patch' in the subject"]),
    ('Revert "Add charts"\n\nThis reverts commit 0123456789abcdef0123.', ["revert of 0123456789ab"]),
    ('Revert "Revert "Add charts""', []),  # re-applies the change: not a fix
    ("Bump to release 12", []),  # incident "12" is a bare number: never looked for
    ("Stop double charging\n\nRefs: inc-0007.", ["mentions incident inc-0007"]),
    ("Handle PD:Q1X2 retry", ["mentions incident PD:Q1X2"]),
    ("Fix cart (INC-0007)", ["keyword 'fix' in the subject", "mentions incident INC-0007"]),
])
def test_what_counts_as_a_fix(message, expected):
    classifier = Classifier.of(TestingParams(), ["INC-0007", "12", "PD:Q1X2", None])
    assert classifier.reasons(message) == expected


def test_keywords_are_parameters():
    classifier = Classifier.of(TestingParams(fix_keywords=("oops",)))
    assert classifier.reasons("Fix the thing") == []
    assert classifier.reasons("Oops, wrong default") == ["keyword 'oops' in the subject"]
    assert Classifier.of(TestingParams(fix_keywords=())).reasons("Fix it") == []


@pytest.mark.parametrize(("path", "language"), [
    ("api/tests/test_search.py", "python"), ("test_x.py", "python"), ("pkg/x_test.py", "python"),
    ("test_data/loader.py", None), ("contest.py", None), ("latest/x.py", None), ("attestation/x.go", None),
    ("web/src/cart.test.ts", "javascript/typescript"), ("a/b.spec.jsx", "javascript/typescript"),
    ("web/src/__tests__/checkout.tsx", "javascript/typescript"), ("web/src/cart.ts", None),
    ("tools/sync_test.go", "go"), ("tools/sync.go", None),
    ("svc/src/test/java/a/Thing.java", "java/kotlin"), ("src/main/java/TaxTest.java", "java/kotlin"),
    ("src/main/kotlin/Foo.kt", None),
    ("engine/price_test.cc", "c/c++"), ("engine/price_test.cpp", "c/c++"), ("engine/price.cc", None),
    ("spec/import_spec.rb", "ruby"), ("lib/import.rb", None),
    ("crate/tests/parse.rs", "rust"), ("tests/fixtures/data.json", "python"),  # shared folder: first listed
    ("terraform/network.tftest.hcl", "terraform"), ("ansible/roles/disk/molecule/verify.yml", "ansible"),
])
def test_language_aware_test_patterns(path, language):
    assert language_of_test_file(path, TestingParams()) == language


def test_test_patterns_are_parameters():
    params = TestingParams(test_patterns=(("docs", ("checks/", "*.check")),))
    assert language_of_test_file("a/checks/x.py", params) == "docs"
    assert language_of_test_file("a/x.check", params) == "docs"
    assert language_of_test_file("tests/test_x.py", params) is None


def test_months_follow_the_zone():
    assert months_between(SINCE, UNTIL) == ["2026-03", "2026-04", "2026-05"]
    # 1 March 00:30 UTC is still February in New York.
    assert months_between(datetime(2026, 3, 1, 0, 30, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC),
                          "America/New_York") == ["2026-02", "2026-03"]


# ---- from a real history in the store, on both backends -----------------------------------------

def test_shares_per_team_and_month_known_by_construction(store, world):
    ingest(store, world)
    sha = world[1]
    r = run_report(store, world)
    found = {f.sha for f in r.fixes}
    assert found == {sha[k] for k in FIXES}
    assert sha["prefix"] not in found and sha["prefixes"] not in found and sha["merge"] not in found

    cells = {k: (s.fixes, s.with_test) for k, s in r.by_team_month.items() if s.fixes}
    assert cells == EXPECTED
    shares = {k: s.value for k, s in r.by_team_month.items()}
    assert shares[("Frontend", "2026-03")] == 0.5
    assert shares[("Backend", "2026-04")] == 0.0  # four fixes, none with a test: a real 0
    # No fixes in May: unknown, not 0, for every team.
    for team in ("Backend", "Frontend", "(no team)"):
        may = r.by_team_month[(team, "2026-05")]
        assert may.value is None and may.unknown == "no bug-fix commits for this team in this period"
    assert (r.overall.fixes, r.overall.with_test, r.overall.value) == (13, 8, 8 / 13)
    assert {t: (s.fixes, s.with_test) for t, s in r.by_team.items()} == {
        "Backend": (7, 3), "Frontend": (3, 2), "(no team)": (3, 3)}
    # Conventional-commit types are case-insensitive (the spec says so): "FIX:" and "Bugfix:" count there.
    assert r.reasons == {"conventional": 5, "incident": 1, "keyword": 6, "revert": 1}


def test_each_fix_says_why_and_where(store, world):
    ingest(store, world)
    sha = world[1]
    by_sha = {f.sha: f for f in run_report(store, world).fixes}
    revert = by_sha[sha["revert"]]
    assert revert.reason == f"revert of {sha['discount'][:12]}"
    assert revert.tested is False  # it deleted the reverted feature's test: that adds none
    assert by_sha[sha["incident"]].reason == "mentions incident INC-0007"
    assert by_sha[sha["focus"]].reason == "conventional commit fix(ui):"
    assert by_sha[sha["basket"]].reason == "keyword 'fixes' in the message"
    assert by_sha[sha["money"]].reason == "conventional commit FIX:"
    assert by_sha[sha["cart"]].reason == "keyword 'fix' in the subject"
    assert by_sha[sha["checkout"]].test_files == ["web/src/__tests__/checkout.tsx"]
    assert by_sha[sha["tax"]].test_files == ["src/test/java/TaxTest.java"]
    assert (by_sha[sha["tax"]].services, by_sha[sha["tax"]].teams) == (("billing",), ("Backend",))
    assert (by_sha[sha["sync"]].services, by_sha[sha["sync"]].teams) == (("tools",), ("(no team)",))
    # Outside every service's paths, in a repository whose services have several teams.
    assert (by_sha[sha["importer"]].services, by_sha[sha["importer"]].teams) == ((), ("(no team)",))


def test_recent_fixes_without_a_test_newest_first(store, world):
    ingest(store, world)
    sha = world[1]
    r = run_report(store, world, limit=4)
    assert [f.sha for f in r.recent_without_test] == [sha[k] for k in ("money", "feed", "incident", "revert")]
    row = r.recent_without_test[0].as_dict()
    assert row == {"sha": sha["money"], "repo": "billing", "service": "billing", "team": "Backend",
                   "author": "Ada Lovelace", "date": "2026-04-25T12:00:00+00:00", "month": "2026-04",
                   "subject": "FIX: currency rounding", "reason": "conventional commit FIX:",
                   "tested": False, "test_files": []}
    assert len(run_report(store, world).recent_without_test) == 5  # the default limit holds all five


def test_team_and_service_filters(store, world):
    ingest(store, world)
    r = run_report(store, world, teams=["Frontend"])
    assert set(r.by_team) == {"Frontend"} and (r.overall.fixes, r.overall.with_test) == (3, 2)
    r = run_report(store, world, services=["engine"])
    assert {f.subject for f in r.fixes} == {"hotfix: engine overflow on large quotes", "Fix price feed parsing"}


def test_unknown_when_there_are_no_fixes(store, world):
    r = run_report(store, world)
    assert r.overall.value is None and r.overall.unknown == "no git history ingested"
    assert r.by_team_month[("Backend", "2026-03")].unknown == "no git history ingested"
    ingest(store, world)
    quiet = testing.report(store.tables(), Scope(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
                           team_of={"api": "Backend"})
    assert quiet.overall.as_dict() == {"fixes": 0, "with_test": 0, "without_test": 0, "files_unknown": 0,
                                       "share": None, "unknown": "no bug-fix commits in the window"}
    assert quiet.by_team_month[("Backend", "2026-06")].value is None


def test_a_webhook_commit_without_files_is_unknown_not_untested(store):
    with store.transaction() as tx:
        tx.insert("changes", {"repo": ["shop"], "sha": ["a" * 40], "parents": ["b" * 40],
                              "author_name": ["Bo"], "committer_time": [t(3, 3)], "author_time": [t(3, 3)],
                              "subject": ["Fix login"], "message": ["Fix login"], "origin": ["github"]})
    r = testing.report(store.tables(), Scope(SINCE, UNTIL), team_of={"shop": "Web"})
    assert (r.overall.fixes, r.overall.files_unknown, r.overall.value) == (1, 1, None)
    assert r.overall.unknown == "no file lists for these fixes"
    assert r.fixes[0].tested is None and r.fixes[0].teams == ("Web",)  # service named after its repo
    assert r.recent_without_test == []


# ---- the command ------------------------------------------------------------------------------

def _fireline(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`fireline testing ...`: through cli.py once it is wired there, else a one-command app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["COLUMNS"] = "200"
    runner = ("import sys, typer\n"
              "from fireline import cli\n"
              "from fireline.errors import UserError\n"
              "if not any(c.name == 'testing' for c in cli.app.registered_commands):\n"
              "    from fireline.cli.testing import testing\n"
              "    cli.app.command('testing')(testing)\n"
              "sys.argv[0] = 'fireline'\n"
              "cli.main()\n")
    return subprocess.run([sys.executable, "-c", runner, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_json_and_table(tmp_path, world):
    db = tmp_path / "store.duckdb"
    store = Store.open(str(db))
    try:
        ingest(store, world)
    finally:
        store.close()
    config = str(world[0] / "fireline.toml")
    common = ("--db", str(db), "--config", config, "--since", "2026-03-01", "--until", "2026-05-31")
    run = _fireline(tmp_path, "testing", *common, "--json", "--limit", "2")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["overall"]["fixes"] == 13 and data["overall"]["with_test"] == 8
    cells = {(r["team"], r["month"]): (r["fixes"], r["with_test"]) for r in data["by_team_month"] if r["fixes"]}
    assert cells == EXPECTED
    may = [r for r in data["by_team_month"] if r["month"] == "2026-05"]
    assert may and all(r["share"] is None and r["unknown"] for r in may)
    assert [f["subject"] for f in data["recent_without_test"]] == ["FIX: currency rounding", "Fix price feed parsing"]

    team = json.loads(_fireline(tmp_path, "testing", *common, "--team", "Frontend", "--json").stdout)
    assert (team["overall"]["fixes"], team["overall"]["with_test"]) == (3, 2)

    text = _fireline(tmp_path, "testing", *common)
    assert text.returncode == 0, text.stderr
    assert "Recent fixes without a test" in text.stdout and "1/2 50%" in text.stdout
    assert "FIX: currency rounding" in text.stdout

    bad = _fireline(tmp_path, "testing", *common, "--team", "Nobody")
    assert bad.returncode == 2 and "unknown team" in bad.stderr and "Traceback" not in bad.stderr


# ---- the demo organisation --------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_org):
    return demo_org.directory


def test_the_demo_shows_fixes_with_and_without_tests(demo):
    from fireline.demo.dates import WINDOW_END, WINDOW_START

    cfg = load_config(demo / "world" / "fireline.toml")
    store = Store.open(str(demo / "fireline.duckdb"), create=False)
    try:
        r = testing.report(store.tables(), Scope(WINDOW_START, WINDOW_END),
                           team_of=cfg.service_team_map(sorted(cfg.services)), tz=cfg.timezone)
    finally:
        store.close()
    # The purger hotfix after the disk filled up (INC-0042) brought its regression test ...
    purger = next(f for f in r.fixes if f.subject.startswith("hotfix: purger"))
    assert purger.tested and purger.services == ("purger",) and purger.teams == ("Data",)
    assert "mentions incident INC-0042" in purger.reasons
    assert purger.test_files == ["purger/tests/test_purge.py"]
    # ... the export hotfix and the nginx ingress revert did not.
    export = next(f for f in r.fixes if f.subject.startswith("hotfix: export"))
    assert export.tested is False and export.services == ("export-pipeline",)
    nginx = next(f for f in r.fixes if f.subject.startswith('Revert "Upgrade nginx'))
    assert nginx.tested is False and nginx.reason.startswith("revert of f5631b87e429")
    # Every team has fixes both ways, and the ordinary fixes bring a test only sometimes.
    for team in ("SRE", "Data", "UI", "C++"):
        share = r.by_team[team]
        assert 0 < share.with_test < share.fixes, team
    assert (r.overall.fixes, r.overall.with_test) == (300, 102)
    # Team UI made no fix in the four July days of the window: unknown, not 0.
    assert r.by_team_month[("UI", "2026-07")].value is None
    assert len(r.recent_without_test) == 20 and r.recent_without_test[0].time <= WINDOW_END


def test_a_cherry_picked_fix_counts_once_and_merges_only_on_request(store):
    original, picked, merge = "c" * 40, "d" * 40, "e" * 40
    with store.transaction() as tx:
        tx.insert("changes", {
            "repo": ["shop"] * 3, "sha": [original, picked, merge],
            "parents": ["b" * 40, "f" * 40, f"{original} {picked}"], "author_name": ["Bo"] * 3,
            "committer_time": [t(3, 3), t(3, 4), t(3, 5)], "author_time": [t(3, 3), t(3, 4), t(3, 5)],
            "subject": ["Fix login", "Fix login", "Merge branch 'login-fix'"],
            "message": ["Fix login", f"Fix login\n\n(cherry picked from commit {original[:12]})",
                        "Merge branch 'login-fix'"],
            "origin": ["git"] * 3})
    assert [f.sha for f in testing.find_fixes(store.tables(), SINCE, UNTIL)] == [original]
    with_merges = testing.find_fixes(store.tables(), SINCE, UNTIL, params=TestingParams(include_merges=True))
    assert [f.sha for f in with_merges] == [merge, original]
