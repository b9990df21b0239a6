"""Deployment tags done right: several globs with exclusions, re-derived when the pattern changes,
one deployment per commit however many tags it has, and no lead time made up by a lightweight tag.

The patterns come from prometheus' history: release candidates (`v3.14.0-rc.0`) are tags but not
deployments, and one release carries two tags a minute apart (`v3.14.0`, `v0.314.0`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from fireline.app.settings import load_config
from fireline.config import parse_config
from fireline.errors import UserError
from fireline.ingest import ingest_git, rebuild
from fireline.metrics.explain import explain
from fireline.metrics.scope import Scope
from fireline.metrics.summary import summarise
from fireline.metrics.tiers import SEED
from fireline.sources.git import tag_matches
from fireline.store import Store

from .gitrepo import GitRepo
from .test_cli import fireline, user_error

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Scope(since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2027, 1, 1, tzinfo=UTC))
CLI_WINDOW = ["--since", "2026-01-01", "--until", "2026-12-31"]


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def tag_deployments(store) -> dict[str, datetime]:
    return dict(store.query("SELECT id, time FROM deployments WHERE source = 'tag'"))


def releases_with_candidates(repo: GitRepo) -> None:
    """v1.0 (baseline), v1.1-rc.0, v1.1, v1.2-beta.1, v1.2: five tags, three of them releases."""
    for i, name in enumerate(["v1.0", "v1.1-rc.0", "v1.1", "v1.2-beta.1", "v1.2"]):
        repo.commit(f"work {i}", h(2 * i), files={f"f{i}.txt": f"{i}\n"})
        repo.tag(name, when=h(2 * i + 1))


# ---- one pattern-matching rule ---------------------------------------------------------------

@pytest.mark.parametrize(("name", "patterns", "expected"), [
    ("v3.14.0", ["v*"], True),
    ("v3.14.0-rc.0", ["v*", "!*-rc*"], False),
    ("v3.14.0", ["v*", "!*-rc*", "!*-beta*"], True),
    ("v3.14.0-beta.1", ["v*", "!*-rc*", "!*-beta*"], False),
    ("release-7", ["v*", "release-*"], True),           # any include is enough
    ("nightly", ["v*", "release-*"], False),
    ("v1", "v*", True),                                  # a single string is one pattern
    ("v1", ["!*-rc*"], False),                           # no include, nothing matches
    ("V1", ["v*"], False),                               # case-sensitive, like git
    ("v1-rc", ["!*-rc*", "v*"], False),                  # order does not matter
])
def test_a_tag_is_a_deployment_when_it_matches_an_include_and_no_exclude(name, patterns, expected):
    assert tag_matches(name, patterns) is expected


def test_several_globs_with_exclusions_pick_the_releases(duck, repo):
    releases_with_candidates(repo)
    result = ingest_git(duck, parse_config({}, source="t", base_dir=repo.path), repo.path,
                        deploy_tags=["v*", "!*-rc*", "!*-beta*"])
    assert result.new_deployments == 3
    assert set(tag_deployments(duck)) == {"tag:repo:v1.0", "tag:repo:v1.1", "tag:repo:v1.2"}


def test_cli_takes_the_option_once_per_pattern(tmp_path, repo):
    releases_with_candidates(repo)
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*", "--deploy-tags", "!*-rc*",
                   "--deploy-tags", "!*-beta*", "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["new_deployments"] == 3


def test_a_pattern_taken_for_a_path_says_how_to_give_several(tmp_path, repo):
    releases_with_candidates(repo)
    run = fireline(tmp_path, "ingest", "git", "--deploy-tags", "v*", "!*-rc*")
    user_error(run, "!*-rc*", "--deploy-tags once per pattern")


@pytest.mark.parametrize("value", ['"v*"', '["v*", "!*-rc*", "!*-beta*"]'])
@pytest.mark.parametrize("section", ["", '[services.shop]\nrepo = "repo"\n', '[repos.shop]\npath = "repo"\n'])
def test_config_takes_a_string_or_a_list_of_globs(tmp_path, repo, value, section):
    releases_with_candidates(repo)
    (tmp_path / "fireline.toml").write_text(f"{section}deploy_tags = {value}\n")
    config = load_config(tmp_path / "fireline.toml")
    with Store.open(str(tmp_path / "store.duckdb")) as store:
        ingest_git(store, config, repo.path)
        assert len(tag_deployments(store)) == (5 if value == '"v*"' else 3)


@pytest.mark.parametrize(("toml", "message"), [
    ('deploy_tags = ["!*-rc*"]', "deploy_tags: only exclusions"),
    ('deploy_tags = ["v*", ""]', "deploy_tags: an empty pattern"),
    ('deploy_tags = 3', "deploy_tags"),
    ('[services.a]\ndeploy_tags = ["v*", 3]', "services.a.deploy_tags"),
    ('[repos.a]\npath = "x"\ndeploy_tags = ["!v*"]', "repos.a.deploy_tags: only exclusions"),
])
def test_bad_tag_patterns_are_refused_at_load_naming_the_key(tmp_path, toml, message):
    with pytest.raises(UserError) as err:
        parse_config(__import__("tomllib").loads(toml), source="fireline.toml", base_dir=tmp_path)
    assert message in str(err.value)
    assert "fireline.toml" in str(err.value)


# ---- changing the pattern re-derives the tag deployments ----------------------------------------

def test_changing_the_pattern_and_ingesting_again_rederives_the_tag_deployments(store, repo):
    releases_with_candidates(repo)
    config = parse_config({}, source="t", base_dir=repo.path)
    first = ingest_git(store, config, repo.path, deploy_tags="v*")
    assert first.new_deployments == 5 and first.removed_deployments == 0
    narrower = ingest_git(store, config, repo.path, deploy_tags=["v*", "!*-rc*", "!*-beta*"])
    assert (narrower.new_deployments, narrower.removed_deployments) == (0, 2)
    assert set(tag_deployments(store)) == {"tag:repo:v1.0", "tag:repo:v1.1", "tag:repo:v1.2"}
    wider = ingest_git(store, config, repo.path, deploy_tags=["v*", "!*-beta*"])
    assert (wider.new_deployments, wider.removed_deployments) == (1, 0)
    assert "tag:repo:v1.1-rc.0" in tag_deployments(store)
    # The links follow: no commit is shipped by a deployment that is gone.
    shipped_by = {d for (d,) in store.query("SELECT DISTINCT deployment_id FROM deployment_changes")}
    assert shipped_by <= set(tag_deployments(store))


def test_without_the_option_the_last_pattern_stays(duck, repo):
    releases_with_candidates(repo)
    config = parse_config({}, source="t", base_dir=repo.path)
    ingest_git(duck, config, repo.path, deploy_tags=["v*", "!*-rc*"])
    repo.commit("more", h(20))
    again = ingest_git(duck, config, repo.path)  # a scheduled re-run, no option
    assert (again.new_changes, again.new_deployments, again.removed_deployments) == (1, 0, 0)
    assert len(tag_deployments(duck)) == 4


def test_summary_line_and_json_say_what_was_added_and_removed(tmp_path, repo):
    releases_with_candidates(repo)
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*")
    assert "5 new tag deployments" in run.stdout
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*", "--deploy-tags", "!*-rc*",
                   "--deploy-tags", "!*-beta*")
    assert run.code == 0, run.stderr
    assert "0 new tag deployments, 2 tag deployments removed" in run.stdout
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*", "--json")
    data = json.loads(run.stdout)
    assert (data["new_deployments"], data["removed_deployments"]) == (2, 0)


def test_rebuild_respects_the_configured_pattern(store, repo, tmp_path):
    releases_with_candidates(repo)
    wide = parse_config({"services": {"shop": {"repo": "repo", "deploy_tags": "v*"}}}, source="t",
                        base_dir=tmp_path)
    ingest_git(store, wide, repo.path)
    assert len(tag_deployments(store)) == 5
    narrow = parse_config({"services": {"shop": {"repo": "repo", "deploy_tags": ["v*", "!*-rc*", "!*-beta*"]}}},
                          source="t", base_dir=tmp_path)
    counts = rebuild(store, narrow)
    assert set(tag_deployments(store)) == {"tag:repo:v1.0", "tag:repo:v1.1", "tag:repo:v1.2"}
    assert (counts["tag_deployments"], counts["tag_deployments_removed"]) == (3, 2)
    # The store now agrees with the config: the next ingest has nothing to do.
    assert ingest_git(store, narrow, repo.path).unchanged


def test_rebuild_keeps_a_pattern_given_on_the_command_line(duck, repo, tmp_path):
    releases_with_candidates(repo)
    config = parse_config({}, source="t", base_dir=tmp_path)
    ingest_git(duck, config, repo.path, deploy_tags=["v*", "!*-rc*"])
    before = tag_deployments(duck)
    counts = rebuild(duck, config)
    assert tag_deployments(duck) == before
    assert (counts["tag_deployments"], counts["tag_deployments_removed"]) == (4, 0)


# ---- several tags on one commit ------------------------------------------------------------------

def test_several_matching_tags_on_one_commit_are_one_deployment_at_the_earliest(store, repo):
    repo.commit("base", h(0))
    repo.tag("v3.13.0", when=h(1))
    repo.commit("feature", h(2))
    repo.tag("v0.314.0", when=h(3) + timedelta(minutes=1))  # the other numbering, a minute later
    repo.tag("v3.14.0", when=h(3))
    result = ingest_git(store, parse_config({}, source="t", base_dir=repo.path), repo.path, deploy_tags="v*")
    assert result.new_deployments == 2
    assert tag_deployments(store) == {"tag:repo:v3.13.0": h(1), "tag:repo:v3.14.0": h(3)}
    rows = {r["deployment_id"]: r for r in explain(store.tables(), "deployment_frequency", WINDOW).rows}
    assert rows["tag:repo:v3.14.0"]["aliases"] == "v0.314.0"
    assert rows["tag:repo:v3.13.0"]["aliases"] is None


def test_explain_lists_the_aliases_in_text_and_json(tmp_path, repo):
    repo.commit("base", h(0))
    repo.tag("v3.14.0", when=h(1))
    repo.tag("v0.314.0", when=h(1) + timedelta(minutes=1))
    assert fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*").code == 0
    text = fireline(tmp_path, "explain", "deployment-frequency", *CLI_WINDOW)
    assert "aliases" in text.stdout and "v0.314.0" in text.stdout
    data = json.loads(fireline(tmp_path, "explain", "deployment-frequency", *CLI_WINDOW, "--json").stdout)
    assert [(r["ref"], r["aliases"]) for r in data["rows"]] == [("v3.14.0", "v0.314.0")]
    assert data["figure"]["count"] == 1


# ---- a lightweight tag's time is inferred -----------------------------------------------------------

def lightweight_release(repo: GitRepo) -> tuple[str, str]:
    repo.commit("base", h(0))
    repo.tag("v1", when=h(1))                      # annotated: the baseline
    c1 = repo.commit("one", h(2))
    c2 = repo.commit("two", h(5))
    repo.tag("v2", annotated=False)                # lightweight on c2: time = c2's committer time
    return c1, c2


def test_a_lightweight_tags_own_commit_is_left_out_of_the_lead_time_and_counted(store, repo):
    c1, c2 = lightweight_release(repo)
    ingest_git(store, parse_config({}, source="t", base_dir=repo.path), repo.path, deploy_tags="v*")
    lead = summarise(store.tables(), WINDOW, SEED).overall.metrics["lead_time"]
    # c2 would read 0 s by construction; c1 is measured against the same (inferred) deploy time.
    assert (lead.count, lead.value, lead.details["p90"]) == (1, 3.0, 3.0)
    assert lead.details["inferred_excluded"] == 1
    rows = {r["sha"]: r for r in explain(store.tables(), "lead_time", WINDOW).rows}
    assert rows[c2]["inferred"] is True and rows[c1]["inferred"] is False
    assert rows[c2]["lead_hours"] == 0.0


def test_dora_json_counts_inferred_lead_times(tmp_path, repo):
    lightweight_release(repo)
    assert fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*").code == 0
    data = json.loads(fireline(tmp_path, "dora", *CLI_WINDOW, "--json").stdout)
    lead = data["overall"]["lead_time"]
    assert (lead["count"], lead["value"], lead["inferred_excluded"]) == (1, 3.0, 1)


def test_an_annotated_tag_beside_a_lightweight_one_gives_the_time(duck, repo):
    repo.commit("base", h(0))
    repo.tag("v1", when=h(1))
    repo.commit("one", h(2))
    repo.tag("v2-light", annotated=False)
    repo.tag("v2", when=h(4))
    ingest_git(duck, parse_config({}, source="t", base_dir=repo.path), repo.path, deploy_tags="v*")
    assert tag_deployments(duck)["tag:repo:v2"] == h(4)
    lead = summarise(duck.tables(), WINDOW, SEED).overall.metrics["lead_time"]
    assert (lead.count, lead.value, lead.details["inferred_excluded"]) == (1, 2.0, 0)


def test_rebuild_keeps_the_tag_deployments_of_a_repository_that_is_gone(duck, repo, tmp_path):
    releases_with_candidates(repo)
    config = parse_config({}, source="t", base_dir=tmp_path)
    ingest_git(duck, config, repo.path, deploy_tags="v*")
    before = tag_deployments(duck)
    repo.path.rename(tmp_path / "moved")
    counts = rebuild(duck, parse_config({"deploy_tags": ["v*", "!*-rc*"]}, source="t", base_dir=tmp_path))
    assert tag_deployments(duck) == before
    assert counts["unreadable_repositories"] == 1


def test_patterns_matching_none_of_the_tags_say_so_with_examples(tmp_path, repo):
    """Found on pallets/flask: its 69 release tags are `3.1.2`, not `v3.1.2`, so `--deploy-tags 'v*'`
    stored no deployment, and the only hint was "0 new tag deployments" (then dora: all unknown)."""
    for i, name in enumerate(["0.1", "0.2", "1.0.1"]):
        repo.commit(f"work {i}", h(2 * i), files={f"f{i}.txt": f"{i}\n"})
        repo.tag(name, when=h(2 * i + 1))
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*", "--deploy-tags", "!*-rc*")
    assert run.code == 0, run.stderr
    assert "0 new tag deployments" in run.stdout
    warning = " ".join(run.stderr.split())
    assert "none of the 3 tags matches v*, !*-rc*" in warning
    assert "1.0.1" in warning and "0.2" in warning  # the newest, as examples
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "[0-9]*", "--json")
    assert json.loads(run.stdout)["new_deployments"] == 3
    assert json.loads(run.stdout)["warnings"] == []


def test_a_repository_without_tags_gives_no_tag_warning(tmp_path, repo):
    repo.commit("work", h(0), files={"f.txt": "x\n"})
    run = fireline(tmp_path, "ingest", "git", str(repo.path), "--deploy-tags", "v*", "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["warnings"] == []
