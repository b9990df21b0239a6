"""`fireline sync` against a local stand-in for the providers (tests/sync_server.py), which serves their
own published example objects: what a user sees afterwards (deployments, incidents, DORA figures), one
record for what arrives by webhook and by sync, cursors that resume, and errors with exit 2."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fireline import Workspace
from fireline.config import Config
from fireline.errors import UserError
from fireline.normalise import normalise_pending
from fireline.store import cursors, pending_raw_event

from .sync_server import FakeAPI, example

REPO = "Codertocat/Hello-World"
API = f"/repos/{REPO}"
SHA_OLD = "e" * 40
INCIDENT_TEXT = "The export stopped.\n\nroot cause: f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


@pytest.fixture
def api():
    server = FakeAPI()
    yield server
    server.close()


class Sleeps(list):
    """The client's sleep: records how long it would have waited, and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def github_world(api: FakeAPI, *, deployments_pages: int = 2) -> None:
    """The repository of GitHub's examples: two deployments to production (one per page), an incident issue
    naming the first as its cause, a release, a merged pull request with a commit and an approving review."""
    api.serve(API, example("github_repository.json"))
    first = example("github_deployment.json")  # id 145988746, sha f95f852b..., 2019-05-15
    second = example("github_deployment.json")
    second.update(id=145988999, sha=SHA_OLD, created_at="2019-05-20T10:00:00Z", updated_at="2019-05-20T10:00:02Z")
    # Newest first, as GitHub lists them.
    pages = [[second], [first]] if deployments_pages == 2 else [[second, first]]
    api.serve(f"{API}/deployments", *pages)
    for deployment in (first, second):
        status = example("github_deployment_status.json")
        status.update(id=deployment["id"] + 1, created_at=deployment["updated_at"])
        api.serve(f"{API}/deployments/{deployment['id']}/statuses", [status])
    issue = example("github_issue.json")
    issue["labels"].append({"id": 2, "name": "incident", "color": "d73a4a", "default": False})
    issue.update(state="closed", closed_at="2019-05-15T18:00:00Z", updated_at="2019-05-15T18:00:00Z",
                 created_at="2019-05-15T16:00:00Z", body=INCIDENT_TEXT)
    api.serve(f"{API}/issues", [issue])
    api.serve(f"{API}/releases", [example("github_release.json")])
    pull = example("github_pull_request.json")  # number 2
    api.serve(f"{API}/pulls", [pull])
    api.serve(f"{API}/pulls/2/commits", [example("github_commit.json")])
    api.serve(f"{API}/pulls/2/reviews", [example("github_review.json")])


def workspace(tmp_path: Path, api: FakeAPI) -> Workspace:
    config = Config(sync={"github": {"base_url": api.url}, "gitlab": {"base_url": api.url},
                          "pagerduty": {"base_url": api.url, "services": {"PIJ90N7": "mail"}}},
                    base_dir=tmp_path)
    return Workspace(tmp_path / "fireline.duckdb", config)


def deployments(ws: Workspace) -> dict[str, tuple[str, str]]:
    rows = ws.store.query("SELECT id, status, sha FROM deployments ORDER BY id")
    return {r[0]: (r[1], r[2]) for r in rows}


def test_sync_github_gives_deployments_incidents_and_figures(tmp_path, api):
    github_world(api)
    with workspace(tmp_path, api) as ws:
        result = ws.sync("github", [REPO], env={"GITHUB_TOKEN": "t0ken"}, sleep=Sleeps())
        assert deployments(ws) == {"github-145988746": ("success", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"),
                                   "github-145988999": ("success", SHA_OLD)}
        [incident] = ws.store.query("SELECT id, service, started, resolved, cause FROM incidents")
        assert incident[0] == "github-Hello-World-1" and incident[1] == "Hello-World"
        assert incident[4] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
        summary = ws.dora(since="2019-05-01", until="2019-05-31").to_dict()
        kinds = {kind: json.loads(payload) for _, _, kind, payload in ws.store.raw_events(["github"])}
    overall = summary["overall"]
    assert overall["deployment_frequency"]["count"] == 2
    assert (overall["change_failure_rate"]["failed"], overall["change_failure_rate"]["value"]) == (1, 0.5)
    assert overall["time_to_restore"]["value"] == 2.0  # opened 16:00, closed 18:00
    data = result.as_dict()
    assert data["events"] == {"deployment_status": {"fetched": 2, "new": 2}, "issues": {"fetched": 1, "new": 1},
                              "pull_request": {"fetched": 1, "new": 1},
                              "pull_request_review": {"fetched": 1, "new": 1}, "release": {"fetched": 1, "new": 1}}
    assert data["pages"] >= 2 and data["not_modified"] == 0
    # The webhook shapes the normalisers (and the pull-request stages) read, with the PR's commits beside it.
    assert kinds["pull_request"]["action"] == "closed"
    assert kinds["pull_request"]["commits"][0]["sha"] == "7638417db6d59f3c431d3e1f261cc637155684cd"
    assert kinds["pull_request_review"]["review"]["state"] == "APPROVED"
    assert kinds["pull_request_review"]["pull_request"]["number"] == 2
    # The token went in the Authorization header of every request.
    assert {h.get("authorization") for _, _, h in api.requests} == {"Bearer t0ken"}


def test_a_deployment_seen_by_webhook_and_by_sync_is_one_record(tmp_path, api):
    github_world(api)
    webhook = json.loads((Path(__file__).parent / "data" / "webhooks" / "github" / "deployment_status"
                          / "payload.json").read_text())
    with workspace(tmp_path, api) as ws:
        with ws.store.transaction() as tx:
            tx.insert_values("raw_events", [pending_raw_event("github", str(uuid.uuid4()), "deployment_status",
                                                              json.dumps(webhook), datetime.now(UTC), None)])
        normalise_pending(ws.store, ws.config)
        assert list(deployments(ws)) == ["github-145988746"]
        ws.sync("github", [REPO], env={}, sleep=Sleeps())
        assert list(deployments(ws)) == ["github-145988746", "github-145988999"]
        # rebuild derives the same records again from the raw events (webhook and sync alike).
        ws.rebuild()
        assert list(deployments(ws)) == ["github-145988746", "github-145988999"]
        assert ws.store.count("incidents") == 1


def test_a_second_sync_asks_only_for_what_changed_and_an_unchanged_page_costs_nothing(tmp_path, api):
    github_world(api)
    with workspace(tmp_path, api) as ws:
        ws.sync("github", [REPO], env={}, sleep=Sleeps())
        before = deployments(ws)
        again = ws.sync("github", [REPO], env={}, sleep=Sleeps()).as_dict()
        assert deployments(ws) == before
    assert again["not_modified"] >= 3  # deployments (both pages), releases, pulls: 304 for their ETags
    assert all(v["new"] == 0 for v in again["events"].values())
    # The issues list is asked with the cursor's `since` (the start of the last run).
    issue_queries = [q for path, q, _ in api.requests if path == f"{API}/issues"]
    assert "since" not in issue_queries[0] and "since" in issue_queries[-1]


@pytest.mark.parametrize("faults", [["ratelimit"], ["secondary"], ["502"], ["drop"], ["502", "drop", "secondary"]])
def test_rate_limits_server_errors_and_dropped_connections_are_waited_out(tmp_path, api, faults):
    github_world(api)
    api.fail(f"{API}/deployments", *faults)
    sleeps = Sleeps()
    with workspace(tmp_path, api) as ws:
        result = ws.sync("github", [REPO], env={}, sleep=sleeps).as_dict()
        assert len(deployments(ws)) == 2
    assert result["retries"] == len(faults) == len(sleeps)
    if faults == ["ratelimit"]:
        assert 0 < sleeps[0] <= 4  # until X-RateLimit-Reset (two seconds ahead), not a fixed minute
    if faults == ["secondary"]:
        assert sleeps == [1.0]  # Retry-After


def test_an_expired_token_mid_sync_keeps_what_was_synced_and_resumes_from_the_cursor(tmp_path, api):
    github_world(api)
    # The repository, the first deployments page and its statuses; then the token stops working.
    api.expire_after = 3
    with workspace(tmp_path, api) as ws:
        with pytest.raises(UserError, match="Bad credentials") as caught:
            ws.sync("github", [REPO], env={}, sleep=Sleeps())
        assert caught.value.exit_code == 2
        assert list(deployments(ws)) == ["github-145988999"]  # page 1 was stored and normalised
        [cursor] = [c for c in cursors.cursors(ws.store, "github") if c[2] == "deployments"]
        assert cursor[4] is not None and "page=2" in cursor[4]
        api.expire_after = None
        api.requests.clear()
        ws.sync("github", [REPO], env={}, sleep=Sleeps())
        assert list(deployments(ws)) == ["github-145988746", "github-145988999"]
    deployment_pages = [q.get("page", ["1"])[0] for path, q, _ in api.requests if path == f"{API}/deployments"]
    assert deployment_pages[0] == "2"  # resumed at the page it had not finished


def test_a_wrong_token_or_a_missing_repository_stores_nothing(tmp_path, api):
    github_world(api)
    api.refuse_token = True
    with workspace(tmp_path, api) as ws:
        with pytest.raises(UserError, match="HTTP 401: Bad credentials"):
            ws.sync("github", [REPO], env={}, sleep=Sleeps())
        api.refuse_token = False
        with pytest.raises(UserError, match="HTTP 404: Not Found"):
            ws.sync("github", ["Codertocat/missing"], env={}, sleep=Sleeps())
        assert ws.store.count("raw_events") == 0


# ---- GitLab ------------------------------------------------------------------------------------------

PROJECT = "diaspora/diaspora-project-site"
GL = "/api/v4/projects/diaspora%2Fdiaspora-project-site"


def gitlab_world(api: FakeAPI) -> None:
    """GitLab's documented examples: a project, two deployments (over two pages, X-Next-Page only), an
    incident, a merged merge request with its approvals, notes and commits."""
    api.link_headers = False
    api.serve(GL, example("gitlab_project.json"))
    first = example("gitlab_deployment.json")  # id 42, success, production, sha a91957a8...
    second = example("gitlab_deployment.json")
    second.update(id=43, iid=3, sha="b" * 40, updated_at="2016-08-12T09:00:00.000Z")
    second["deployable"]["finished_at"] = "2016-08-12T08:59:00.000Z"
    api.serve(f"{GL}/deployments", [first], [second])
    incident = example("gitlab_issue.json")
    incident.update(description="Checkout failed.\n\nroot cause: a91957a858320c0e17f3a0eca7cfacbff50ea29a",
                    created_at="2016-08-11T12:00:00.000Z", closed_at="2016-08-11T12:30:00.000Z")
    api.serve(f"{GL}/issues", [incident])
    api.serve(f"{GL}/merge_requests", [example("gitlab_merge_request.json")])
    api.serve(f"{GL}/merge_requests/1/approvals", example("gitlab_approvals.json"))
    api.serve(f"{GL}/merge_requests/1/notes", example("gitlab_notes.json"))
    api.serve(f"{GL}/merge_requests/1/commits", [])


def test_sync_gitlab_gives_deployments_incidents_and_merge_requests(tmp_path, api):
    gitlab_world(api)
    with workspace(tmp_path, api) as ws:
        result = ws.sync("gitlab", [PROJECT], env={"GITLAB_TOKEN": "glpat"}, sleep=Sleeps()).as_dict()
        assert deployments(ws) == {"gitlab-42": ("success", "a91957a858320c0e17f3a0eca7cfacbff50ea29a"),
                                   "gitlab-43": ("success", "b" * 40)}
        [incident] = ws.store.query("SELECT id, service, cause FROM incidents")
        summary = ws.dora(since="2016-08-01", until="2016-08-31").to_dict()["overall"]
        [mr] = [json.loads(p) for _, _, kind, p in ws.store.raw_events(["gitlab"]) if kind == "merge_request"]
    assert incident == ("gitlab-diaspora-project-site-6", "diaspora-project-site",
                        "a91957a858320c0e17f3a0eca7cfacbff50ea29a")
    assert summary["deployment_frequency"]["count"] == 2
    assert summary["change_failure_rate"]["failed"] == 1
    assert summary["time_to_restore"]["value"] == 0.5
    # An issue that is an incident and carries the label is listed twice and stored once.
    assert result["events"]["issue"] == {"fetched": 2, "new": 1}
    assert mr["object_kind"] == "merge_request" and mr["object_attributes"]["iid"] == 1
    assert mr["approvals"][0]["user"]["username"] == "root"
    assert mr["notes"][0]["id"] == 302
    assert {h.get("private-token") for _, _, h in api.requests} == {"glpat"}


# ---- PagerDuty -----------------------------------------------------------------------------------------

def pagerduty_world(api: FakeAPI) -> None:
    """PagerDuty's published examples: incident PT4KHLK of service PIJ90N7 (offset paging: a second page
    with another incident) and its log entries, trigger, acknowledge and resolve."""
    listing = example("pagerduty_incidents.json")  # limit 1, offset 0, more true
    second = example("pagerduty_incidents.json")
    other = second["incidents"][0]
    other.update(id="PT4KHLL", incident_number=1235, created_at="2015-10-07T08:00:00Z")
    second.update(offset=1, more=False)
    api.serve("/incidents", listing, second)
    log = example("pagerduty_log_entries.json")
    trigger = log["log_entries"][0]
    trigger["created_at"] = "2015-10-06T21:30:42Z"
    acknowledge = {**trigger, "id": "Q02JTSNZWHSEKW", "type": "acknowledge_log_entry",
                   "created_at": "2015-10-06T21:33:00Z"}
    resolve = {**trigger, "id": "Q02JTSNZWHSEKX", "type": "resolve_log_entry", "created_at": "2015-10-06T21:38:23Z"}
    log["log_entries"] = [resolve, trigger, acknowledge]
    api.serve("/incidents/PT4KHLK/log_entries", log)
    api.serve("/incidents/PT4KHLL/log_entries", {"log_entries": [{**trigger, "id": "Q1", "created_at":
                                                                  "2015-10-07T08:00:00Z"}]})


def test_sync_pagerduty_gives_incidents_named_as_the_configured_services(tmp_path, api):
    pagerduty_world(api)
    api.fail("/incidents", "429")
    with workspace(tmp_path, api) as ws:
        result = ws.sync("pagerduty", env={"PAGERDUTY_TOKEN": "pd"}, sleep=Sleeps()).as_dict()
        rows = ws.store.query("SELECT id, service, started, resolved FROM incidents ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [("pagerduty-PT4KHLK", "mail"), ("pagerduty-PT4KHLL", "mail")]
    assert (rows[0][3] - rows[0][2]).total_seconds() == 7 * 60 + 41
    assert rows[1][3] is None  # triggered, never resolved
    assert result["events"] == {"incident.acknowledged": {"fetched": 1, "new": 1},
                                "incident.resolved": {"fetched": 1, "new": 1},
                                "incident.triggered": {"fetched": 2, "new": 2}}
    assert result["retries"] == 1
    # The configured service ids filter the list; the token goes as PagerDuty wants it.
    [first, *_] = [(q, h) for path, q, h in api.requests if path == "/incidents"]
    assert first[0]["service_ids[]"] == ["PIJ90N7"] and first[1]["authorization"] == "Token token=pd"


def test_pagerduty_needs_a_token(tmp_path, api):
    with workspace(tmp_path, api) as ws, pytest.raises(UserError, match="PAGERDUTY_TOKEN is not set"):
        ws.sync("pagerduty", env={}, sleep=Sleeps())


def test_sync_on_both_engines_resumes_from_its_cursor(store, tmp_path, api):
    """The cursor and ETag tables on DuckDB and PostgreSQL: an interrupted run, then its resumption."""
    from fireline.sync.run import sync

    github_world(api)
    config = Config(sync={"github": {"base_url": api.url}}, base_dir=tmp_path)
    api.expire_after = 3
    with pytest.raises(UserError, match="Bad credentials"):
        sync(store, config, "github", [REPO], env={}, sleep=Sleeps())
    assert [r[0] for r in store.query("SELECT id FROM deployments")] == ["github-145988999"]
    api.expire_after = None
    sync(store, config, "github", [REPO], env={}, sleep=Sleeps())
    again = sync(store, config, "github", [REPO], env={}, sleep=Sleeps())
    assert store.count("deployments") == 2 and again.stats.not_modified >= 3
    assert all(next_url is None for *_, next_url in cursors.cursors(store, "github"))


def test_an_issue_reopened_since_the_last_sync_is_an_open_incident_again(tmp_path, api):
    github_world(api)
    with workspace(tmp_path, api) as ws:
        ws.sync("github", [REPO], env={}, sleep=Sleeps())
        assert ws.store.query("SELECT resolved IS NOT NULL FROM incidents") == [(True,)]
        [issue] = api.routes[f"{API}/issues"][0]
        issue.update(state="open", updated_at="2019-05-16T09:00:00Z")  # closed_at stays, as GitHub keeps it
        ws.sync("github", [REPO], env={}, sleep=Sleeps())
        assert ws.store.query("SELECT resolved IS NOT NULL FROM incidents") == [(False,)]


def test_a_pagerduty_incident_by_webhook_and_by_sync_is_one_incident(tmp_path, api):
    pagerduty_world(api)
    webhook = {"event": {"id": "01DEN4HPBRMNS1YQ3A5Z1C6SHV", "event_type": "incident.acknowledged",
                         "resource_type": "incident", "occurred_at": "2015-10-06T21:33:00Z",
                         "data": {"id": "PT4KHLK", "type": "incident", "title": "The server is on fire.",
                                  "created_at": "2015-10-06T21:30:42Z",
                                  "service": {"id": "PIJ90N7", "summary": "My Mail Service"}}}}
    with workspace(tmp_path, api) as ws:
        with ws.store.transaction() as tx:
            row = pending_raw_event("pagerduty", webhook["event"]["id"], "incident.acknowledged", json.dumps(webhook),
                                    datetime.now(UTC), None)
            tx.insert_values("raw_events", [row])
        normalise_pending(ws.store, ws.config)
        # The webhook already names the service as [sync.pagerduty.services] says.
        assert ws.store.query("SELECT id, service FROM incidents") == [("pagerduty-PT4KHLK", "mail")]
        ws.sync("pagerduty", env={"PAGERDUTY_TOKEN": "pd"}, sleep=Sleeps())
        rows = ws.store.query("SELECT id, service, resolved IS NOT NULL FROM incidents ORDER BY id")
    assert rows == [("pagerduty-PT4KHLK", "mail", True), ("pagerduty-PT4KHLL", "mail", False)]


def test_a_provider_message_reaches_the_user_without_terminal_control(tmp_path, api):
    api.serve(API, example("github_repository.json"))
    api.fail(f"{API}/deployments", *["502"] * 9)
    with workspace(tmp_path, api) as ws, pytest.raises(UserError) as caught:
        ws.sync("github", [REPO], env={}, sleep=Sleeps())
    message = str(caught.value)
    assert "HTTP 502 after 6 tries: Server [2J Error" in message  # the escape character is gone
    assert "\x1b" not in message and "\n" not in message


def test_a_request_that_times_out_is_asked_again(tmp_path, api):
    github_world(api)
    api.fail(f"{API}/deployments", "slow")
    config = Config(sync={"github": {"base_url": api.url, "timeout_seconds": 0.3}}, base_dir=tmp_path)
    sleeps = Sleeps()
    with Workspace(tmp_path / "fireline.duckdb", config) as ws:
        result = ws.sync("github", [REPO], env={}, sleep=sleeps).as_dict()
        assert len(deployments(ws)) == 2
    assert result["retries"] == 1 and sleeps == [1.0]


def test_since_pulls_only_what_changed_after_it(tmp_path, api):
    github_world(api)
    with workspace(tmp_path, api) as ws:
        ws.sync("github", [REPO], since="2019-05-18", env={}, sleep=Sleeps())
        assert list(deployments(ws)) == ["github-145988999"]  # the one of 2019-05-20, not of 2019-05-15
    [issues] = [q for path, q, _ in api.requests if path == f"{API}/issues"]
    assert issues["since"] == ["2019-05-18T00:00:00Z"]
