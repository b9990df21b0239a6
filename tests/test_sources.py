"""Parsing deployments files, incidents files and config, as a user writes them.

Real files in tmp_path; every error must name the file, the line and the field at fault.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fireline.config import load_config, parse_config
from fireline.errors import UserError
from fireline.model import Deployment, Incident
from fireline.sources import deployments as dep_src
from fireline.sources import incidents as inc_src

SHA1 = "a" * 40
SHA2 = "b1" * 20
SHA3 = "0123456789abcdef0123456789abcdef01234567"

HEADER = "id,time,service,environment,sha,status,type"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def deployments(path: Path, tz: str = "UTC", service: str | None = None) -> list[Deployment]:
    """What ingestion makes of a deployments file: validated events, normalised in the configured zone."""
    events = dep_src.read_deployment_events(path, service=service)
    return [dep_src.normalise(e.kind, json.loads(e.payload), where=str(path), tz=tz) for e in events]


def incidents(path: Path, tz: str = "UTC", label: str = "incident") -> tuple[list[Incident], int]:
    events, skipped = inc_src.read_incident_events(path, label=label)
    return [inc_src.normalise(e.kind, json.loads(e.payload), where=str(path), tz=tz) for e in events], skipped


def refused(path: Path, reader=deployments) -> str:
    with pytest.raises(UserError) as info:
        reader(path)
    return str(info.value)


# ---- deployments: CSV and NDJSON --------------------------------------------------------------

def test_csv_deployments_fields(tmp_path):
    path = write(tmp_path / "deps.csv", f"{HEADER}\n"
                 f"d1,2026-03-02T09:00:00Z,api,production,{SHA1},success,\n"
                 f"d2,2026-03-03T10:30:00+05:30,api,staging,{SHA2.upper()},failed,hotfix\n")
    d1, d2 = deployments(path)
    assert (d1.id, d1.service, d1.environment, d1.sha, d1.status, d1.type) == \
        ("d1", "api", "production", SHA1, "success", None)
    assert d1.time == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert (d2.id, d2.environment, d2.status, d2.type) == ("d2", "staging", "failed", "hotfix")
    assert d2.sha == SHA2  # stored lower-case, so it matches git's spelling
    # +05:30 is respected: 10:30 in India is 05:00 UTC.
    assert d2.time.astimezone(UTC) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def test_ndjson_deployments_fields(tmp_path):
    rows = [
        {"id": "n1", "time": "2026-03-02T09:00:00-08:00", "service": "web", "environment": "production",
         "sha": SHA1, "status": "success", "type": "rollback"},
        {"id": "n2", "time": "2026-03-04T00:00:00Z", "service": "web", "sha": SHA3},
    ]
    path = write(tmp_path / "deps.ndjson", "\n".join(json.dumps(r) for r in rows) + "\n")
    n1, n2 = deployments(path)
    assert n1.time.astimezone(UTC) == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert (n1.service, n1.type, n1.status) == ("web", "rollback", "success")
    assert (n2.id, n2.sha, n2.environment, n2.status) == ("n2", SHA3, "production", "success")


def test_naive_times_are_read_in_the_configured_zone(tmp_path):
    path = write(tmp_path / "deps.csv", f"{HEADER}\nd1,2026-07-01T12:00:00,api,production,{SHA1},success,\n")
    (dep,) = deployments(path, tz="Europe/Berlin")
    # Berlin is on summer time (UTC+2) in July.
    assert dep.time.astimezone(UTC) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    (dep,) = deployments(path, tz="UTC")
    assert dep.time.astimezone(UTC) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_missing_optional_columns_take_defaults(tmp_path):
    path = write(tmp_path / "deps.csv", f"time,service,sha\n2026-03-02T09:00:00Z,api,{SHA1}\n")
    (dep,) = deployments(path)
    assert dep.status == "success"
    assert dep.environment == "production"
    assert dep.type is None
    assert dep.id  # one is generated


def test_service_option_fills_records_that_name_none(tmp_path):
    path = write(tmp_path / "deps.csv", f"time,sha\n2026-03-02T09:00:00Z,{SHA1}\n")
    assert "service" in refused(path)
    (dep,) = deployments(path, service="billing")
    assert dep.service == "billing"


def test_generated_ids_are_stable_across_reads(tmp_path):
    text = (f"time,service,sha\n2026-03-02T09:00:00Z,api,{SHA1}\n2026-03-03T09:00:00Z,api,{SHA2}\n")
    first = [d.id for d in deployments(write(tmp_path / "a.csv", text))]
    second = [d.id for d in deployments(write(tmp_path / "b.csv", text))]
    assert first == second
    assert len(set(first)) == 2  # two different deployments get two different ids


# ---- deployments: a GitHub "list deployments" export ---------------------------------------

def _gh_deployment(dep_id: int, sha: str, created: str, **extra) -> dict:
    record = {
        "url": f"https://api.github.com/repos/octo-org/shop/deployments/{dep_id}",
        "id": dep_id,
        "node_id": "MDEwOkRlcGxveW1lbnQx",
        "sha": sha,
        "ref": "main",
        "task": "deploy",
        "payload": {},
        "original_environment": "production",
        "environment": "production",
        "description": "Deploy request from hubot",
        "creator": {"login": "octocat", "id": 1, "type": "User"},
        "created_at": created,
        "updated_at": created,
        "statuses_url": f"https://api.github.com/repos/octo-org/shop/deployments/{dep_id}/statuses",
        "repository_url": "https://api.github.com/repos/octo-org/shop",
        "transient_environment": False,
        "production_environment": True,
    }
    record.update(extra)
    return record


def test_github_deployments_export(tmp_path):
    records = [
        _gh_deployment(101, SHA1, "2026-03-02T09:00:00Z", payload={"service": "checkout"}),
        _gh_deployment(102, SHA2, "2026-03-03T09:00:00Z"),
        _gh_deployment(103, SHA3, "2026-03-04T09:00:00Z", environment="staging"),
    ]
    path = write(tmp_path / "deployments.json", json.dumps(records, indent=2))
    d1, d2, d3 = deployments(path)
    assert d1.service == "checkout"  # payload.service wins
    assert d2.service == "shop"  # else the repository's name
    assert (d1.id, d2.id, d3.id) == ("github-101", "github-102", "github-103")
    assert (d1.sha, d1.ref, d1.environment, d1.status) == (SHA1, "main", "production", "success")
    assert d1.time == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert d3.environment == "staging"
    # Read twice, the same ids: ingesting the export again adds nothing.
    assert [d.id for d in deployments(path)] == ["github-101", "github-102", "github-103"]


def test_github_service_option_does_not_override_payload_service(tmp_path):
    """--service is for records that name no service (docs/inputs.md: payload.service, else --service)."""
    records = [
        _gh_deployment(111, SHA1, "2026-03-02T09:00:00Z", payload={"service": "checkout"}),
        _gh_deployment(112, SHA2, "2026-03-03T09:00:00Z"),
    ]
    path = write(tmp_path / "deployments.json", json.dumps(records))
    named, unnamed = deployments(path, service="fallback")
    assert unnamed.service == "fallback"
    assert named.service == "checkout"


def test_github_deployment_statuses(tmp_path):
    records = [
        _gh_deployment(201, SHA1, "2026-03-02T09:00:00Z", statuses=[
            {"state": "success", "created_at": "2026-03-02T09:20:00Z"},
            {"state": "in_progress", "created_at": "2026-03-02T09:05:00Z"},
        ]),
        _gh_deployment(202, SHA2, "2026-03-03T09:00:00Z", statuses=[
            {"state": "failure", "created_at": "2026-03-03T09:10:00Z"},
            {"state": "in_progress", "created_at": "2026-03-03T09:01:00Z"},
        ]),
    ]
    path = write(tmp_path / "deployments.json", json.dumps(records))
    ok, failed = deployments(path)
    assert ok.status == "success"
    assert ok.time == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)  # when it finished, not when it was asked for
    assert failed.status == "failure"


def test_github_deployment_later_marked_inactive_was_still_successful(tmp_path):
    """GitHub marks a successful deployment `inactive` once a newer one reaches the same environment.

    That is what happens to every production deployment but the latest one, so an export
    must still count it as a success (at the time it succeeded)."""
    records = [
        _gh_deployment(301, SHA1, "2026-03-02T09:00:00Z", statuses=[
            {"state": "inactive", "created_at": "2026-03-05T10:00:00Z"},
            {"state": "success", "created_at": "2026-03-02T09:15:00Z"},
            {"state": "in_progress", "created_at": "2026-03-02T09:01:00Z"},
        ]),
        _gh_deployment(302, SHA2, "2026-03-05T09:50:00Z", statuses=[
            {"state": "success", "created_at": "2026-03-05T10:00:00Z"},
        ]),
    ]
    path = write(tmp_path / "deployments.json", json.dumps(records))
    older, newer = deployments(path)
    assert newer.status == "success"
    assert older.status == "success"
    assert older.time == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


# ---- deployments: errors name file, line and field -----------------------------------------

def test_bad_time_names_file_line_and_field(tmp_path):
    path = write(tmp_path / "deps.csv", f"{HEADER}\n"
                 f"d1,2026-03-02T09:00:00Z,api,production,{SHA1},success,\n"
                 f"d2,yesterday at noon,api,production,{SHA1},success,\n")
    message = refused(path)
    assert f"{path}:3" in message
    assert "field 'time'" in message
    assert "yesterday at noon" in message


def test_missing_sha_names_line_and_field(tmp_path):
    path = write(tmp_path / "deps.csv", f"{HEADER}\nd1,2026-03-02T09:00:00Z,api,production,,success,\n")
    message = refused(path)
    assert f"{path}:2" in message
    assert "'sha'" in message


def test_non_hex_sha_names_line_and_field(tmp_path):
    path = write(tmp_path / "deps.ndjson",
                 json.dumps({"id": "x", "time": "2026-03-02T09:00:00Z", "service": "api", "sha": SHA1}) + "\n"
                 + json.dumps({"id": "y", "time": "2026-03-02T10:00:00Z", "service": "api",
                               "sha": "release-1.2"}) + "\n")
    message = refused(path)
    assert f"{path}:2" in message
    assert "'sha'" in message
    assert "release-1.2" in message


def test_missing_time_names_field(tmp_path):
    path = write(tmp_path / "deps.csv", f"service,sha,time\napi,{SHA1},\n")
    message = refused(path)
    assert f"{path}:2" in message
    assert "field 'time' is missing" in message


def test_malformed_ndjson_names_line_and_column(tmp_path):
    good = json.dumps({"time": "2026-03-02T09:00:00Z", "service": "api", "sha": SHA1})
    path = write(tmp_path / "deps.ndjson", f"{good}\n{good}\n{{\"time\": \"2026-03-02\", \"sha\": }}\n")
    message = refused(path)
    assert f"{path}:3:" in message  # line:column
    assert "invalid JSON" in message


def test_malformed_json_array_names_line_and_column(tmp_path):
    path = write(tmp_path / "deps.json", '[\n  {"id": 1, "sha": "abc1234",\n   "created_at" "x"}\n]\n')
    message = refused(path)
    assert f"{path}:3:" in message
    assert "invalid JSON" in message


def test_error_in_json_array_points_at_the_element_not_a_wrong_line(tmp_path):
    """Element 2 of a pretty-printed export is not on line 2: say which element (or its real line)."""
    records = [_gh_deployment(1, SHA1, "2026-03-02T09:00:00Z"),
               _gh_deployment(2, "not-a-sha", "2026-03-03T09:00:00Z")]
    text = json.dumps(records, indent=2)
    path = write(tmp_path / "deployments.json", text)
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line == "  {"]
    real_line = starts[1]  # where the second element starts
    assert real_line > 2
    message = refused(path)
    assert "'sha'" in message
    assert "element 2" in message or f"{path}:{real_line}" in message, message


def test_empty_file_is_refused(tmp_path):
    path = write(tmp_path / "deps.csv", "")
    message = refused(path)
    assert str(path) in message
    assert "empty" in message


def test_whitespace_only_file_is_refused(tmp_path):
    path = write(tmp_path / "deps.csv", "\n  \n")
    assert "empty" in refused(path)


def test_directory_instead_of_file_is_refused(tmp_path):
    folder = tmp_path / "deps"
    folder.mkdir()
    message = refused(folder)
    assert str(folder) in message
    assert "directory" in message


def test_missing_file_is_refused(tmp_path):
    message = refused(tmp_path / "nope.csv")
    assert str(tmp_path / "nope.csv") in message


def test_non_utf8_bytes_name_file_and_line(tmp_path):
    path = tmp_path / "deps.csv"
    path.write_bytes(f"{HEADER}\nd1,2026-03-02T09:00:00Z,api,production,{SHA1},success,\n".encode()
                     + b"d2,2026-03-02T10:00:00Z,caf\xe9,production," + SHA2.encode() + b",success,\n")
    message = refused(path)
    assert str(path) in message
    assert "UTF-8" in message
    assert f"{path}:3" in message, message  # the line with the bad byte, not only its offset


def test_csv_row_with_more_fields_than_header(tmp_path):
    path = write(tmp_path / "deps.csv", f"time,service,sha\n2026-03-02T09:00:00Z,api,{SHA1}\n"
                 f"2026-03-02T10:00:00Z,api,{SHA1},extra\n")
    message = refused(path)
    assert f"{path}:3" in message
    assert "more fields" in message


def test_csv_bom_and_padding_are_tolerated(tmp_path):
    path = tmp_path / "deps.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"time, service ,sha\n 2026-03-02T09:00:00Z , api ,{SHA1}\n".encode())
    (dep,) = deployments(path)
    assert dep.service == "api"
    assert dep.time == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# ---- incidents ---------------------------------------------------------------------------------

INC_HEADER = "id,service,title,started,detected,resolved,severity,detected_by,cause"


def test_incidents_csv_fields(tmp_path):
    path = write(tmp_path / "inc.csv", f"{INC_HEADER}\n"
                 "INC-1,purger,Disk full,2026-03-02T09:00:00+01:00,2026-03-02T10:00:00+01:00,"
                 f"2026-03-02T12:30:00+01:00,SEV1,Customer,{SHA1[:10]}\n"
                 "INC-2,export,Slow export,2026-03-05T08:00:00Z,,,,,\n")
    (i1, i2), skipped = incidents(path)
    assert skipped == 0
    assert (i1.id, i1.service, i1.title, i1.severity, i1.detected_by, i1.cause) == \
        ("INC-1", "purger", "Disk full", "SEV1", "customer", SHA1[:10])
    assert i1.started.astimezone(UTC) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert i1.detected.astimezone(UTC) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert i1.resolved.astimezone(UTC) == datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
    assert i2.resolved is None and i2.detected is None and i2.cause is None  # still open


def test_incident_resolved_before_started_is_refused_with_line(tmp_path):
    path = write(tmp_path / "inc.csv", f"{INC_HEADER}\n"
                 "INC-1,api,ok,2026-03-02T09:00:00Z,,2026-03-02T10:00:00Z,,,\n"
                 "INC-2,api,backwards,2026-03-02T09:00:00Z,,2026-03-02T08:00:00Z,,,\n")
    message = refused(path, reader=incidents)
    assert f"{path}:3" in message
    assert "resolved" in message and "started" in message


def test_incident_time_beyond_the_calendar_in_utc_is_refused_with_line(tmp_path):
    # Regression: 9999-12-31T23:00-05:00 is year 10000 in UTC, and the insert crashed with a traceback.
    path = write(tmp_path / "inc.csv", f"{INC_HEADER}\nINC-1,api,x,9999-12-31T23:00:00-05:00,,,,,\n")
    message = refused(path, reader=incidents)
    assert f"{path}:2" in message and "field 'started'" in message and "out of range" in message


def test_incident_bad_started_names_field(tmp_path):
    path = write(tmp_path / "inc.csv", f"{INC_HEADER}\nINC-1,api,x,03/02/2026,,,,,\n")
    message = refused(path, reader=incidents)
    assert f"{path}:2" in message
    assert "field 'started'" in message


def _issue(number: int, labels: list[str], created: str, closed: str | None = None, body: str = "",
           **extra) -> dict:
    record = {
        "url": f"https://api.github.com/repos/octo-org/shop/issues/{number}",
        "repository_url": "https://api.github.com/repos/octo-org/shop",
        "html_url": f"https://github.com/octo-org/shop/issues/{number}",
        "id": 1000 + number,
        "number": number,
        "title": f"Issue {number}",
        "user": {"login": "octocat", "id": 1},
        "labels": [{"id": i, "name": name, "color": "f29513"} for i, name in enumerate(labels)],
        "state": "closed" if closed else "open",
        "locked": False,
        "comments": 0,
        "created_at": created,
        "updated_at": closed or created,
        "closed_at": closed,
        "body": body,
    }
    record.update(extra)
    return record


def test_github_issues_export(tmp_path):
    records = [
        _issue(1, ["incident", "service:payments"], "2026-03-02T09:00:00Z", "2026-03-02T11:00:00Z",
               body="Checkout failed for EU customers.\n\nRoot cause: 0123456789abcdef\n"),
        _issue(2, ["bug"], "2026-03-03T09:00:00Z"),  # not an incident
        _issue(3, ["incident"], "2026-03-04T09:00:00Z",
               pull_request={"url": "https://api.github.com/repos/octo-org/shop/pulls/3"}),  # a PR
        _issue(4, ["Incident"], "2026-03-05T09:00:00Z", body="no cause yet"),
    ]
    path = write(tmp_path / "issues.json", json.dumps(records, indent=2))
    found, skipped = incidents(path)
    assert skipped == 2
    assert [i.id for i in found] == ["github-shop-1", "github-shop-4"]  # numbers are per repository
    first, second = found
    assert first.service == "payments"  # from the service:NAME label
    assert first.cause == "0123456789abcdef"
    assert first.started == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert first.resolved == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert first.title == "Issue 1"
    assert second.service == "shop"  # else the repository's name
    assert second.cause is None
    assert second.resolved is None


def test_github_issue_service_label_wins_over_service_option(tmp_path):
    """--service is for records that name none; a `service:NAME` label names one."""
    records = [_issue(1, ["incident", "service:payments"], "2026-03-02T09:00:00Z"),
               _issue(2, ["incident"], "2026-03-02T10:00:00Z")]
    path = write(tmp_path / "issues.json", json.dumps(records))
    events, _ = inc_src.read_incident_events(path, service="fallback")
    labelled, plain = (inc_src.normalise(e.kind, json.loads(e.payload), where=str(path)) for e in events)
    assert plain.service == "fallback"
    assert labelled.service == "payments"


def test_github_issues_custom_incident_label(tmp_path):
    records = [_issue(1, ["outage"], "2026-03-02T09:00:00Z"), _issue(2, ["incident"], "2026-03-02T09:00:00Z")]
    path = write(tmp_path / "issues.json", json.dumps(records))
    found, skipped = incidents(path, label="outage")
    assert [i.id for i in found] == ["github-shop-1"]
    assert skipped == 1


# ---- config ------------------------------------------------------------------------------------

@pytest.fixture
def no_config_env(monkeypatch):
    monkeypatch.delenv("FIRELINE_CONFIG", raising=False)


def test_invalid_toml_names_file_and_line(tmp_path, no_config_env):
    path = write(tmp_path / "fireline.toml", 'timezone = "UTC"\nprofile = "seed"\n[services.api\nrepo = "."\n')
    with pytest.raises(UserError) as info:
        load_config(cwd=tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "line 3" in message


def test_unknown_service_key_is_named(tmp_path, no_config_env):
    write(tmp_path / "fireline.toml", '[services.api]\nrepo = "."\ndeploy_tag = "v*"\n')
    with pytest.raises(UserError) as info:
        load_config(cwd=tmp_path)
    message = str(info.value)
    assert "fireline.toml" in message
    assert "services.api.deploy_tag: unknown key" in message


def test_parse_config_unknown_service_key():
    with pytest.raises(UserError) as info:
        parse_config({"services": {"web": {"repo": ".", "colour": "red"}}}, source="here.toml",
                     base_dir=Path("."))
    assert "services.web.colour: unknown key" in str(info.value)
    assert "here.toml" in str(info.value)


def test_bad_timezone_is_named(tmp_path, no_config_env):
    write(tmp_path / "fireline.toml", 'timezone = "Mars/Olympus_Mons"\n')
    with pytest.raises(UserError) as info:
        load_config(cwd=tmp_path)
    message = str(info.value)
    assert "timezone" in message
    assert "Mars/Olympus_Mons" in message


def test_bad_profile_is_named(tmp_path, no_config_env):
    write(tmp_path / "fireline.toml", 'profile = "elite-2019"\n')
    with pytest.raises(UserError) as info:
        load_config(cwd=tmp_path)
    message = str(info.value)
    assert "profile" in message
    assert "elite-2019" in message
    assert "seed" in message  # says what would be accepted


def test_pyproject_tool_fireline_is_read(tmp_path, no_config_env):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.fireline]\ntimezone = "Asia/Kolkata"\n'
          'production_environments = ["prod", "production"]\n[tool.fireline.services.api]\nrepo = "svc"\n')
    config = load_config(cwd=tmp_path)
    assert config.timezone == "Asia/Kolkata"
    assert config.production_environments == ["prod", "production"]
    assert config.repo_path("api") == (tmp_path / "svc").resolve()


def test_pyproject_without_tool_fireline_gives_defaults(tmp_path, no_config_env):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    config = load_config(cwd=tmp_path)
    assert config.timezone == "UTC"
    assert config.production_environments == ["production"]


def test_fireline_toml_wins_over_pyproject(tmp_path, no_config_env):
    write(tmp_path / "pyproject.toml", '[tool.fireline]\ntimezone = "Asia/Kolkata"\n')
    write(tmp_path / "fireline.toml", 'timezone = "Europe/Paris"\n')
    assert load_config(cwd=tmp_path).timezone == "Europe/Paris"


def test_bad_key_in_pyproject_names_the_section(tmp_path, no_config_env):
    write(tmp_path / "pyproject.toml", '[tool.fireline]\ntimezone = "Nowhere/Land"\n')
    with pytest.raises(UserError) as info:
        load_config(cwd=tmp_path)
    assert "pyproject.toml" in str(info.value)
    assert "tool.fireline" in str(info.value)


def test_explicit_missing_config_is_named(tmp_path, no_config_env):
    with pytest.raises(UserError) as info:
        load_config(tmp_path / "missing.toml")
    assert "missing.toml" in str(info.value)


def test_naive_incident_times_use_configured_zone(tmp_path):
    path = write(tmp_path / "inc.csv", f"{INC_HEADER}\nINC-1,api,x,2026-01-10T09:00:00,,2026-01-10T10:00:00,,,\n")
    (inc,), _ = incidents(path, tz="America/New_York")
    assert inc.started.astimezone(UTC) == datetime(2026, 1, 10, 14, 0, tzinfo=UTC)
    assert inc.resolved - inc.started == timedelta(hours=1)
    assert inc.started.utcoffset() == ZoneInfo("America/New_York").utcoffset(datetime(2026, 1, 10))


def test_unknown_top_level_config_key_is_refused(tmp_path):
    """A typo such as production_enviroments must not silently change which deployments count."""
    (tmp_path / "fireline.toml").write_text('production_enviroments = ["prod"]\n')
    with pytest.raises(UserError) as info:
        load_config(tmp_path / "fireline.toml")
    assert "production_enviroments: unknown key" in str(info.value)
