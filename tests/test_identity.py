"""People told apart from bots, and one person under several names and addresses (fireline.identity).

The repository is built here with the identities real histories show: the same full name under two
addresses, GitHub noreply addresses (`123+login@...` and `login@...`) beside commits signed with the
bare login, a `.mailmap`, a `[people]` alias, and bots (`dependabot[bot]`, `renovate[bot]`, and the
"Prometheus Operator Bot"/"PromOperatorBot" pair of kube-prometheus). What is asserted is what a user
reads: the truck factor's names, the developers and active authors, `--json` keys.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.config import parse_config
from fireline.errors import UserError
from fireline.identity import People, bot_reason, login_of
from fireline.postmortems.settings import known_owner, team_of_owner

from .gitrepo import GitRepo

ADA = "Ada Lovelace <ada@example.com>"
ADA_WORK = "Ada Lovelace <ada@work.example>"
BOB = "Bob Stone <123+bobstone@users.noreply.github.com>"
BOB_LOGIN = "bobstone <bob@example.com>"
BOB_OLD_NOREPLY = "Bob Stone <bobstone@users.noreply.github.com>"
CY_OLD = "cyoung <cy@old.example>"
CY = "Cy Young <cy@example.com>"
DANA_HOME = "dscully <dana@home.example>"
DANA = "Dana Scully <dana@example.com>"
DEPENDABOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
RENOVATE = "renovate[bot] <29139614+renovate[bot]@users.noreply.github.com>"
PROM_BOT = "Prometheus Operator Bot <prom-op-bot@users.noreply.github.com>"
PROM_BOT2 = "PromOperatorBot <85787986+prom-op-bot@users.noreply.github.com>"
PEOPLE = {"Ada Lovelace", "Bob Stone", "Cy Young", "Dana Scully"}
BOTS = {"dependabot[bot]", "renovate[bot]", "Prometheus Operator Bot"}

CONFIG = """\
[teams.Core]
services = ["app"]
[teams.Ops]
services = []
[services.app]
repo = "app"
[people]
{extra}
[people."Dana Scully"]
emails = ["dana@example.com"]
aliases = ["dscully"]
team = "Ops"
"""


def t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def lines(n: int, tag: str) -> str:
    return "".join(f"{tag} {i}\n" for i in range(n))


def build(base: Path) -> GitRepo:
    """People write 2 files each (src/, lib/, docs/, ops/); the bots write more (deps/, gen/) and are the
    only ones who committed in the last months, so before bots were told apart they topped the truck
    factor and were the only active authors."""
    repo = GitRepo.create(base / "app")
    repo.commit("Add a and b", t(1, 5), {"src/a.py": lines(20, "a"), "src/b.py": lines(20, "b")}, author=ADA)
    repo.commit("Fix crash in a", t(1, 6), {"src/a.py": lines(21, "a")}, author=ADA_WORK)
    repo.commit("Add c", t(1, 7), {"lib/c.py": lines(20, "c")}, author=BOB)
    repo.commit("Add d", t(1, 8), {"lib/d.py": lines(20, "d") + "# TODO: rename d\n"}, author=BOB_LOGIN)
    repo.commit("Tune c", t(1, 9), {"lib/c.py": lines(22, "c")}, author=BOB_OLD_NOREPLY)
    repo.commit("Docs x", t(1, 10), {"docs/x.md": lines(20, "x")}, author=CY_OLD)
    repo.commit("Docs y", t(1, 11), {"docs/y.md": lines(20, "y"),
                                     ".mailmap": "Cy Young <cy@example.com> cyoung <cy@old.example>\n"}, author=CY)
    repo.commit("Ops z", t(1, 12), {"ops/z.py": lines(20, "z") + "# TODO: retry\n"}, author=DANA_HOME)
    repo.commit("Ops w", t(1, 13), {"ops/w.py": lines(20, "w")}, author=DANA)
    repo.commit("Bump lodash from 1.0 to 1.1", t(2, 1),
                {f"deps/m{i}.json": lines(5, f"m{i}") for i in range(6)}, author=DEPENDABOT)
    repo.commit("Generate manifests", t(2, 2), {f"gen/g{i}.yaml": lines(5, f"g{i}") for i in range(5)},
                author=PROM_BOT)
    repo.commit("Regenerate manifests", t(2, 3), {f"gen/g{i}.yaml": lines(6, f"g{i}") for i in range(5)},
                author=PROM_BOT2)
    repo.commit("fix(deps): update module x to v2", t(8, 1), {"deps/m0.json": lines(6, "m0")}, author=RENOVATE)
    repo.commit("fix: bump lodash (security)", t(8, 2), {"deps/m1.json": lines(7, "m1"),
                                                          "deps/pin.py": "# TODO: pin\nVERSION = 2\n"},
                author=DEPENDABOT)
    return repo


def setup(tmp_path: Path, extra: str = "") -> list[str]:
    repo = build(tmp_path)
    (tmp_path / "fireline.toml").write_text(CONFIG.format(extra=extra))
    base = ["--db", str(tmp_path / "f.duckdb"), "--config", str(tmp_path / "fireline.toml")]
    ingest = CliRunner().invoke(app, ["ingest", "git", str(repo.path), *base])
    assert ingest.exit_code == 0, ingest.output
    return base


def knowledge(tmp_path: Path, base: list[str]) -> dict:
    run = CliRunner().invoke(app, ["knowledge", str(tmp_path / "app"), *base, "--json"])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)  # stderr has the progress lines


def test_knowledge_names_people_not_bots(tmp_path):
    data = knowledge(tmp_path, setup(tmp_path))
    # One developer per person: the login, the old noreply address, the mailmap and the alias all merged.
    assert {d["name"] for d in data["developers"]} == PEOPLE
    removed = data["truck_factor"]["removed"]
    assert removed and set(removed) <= PEOPLE, removed
    # Only bots committed in the last six months before the newest commit: no active author is left.
    assert [d["name"] for d in data["developers"] if d["active"]] == []
    authors = {a["name"] for g in data["groups"] for a in g["authors"]}
    assert authors == PEOPLE
    assert not any(BOTS & {o.removesuffix(" (weak)") for o in h["owners"]} for h in data["hotspots"])
    deps = next(g for g in data["groups"] if g["name"] == "deps")
    assert deps["authors"] == [] and deps["bot_only_files"] == deps["files"] == 7
    assert deps["truck_factor"]["value"] is None and deps["truck_factor"]["unknown"] == "only bots changed these files"


def test_knowledge_json_lists_merged_identities_and_bots_left_out(tmp_path):
    data = knowledge(tmp_path, setup(tmp_path))
    assert data["include_bots"] is False
    merged = {i["name"]: i for i in data["identities"]}
    assert set(merged) == {"Ada Lovelace", "Bob Stone", "Dana Scully"}  # Cy was merged by git's .mailmap
    assert merged["Ada Lovelace"]["emails"] == ["ada@example.com", "ada@work.example"]
    assert "same full name" in merged["Ada Lovelace"]["merged_by"]
    assert merged["Bob Stone"]["names"] == ["Bob Stone", "bobstone"]
    assert merged["Bob Stone"]["emails"] == ["123+bobstone@users.noreply.github.com", "bob@example.com",
                                             "bobstone@users.noreply.github.com"]
    assert "GitHub login" in merged["Bob Stone"]["merged_by"]
    assert merged["Dana Scully"]["names"] == ["Dana Scully", "dscully"]
    assert "[people]" in merged["Dana Scully"]["merged_by"]
    bots = {b["name"]: b for b in data["bots_left_out"]}
    assert set(bots) == BOTS
    assert bots["Prometheus Operator Bot"]["names"] == ["PromOperatorBot", "Prometheus Operator Bot"]
    assert bots["dependabot[bot]"]["commits"] == 2 and bots["dependabot[bot]"]["bot"] == "[bot] suffix"


def test_include_bots_keeps_them(tmp_path):
    data = knowledge(tmp_path, setup(tmp_path, extra="include_bots = true"))
    assert data["include_bots"] is True and data["bots_left_out"] == []
    names = {d["name"] for d in data["developers"]}
    assert names == PEOPLE | BOTS
    # Prometheus Operator Bot's last commit (02-03) is within six months of the newest (08-02).
    assert {d["name"] for d in data["developers"] if d["active"]} == {"dependabot[bot]", "renovate[bot]",
                                                                      "Prometheus Operator Bot"}


def test_configured_bots_by_name_or_email(tmp_path):
    data = knowledge(tmp_path, setup(tmp_path, extra='bots = ["Cy Young", "bob@example.com"]'))
    assert {d["name"] for d in data["developers"]} == {"Ada Lovelace", "Dana Scully"}
    assert {"Cy Young", "Bob Stone"} <= {b["name"] for b in data["bots_left_out"]}


def test_bot_commits_are_no_fixes_and_no_teams_work(tmp_path):
    base = setup(tmp_path)
    window = ["--since", "2026-01-01", "--until", "2026-09-01"]
    run = CliRunner().invoke(app, ["testing", *base, *window, "--json"])
    assert run.exit_code == 0, run.output
    # "fix(deps): ..." by renovate[bot] and "fix: bump lodash" by dependabot[bot] are not fixes.
    assert [f["subject"] for f in json.loads(run.output)["fixes"]] == ["Fix crash in a"]
    run = CliRunner().invoke(app, ["budget", *base, *window, "--json"])
    assert run.exit_code == 0, run.output
    core = next(team for team in json.loads(run.output)["teams"] if team["team"] == "Core")
    assert (core["commits"], core["fixes"]) == (9, 1)  # the nine people's commits; the five bots' left out


def test_debt_owners_are_people_and_never_bots(tmp_path):
    base = setup(tmp_path)
    run = CliRunner().invoke(app, ["debt", *base, "--now", "2026-08-03", "--json"])
    assert run.exit_code == 0, run.output
    owners = {i["title"]: i["owner"] for i in json.loads(run.stdout)["items"] if i["category"] == "marker"}
    assert owners == {"# TODO: rename d": "Bob Stone", "# TODO: retry": "Dana Scully", "# TODO: pin": None}


def test_postmortem_owners_through_aliases_and_logins(tmp_path):
    cfg = parse_config({"teams": {"Ops": {"services": []}},
                        "people": {"Dana Scully": {"team": "Ops", "emails": ["dana@example.com"],
                                                   "aliases": ["dscully"]}}},
                       source="fireline.toml", base_dir=tmp_path)
    for owner in ("Dana Scully", "dscully", "DScully", "dana@example.com",
                  "9+dscully@users.noreply.github.com"):
        assert team_of_owner(cfg, owner) == "Ops", owner
        assert known_owner(cfg, owner)
    assert not known_owner(cfg, "Fox Mulder")


@pytest.mark.parametrize(("people", "message"), [
    ({"bots": [""]}, "people.bots: a bot must be a name or an email"),
    ({"bots": ["a@b@c"]}, "people.bots: not an email"),
    ({"bots": "renovate"}, "people.bots: Input should be a valid list"),
    ({"include_bots": "sometimes"}, "people.include_bots: Input should be a valid boolean"),
    ({"Ada": {"aliases": [" "]}}, "people.Ada.aliases: an alias must not be empty"),
    ({"Ada": {"email": "ada@example.com"}, "bots": ["ADA@example.com"]},
     "people.bots: 'ADA@example.com' is the person 'Ada' of [people], not a bot"),
])
def test_people_settings_are_validated_at_load(tmp_path, people, message):
    with pytest.raises(UserError) as err:
        parse_config({"people": people}, source="fireline.toml", base_dir=tmp_path)
    assert str(err.value).startswith(f"fireline.toml: {message}"), str(err.value)


def test_bot_rules():
    for name, email in (("dependabot[bot]", "x@example.com"), ("Octokit Bot", "security+octokitbot@github.com"),
                        ("PromOperatorBot", "85787986+prom-op-bot@users.noreply.github.com"),
                        ("ci-bot", "ci@example.com"), ("renovate", "bot@renovateapp.com"),
                        ("GitHub Actions", "41898282+github-actions[bot]@users.noreply.github.com"),
                        ("Build", "deploy-bot@example.com")):
        assert bot_reason(name, email), (name, email)
    for name, email in (("Abbot Smith", "abbot@example.com"), ("Robot Framework Fan", "rf@example.com"),
                        ("Talbot", "talbot@example.com")):
        assert bot_reason(name, email) is None, name
    assert login_of("12345+Paulfantom@users.noreply.github.com") == "paulfantom"
    assert login_of("paulfantom@users.noreply.github.com") == "paulfantom"
    assert login_of("paul@example.com") is None


def test_a_configured_alias_merges_a_login_with_the_full_name():
    # kube-prometheus: "paulfantom" and "Paweł Krupa" are one person once configured.
    people = People({"Paweł Krupa": {"aliases": ["paulfantom"]}})
    directory = people.directory([("paulfantom", "paulfantom@users.noreply.github.com"),
                                  ("Paweł Krupa", "pawel@krupa.net.pl"), ("Paweł Krupa", "pawel@krupa.net.pl")])
    assert len(directory.identities) == 1
    [identity] = directory.identities.values()
    assert identity.name == "Paweł Krupa" and identity.commits == 3
    # Unconfigured, a login alone joins a full name only through a noreply address that carries it.
    alone = People().directory([("beorn7", "beorn@example.com"),
                                ("Björn Rabenstein", "7+beorn7@users.noreply.github.com")])
    assert [i.name for i in alone.identities.values()] == ["Björn Rabenstein"]


def test_the_reports_silo_table_names_people(tmp_path):
    """The report (and dashboard) table: webhooks' showed renovate[bot] as the only active author."""
    from fireline.app.report import build_context
    from fireline.app.report.sections import build_sections
    from fireline.ingest import ingest_git
    from fireline.store import Store

    repo = build(tmp_path)
    cfg = parse_config({"teams": {"Core": {"services": ["app", "deps"]}},
                        "services": {"app": {"repo": "app", "paths": ["src/**", "lib/**", "docs/**", "ops/**"]},
                                     "deps": {"repo": "app", "paths": ["deps/**", "gen/**"]}}},
                       source="fireline.toml", base_dir=tmp_path)
    store = Store.open(str(tmp_path / "f.duckdb"))
    try:
        ingest_git(store, cfg, repo.path)
        ctx = build_context(store, cfg, since="2026-03-01", until="2026-08-03")
        [section] = [s for s in build_sections(ctx) if s.id == "knowledge"]
    finally:
        store.close()
    table = section.tables[0]
    rows = {row[1]: row for row in table.rows}
    flagged = {row[1] for row, css in zip(table.rows, table.row_css, strict=True) if css == "flagged"}
    app_rests, app_active = rows["app"][3], rows["app"][4]
    assert set(app_rests.split(", ")) <= PEOPLE and app_active == "nobody"
    # Only bots changed deps/ and gen/: no truck factor to speak of, and not a silo.
    assert (rows["deps"][2].text, rows["deps"][3], rows["deps"][4]) == ("—", "—", "nobody")
    assert "deps" not in flagged
    silos = next(f for f in section.figures if f.label == "Knowledge silos")
    assert silos.cell.value == len(flagged)
