"""Lead time in stages (docs/metrics.md): pull requests from real webhook payloads over a real
repository, on DuckDB and PostgreSQL, through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fireline.cli import app
from fireline.config import load_config
from fireline.errors import UserError
from fireline.ingest import ingest_deployments, ingest_git, ingest_webhook_events, rebuild
from fireline.metrics import stages
from fireline.metrics.scope import Scope
from tests.stages_support import CONFIG, at, build_shop

WINDOW = Scope(since=at(0), until=at(10))


@pytest.fixture
def shop_world(tmp_path):
    shop = build_shop(tmp_path)
    config_file = tmp_path / "fireline.toml"
    config_file.write_text(CONFIG)
    return shop, config_file


def _ingest(store, shop, config_file: Path):
    config = load_config(config_file)
    ingest_git(store, config, shop.repo.path)
    ingest_deployments(store, config, shop.deployments_csv)
    ingest_webhook_events(store, config, shop.events)
    return config


def _rows(store) -> dict[int, dict]:
    rows = stages.pull_request_rows(store.tables(), WINDOW, service_of_repo={"shop": "shop"})
    return {r["number"]: r for r in rows.to_pyarrow().to_pylist()}


def test_each_stage_of_each_kind_of_pull_request(store, shop_world) -> None:
    shop, config_file = shop_world
    _ingest(store, shop, config_file)
    rows = _rows(store)
    assert sorted(rows) == [1, 2, 3]
    hours = {n: {s: (r[f"{s}_seconds"] / 3600 if r[f"{s}_seconds"] is not None else None) for s in stages.STAGES}
             for n, r in rows.items()}
    # A true merge: coding from the first branch commit found in git (no commit list in a webhook).
    assert hours[1] == {"coding": 3, "pickup": 2, "review": 18, "deploy": 3}
    assert rows[1]["reviewer"] == "bob" and rows[1]["deployment_id"] == "d2"
    # A squash of a draft: coding ends when it was marked ready; the author's own review is no review;
    # the first commit is the commit list's (sync); the squash commit is what shipped.
    assert hours[2] == {"coding": 3, "pickup": 1, "review": 2, "deploy": 20}
    assert rows[2]["draft"] and rows[2]["reviewer"] == "carol" and rows[2]["deployment_id"] == "d3"
    # A rebase merge without review, reopened once, never deployed: those stages are empty, not 0.
    assert hours[3] == {"coding": None, "pickup": None, "review": None, "deploy": None}
    assert rows[3]["reopened"] == 1 and rows[3]["deployed"] is None


def test_figures_count_what_is_empty_and_what_came_through_no_pull_request(store, shop_world) -> None:
    shop, config_file = shop_world
    _ingest(store, shop, config_file)
    figures = stages.stage_figures(store.tables(), WINDOW, (), team_of={"shop": "Shopfront"},
                                   service_of_repo={"shop": "shop"})[()].as_dict()
    assert figures["review"] == {"median": 10.0, "p90": pytest.approx(16.4), "count": 2}
    assert figures["coding"]["count"] == 2 and figures["deploy"]["median"] == pytest.approx(11.5)
    assert (figures["pull_requests"], figures["unreviewed"], figures["undeployed"], figures["first_commit_unknown"],
            figures["drafts"], figures["reopened"]) == (3, 1, 1, 1, 1, 1)
    # Shipped in the window: b1, b2, M1 (d2); S2, D (d3). D went straight to main.
    assert (figures["changes"], figures["outside_pull_requests"]) == (5, 1)
    assert figures["outside_share"] == pytest.approx(0.2)


def test_redelivered_and_replayed_events_make_one_record(duck, shop_world) -> None:
    shop, config_file = shop_world
    config = _ingest(duck, shop, config_file)
    before = duck.query("SELECT id, created_at, ready_at, first_review_at, merged_at, merge_commit, state, reopened "
                        "FROM pull_requests ORDER BY id")
    # Re-delivery (same delivery ids) is stored once; events seen again under new ids (a sync after the
    # webhooks) merge into the same records, and the reopening is not counted twice.
    assert ingest_webhook_events(duck, config, shop.events) == 0
    again = [(s, k, f"sync-{d}", p) for s, k, d, p in shop.events]
    assert ingest_webhook_events(duck, config, again) == len(again)
    assert duck.query("SELECT id, created_at, ready_at, first_review_at, merged_at, merge_commit, state, reopened "
                      "FROM pull_requests ORDER BY id") == before
    assert [r[6] for r in before] == ["merged"] * 3 and [r[7] for r in before] == [0, 0, 1]
    rebuild(duck, config)
    assert duck.query("SELECT id, created_at, ready_at, first_review_at, merged_at, merge_commit, state, reopened "
                      "FROM pull_requests ORDER BY id") == before
    assert duck.count("pull_request_commits") == 5  # M1 b1 b2 | S2 | R3 (a sync list names no commit of git)


def test_events_in_any_order_give_the_same_record(duck, shop_world) -> None:
    shop, config_file = shop_world
    config = load_config(config_file)
    ingest_git(duck, config, shop.repo.path)
    for event in reversed(shop.events):  # each its own batch: the merge of views decides, not the order
        ingest_webhook_events(duck, config, [event])
    rows = duck.query("SELECT number, state, ready_at, first_reviewer, reopened FROM pull_requests ORDER BY number")
    assert rows == [(1, "merged", None, "bob", 0), (2, "merged", at(3, 2), "carol", 0), (3, "merged", None, None, 1)]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "140", "NO_COLOR": "1", "TZ": "UTC"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def shop_cli(tmp_path, shop_world):
    from fireline.store import Store

    shop, config_file = shop_world
    db = str(tmp_path / "fireline.duckdb")
    with Store.open(db) as store:
        _ingest(store, shop, config_file)
    return ["--db", db, "--config", str(config_file), "--since", "2026-03-02", "--until", "2026-03-12"]


def test_dora_stages_text_and_json(shop_cli) -> None:
    plain = json.loads(_cli("dora", *shop_cli, "--json"))
    assert "stages" not in plain["overall"]["lead_time"]  # without --stages, the JSON is today's
    data = json.loads(_cli("dora", *shop_cli, "--json", "--stages"))
    overall = data["overall"]["lead_time"]["stages"]
    assert overall["review"]["median"] == 10.0 and overall["pull_requests"] == 3
    [team] = [g for g in data["groups"] if g.get("team") == "Shopfront" and "service" not in g]
    assert team["lead_time"]["stages"]["deploy"]["count"] == 2
    text = _cli("dora", *shop_cli, "--stages")
    assert "Lead time in stages" in text
    assert "Coding" in text and "Pickup" in text and "Review" in text and "Deploy" in text
    assert "10.0h" in text  # the review median
    assert "1 merged without review" in text and "1 not deployed" in text
    assert "20% of shipped commits came through no pull request" in text


def test_explain_a_stage_lists_the_slowest_pull_requests_with_links(shop_cli) -> None:
    text = _cli("explain", "lead-time", *shop_cli, "--stage", "review")
    assert text.index("pull/1") < text.index("pull/2")  # 18h before 2h: slowest first
    data = json.loads(_cli("explain", "lead-time", *shop_cli, "--stage", "deploy", "--json"))
    assert data["stage"] == "deploy"
    assert [r["number"] for r in data["rows"]] == [2, 1]
    assert data["rows"][0]["url"] == "https://github.com/acme/shop/pull/2"
    assert data["figure"]["value"] == pytest.approx(11.5)


def test_a_stage_of_another_metric_is_refused(shop_cli) -> None:
    # `fireline` (cli.main) prints a UserError as one line naming the option and exits 2.
    result = CliRunner().invoke(app, ["explain", "time-to-restore", *shop_cli, "--stage", "review"])
    assert isinstance(result.exception, UserError)
    assert result.exception.exit_code == 2 and result.exception.for_cli() == "--stage: only lead-time has stages"


def test_the_demo_tells_the_talks_story(demo_org) -> None:
    """C++ waits days in review (reviewers across time zones, builds between rounds) and for its monthly
    release; Data is reviewed within hours and waits for deployment; SRE pushes straight to main."""
    world = Path(demo_org.db).parent
    data = json.loads(_cli("dora", "--db", str(demo_org.db), "--config", str(world / "world" / "fireline.toml"),
                           "--since", "2026-01-05T00:00Z", "--until", "2026-07-05T00:00Z", "--stages", "--json"))
    teams = {g["team"]: g["lead_time"]["stages"] for g in data["groups"] if "service" not in g}
    median = {t: {s: (teams[t][s]["median"] or 0) for s in stages.STAGES} for t in teams}
    assert median["C++"]["review"] > 5 * 24 and median["C++"]["review"] == max(m["review"] for m in median.values())
    assert median["Data"]["deploy"] > 5 * (median["Data"]["coding"] + median["Data"]["pickup"]
                                           + median["Data"]["review"])
    assert teams["SRE"]["pull_requests"] == 0 and teams["SRE"]["outside_share"] == 1.0
    assert teams["C++"]["unreviewed"] > 0 and teams["Data"]["drafts"] > 0
    # The report (and the dashboard, which shows the report's sections) has the stacked chart and its table.
    page = (world / "report.html").read_text()
    assert 'id="lead-time-stages"' in page and 'id="stages-table"' in page
    assert "Waiting for deployment" in page and "The longest is C++" in page


def test_no_pull_requests_no_section_and_a_note(tmp_path) -> None:
    """A store without pull requests: the report leaves the part out, the CLI says where they come from."""
    from fireline.app.report import build_context
    from fireline.app.report.stages_part import stages_section
    from fireline.config import Config
    from fireline.store import Store

    db = str(tmp_path / "empty.duckdb")
    with Store.open(db) as store:
        ctx = build_context(store, Config(), scope=WINDOW, today=at(10).date(), now=at(10))
        assert stages_section(ctx) is None
    (tmp_path / "fireline.toml").write_text("")
    text = _cli("dora", "--db", db, "--config", str(tmp_path / "fireline.toml"), "--stages",
                "--since", "2026-03-02", "--until", "2026-03-12")
    assert "no pull requests merged in the window" in text
