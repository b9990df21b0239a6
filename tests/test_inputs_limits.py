"""Hostile and broken input files from the command line: each is exit 2 with a message naming the file and
line (or, for the lint commands, a finding at its line), never a traceback or a crash, and the store is left
as it was. See docs/inputs.md, "Limits"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from .test_cli import Run, fireline, user_error

DEEP = 100_000
HUGE_INT = "1" * 5000
GOOD_DEPLOYMENTS = "time,service,sha\n2026-03-02T10:00:00Z,web,abcdef1\n"
RULE = """groups:
- name: g
  rules:
  - alert: A
    expr: {expr}
    for: 5m
    labels: {{severity: page, team: sre}}
    annotations: {{summary: s, description: d, runbook_url: "https://example.com/a"}}
"""


def counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'main'").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def seeded_once(tmp_path_factory) -> Path:
    """A store holding one deployment, made by the CLI once per module: each test writes to a copy."""
    folder = tmp_path_factory.mktemp("seeded")
    good = folder / "good.csv"
    good.write_text(GOOD_DEPLOYMENTS)
    run = fireline(folder, "ingest", "deployments", str(good))
    assert run.code == 0, run.stderr
    return folder / "store"


@pytest.fixture
def seeded(tmp_path, seeded_once) -> Path:
    """The store of `seeded_once`, as this test's own (in tmp_path/store, where `fireline` looks), so
    'nothing written' is a real comparison."""
    shutil.copytree(seeded_once, tmp_path / "store")
    return tmp_path / "store" / "fireline.duckdb"


def refused(tmp_path: Path, db: Path, kind: str, name: str, body: str | bytes, *needles: str,
            env: dict[str, str] | None = None) -> Run:
    path = tmp_path / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    before = counts(db)
    run = fireline(tmp_path, "ingest", kind, str(path), env=env)
    user_error(run, *needles)
    assert counts(db) == before
    assert len(run.stderr) < 2000, "the message must not echo the whole input"
    return run


KINDS = ["deployments", "incidents", "alerts", "flags"]
# One valid record per kind, so the hostile line 2 is what fails.
OK = {
    "deployments": {"time": "2026-03-02T11:00:00Z", "service": "web", "sha": "abcdef2"},
    "incidents": {"id": "INC-1", "service": "web", "started": "2026-03-02T11:00:00Z"},
    "alerts": {"name": "A", "status": "firing", "starts_at": "2026-03-02T11:00:00Z"},
    "flags": {"flag": "f", "service": "web", "time": "2026-03-02T11:00:00Z", "state": "on"},
}


def ok_line(kind: str) -> str:
    return json.dumps(OK[kind]) + "\n"


def ok_csv(kind: str) -> str:
    return ",".join(OK[kind]) + "\n" + ",".join(OK[kind].values()) + "\n"


# ---- 1. nesting, huge numbers, lone surrogates, oversized CSV fields ------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_deeply_nested_ndjson_is_refused_at_its_line(tmp_path, seeded, kind):
    refused(tmp_path, seeded, kind, "deep.ndjson", ok_line(kind) + '{"a": ' + "[" * DEEP + "\n",
            "deep.ndjson:2", "nested deeper than 64 levels")


@pytest.mark.parametrize("kind", KINDS)
def test_a_deeply_nested_json_array_is_refused(tmp_path, seeded, kind):
    refused(tmp_path, seeded, kind, "deep.json", "[\n" + "[" * DEEP, "deep.json:2", "nested deeper than 64 levels")


def test_a_deeply_nested_alertmanager_notification_is_refused(tmp_path, seeded):
    body = '{"version": "4",\n "alerts": ' + "[" * DEEP + "\n"
    refused(tmp_path, seeded, "alerts", "note.json", body, "note.json:2", "nested deeper than 64 levels")


@pytest.mark.parametrize("kind", KINDS)
def test_a_number_beyond_pythons_digit_limit_names_its_line(tmp_path, seeded, kind):
    refused(tmp_path, seeded, kind, "big.ndjson", ok_line(kind) + '{"time": "2026-03-02T10:00:00Z", "id": '
            + HUGE_INT + "}\n", "big.ndjson:2", "more than 4300 digits")


def test_a_huge_number_in_a_json_array_names_its_line(tmp_path, seeded):
    body = '[\n {"sha": "abcdef1",\n  "id": ' + HUGE_INT + "}\n]\n"
    refused(tmp_path, seeded, "deployments", "big.json", body, "big.json:3", "more than 4300 digits")


@pytest.mark.parametrize("kind", KINDS)
def test_a_lone_surrogate_escape_is_refused_naming_the_field(tmp_path, seeded, kind):
    line = json.dumps({**OK[kind], "service": "we\ud800b"}) + "\n"
    refused(tmp_path, seeded, kind, "sur.ndjson", ok_line(kind) + line, "sur.ndjson:2", "field 'service'",
            "lone surrogate")


def test_a_valid_surrogate_pair_is_a_character(tmp_path, seeded):
    path = tmp_path / "emoji.ndjson"
    path.write_text('{"time": "2026-03-02T11:00:00Z", "service": "fire\\ud83d\\udd25", "sha": "abcdef2"}\n')
    run = fireline(tmp_path, "ingest", "deployments", str(path))
    assert run.code == 0 and "1 new deployments" in run.stdout, run.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_a_csv_field_over_128_kib_names_its_line(tmp_path, seeded, kind):
    body = ok_csv(kind) + "w" * 200_000 + "\n"
    refused(tmp_path, seeded, kind, "wide.csv", body, "wide.csv:3", "longer than")


def test_a_long_field_value_is_shortened_in_the_message(tmp_path, seeded):
    body = "time,service,sha\n" + "y" * 100_000 + ",web,abcdef2\n"
    run = refused(tmp_path, seeded, "deployments", "long.csv", body, "long.csv:2", "field 'time'")
    assert "100000 characters" in run.err


# ---- 2. size limit --------------------------------------------------------------------------------

def test_dev_zero_is_refused_at_the_size_limit(tmp_path, seeded):
    before = counts(seeded)
    run = fireline(tmp_path, "ingest", "deployments", "/dev/zero", env={"FIRELINE_MAX_INPUT_BYTES": "1MiB"})
    user_error(run, "/dev/zero", "larger than the input limit of 1 MiB", "FIRELINE_MAX_INPUT_BYTES")
    assert counts(seeded) == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_over_the_limit_is_refused(tmp_path, seeded, kind):
    body = GOOD_DEPLOYMENTS * 20
    refused(tmp_path, seeded, kind, "big.csv", body, "big.csv", "larger than the input limit of 100 bytes",
            env={"FIRELINE_MAX_INPUT_BYTES": "100"})


def test_a_file_at_the_limit_is_read(tmp_path, seeded):
    path = tmp_path / "exact.csv"
    path.write_text(GOOD_DEPLOYMENTS.replace("abcdef1", "abcdef2"))
    size = str(path.stat().st_size)
    run = fireline(tmp_path, "ingest", "deployments", str(path), env={"FIRELINE_MAX_INPUT_BYTES": size})
    assert run.code == 0, run.stderr


@pytest.mark.parametrize("value", ["lots", "-5", "0", "12 parsecs"])
def test_a_bad_size_limit_names_the_variable(tmp_path, seeded, value):
    path = tmp_path / "d.csv"
    path.write_text(GOOD_DEPLOYMENTS)
    user_error(fireline(tmp_path, "ingest", "deployments", str(path), env={"FIRELINE_MAX_INPUT_BYTES": value}),
               "FIRELINE_MAX_INPUT_BYTES", "not a size")


# ---- config: fireline.toml and pyproject.toml -----------------------------------------------------

LONG_ZONE = "a" * 10_000_000


@pytest.mark.parametrize(("name", "body", "needles"), [
    ("fireline.toml", f'timezone = "{LONG_ZONE}"\n', ("fireline.toml", "timezone", "unknown time zone")),
    ("fireline.toml", f'[people.Tom]\ntimezone = "{LONG_ZONE}"\n', ("people.Tom.timezone", "unknown time zone")),
    ("fireline.toml", 'profile = "seed"\nx = ' + "[" * DEEP + "\n", ("fireline.toml:2", "nested deeper than 64")),
    ("fireline.toml", "x = " + "{a = " * DEEP + "\n", ("fireline.toml:1", "nested deeper than 64")),
    ("fireline.toml", f'profile = "seed"\n\ntimezone = {HUGE_INT}\n', ("fireline.toml:3", "more than 4300 digits")),
    ("pyproject.toml", "[tool.fireline]\nx = " + "[" * DEEP + "\n", ("pyproject.toml:2", "nested deeper than 64")),
    ("fireline.toml", 'timezone = "UTC"\nbroken = \n', ("fireline.toml:2", "invalid TOML")),
])
def test_a_hostile_config_is_a_user_error(tmp_path, name, body, needles):
    (tmp_path / name).write_text(body)
    run = fireline(tmp_path, "dora")
    user_error(run, *needles)
    assert len(run.stderr) < 2000


def test_a_config_over_the_size_limit_is_refused(tmp_path):
    (tmp_path / "fireline.toml").write_text('timezone = "UTC"\n' + "# padding\n" * 100)
    user_error(fireline(tmp_path, "dora", env={"FIRELINE_MAX_INPUT_BYTES": "100"}),
               "fireline.toml", "larger than the input limit")


def test_a_long_zone_for_a_person_is_refused_by_oncall(tmp_path):
    (tmp_path / "fireline.toml").write_text(
        f'[people.Tom]\ntimezone = "{LONG_ZONE}"\n[[rotations.A.layers]]\nname = "b"\nmembers = ["Tom"]\n'
        'length = "1w"\nstart = 2026-03-02\n')
    run = fireline(tmp_path, "oncall", "now")
    user_error(run, "unknown time zone")
    assert len(run.stderr) < 2000


def test_a_long_zone_option_is_refused(tmp_path, seeded):
    run = fireline(tmp_path, "alerts", "report", "--tz", "b" * 100_000)
    user_error(run, "--tz", "unknown time zone")
    assert len(run.stderr) < 2000


# ---- PTO calendars --------------------------------------------------------------------------------

PTO_CONFIG = """[people.Tom]
email = "tom@example.com"
[oncall]
pto_calendars = ["pto.ics"]
[[rotations.Data.layers]]
name = "base"
members = ["Tom"]
length = "1w"
start = 2026-03-30
"""


def _event(dtstart: str) -> str:
    return ("BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20260101T000000Z\r\n" + dtstart + "\r\n"
            "SUMMARY:off\r\nATTENDEE;CN=Tom:mailto:tom@example.com\r\nEND:VEVENT\r\n")


@pytest.mark.parametrize(("body", "needles"), [
    ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + _event(f"DTSTART;TZID={'z' * 10_000_000}:20260403T090000")
     + "END:VCALENDAR\r\n", ("pto.ics", "time zone")),
    ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "BEGIN:VEVENT\r\n" * DEEP + "END:VEVENT\r\n" * DEEP
     + "END:VCALENDAR\r\n", ("pto.ics:", "nested deeper than 64")),
])
def test_a_hostile_pto_calendar_is_a_user_error(tmp_path, body, needles):
    (tmp_path / "fireline.toml").write_text(PTO_CONFIG)
    (tmp_path / "pto.ics").write_text(body, newline="")
    run = fireline(tmp_path, "oncall", "now", "--at", "2026-04-01")
    user_error(run, *needles)
    assert len(run.stderr) < 2000


def test_a_pto_calendar_over_the_limit_is_refused(tmp_path):
    (tmp_path / "fireline.toml").write_text(PTO_CONFIG)
    (tmp_path / "pto.ics").write_text("BEGIN:VCALENDAR\r\n" + "X-PAD:x\r\n" * 100 + "END:VCALENDAR\r\n")
    user_error(fireline(tmp_path, "oncall", "now", env={"FIRELINE_MAX_INPUT_BYTES": "200"}),
               "pto.ics", "larger than the input limit")


# ---- rule files: findings at the line, never a crash ----------------------------------------------

def lint(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> tuple[Run, list[dict]]:
    path = tmp_path / "rules.yml"
    path.write_text(body)
    run = fireline(tmp_path, "alerts", "lint", "--format", "json", str(path), env=env)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code in (0, 1), (run.code, run.stderr)
    return run, json.loads(run.stdout)["findings"]


@pytest.mark.parametrize(("body", "check", "line", "words"), [
    ("groups: " + "[" * DEEP + "\n", "rule-file-invalid", 1, "nested deeper than 64"),
    ("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      x: " + "[" * DEEP + "\n",
     "rule-file-invalid", 7, "nested deeper than 64"),
    ("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up > 0\n    for: " + HUGE_INT + "\n",
     "rule-file-invalid", 6, "more than 4300 digits"),
    ('groups:\n- name: g\n  rules:\n  - alert: "A\\ud800"\n    expr: up > 0\n', "rule-file-invalid", 4,
     "lone surrogate"),
    (RULE.format(expr="(" * 10_000 + "up" + ")" * 10_000 + " > 0"), "promql-invalid", 5, "nested deeper than 64"),
    (RULE.format(expr='sum(rate(x{a="((((((("}[5m])) > 0'), None, None, None),
])
def test_a_hostile_rule_file_is_a_finding_at_its_line(tmp_path, body, check, line, words):
    run, findings = lint(tmp_path, body)
    if check is None:
        assert findings == [], findings
        return
    assert run.code == 1
    hits = [f for f in findings if f["check_id"] == check]
    assert hits and hits[0]["line"] == line and words in hits[0]["message"], findings


def test_ten_thousand_parentheses_do_not_crash_the_linter(tmp_path):
    # promql_parser overflowed its stack here (exit -11) before the depth check.
    run, findings = lint(tmp_path, RULE.format(expr="(" * 10_000 + "up" + ")" * 10_000 + " > 0"))
    assert run.code == 1 and [f["check_id"] for f in findings] == ["promql-invalid"]


def test_a_long_runbook_path_is_a_finding_not_a_crash(tmp_path):
    body = RULE.replace("https://example.com/a", "r" * 100_000).format(expr="up > 0")
    _, findings = lint(tmp_path, body)
    assert [f["check_id"] for f in findings] == ["runbook-missing"]


def test_a_rule_file_over_the_limit_is_a_finding(tmp_path):
    body = RULE.format(expr="up > 0") + "# pad\n" * 100
    run, findings = lint(tmp_path, body, env={"FIRELINE_MAX_INPUT_BYTES": "200"})
    assert run.code == 1 and "larger than the input limit" in findings[0]["message"]


# ---- postmortem front matter ----------------------------------------------------------------------

@pytest.mark.parametrize(("front", "line", "words"), [
    ("id: PM-1\ntitle: " + "[" * DEEP + "\n", 3, "nested deeper than 64"),
    ("id: PM-1\ntitle: t\ndate: 2026-03-02\nseverity: " + HUGE_INT + "\n", 5, "more than 4300 digits"),
    ('id: PM-1\ntitle: "t\\ud800"\n', 3, "lone surrogate"),
])
def test_hostile_front_matter_is_a_finding_and_is_not_ingested(tmp_path, seeded, front, line, words):
    folder = tmp_path / "postmortems"
    folder.mkdir()
    (folder / "pm.md").write_text("---\n" + front + "---\n# PM\n")
    run = fireline(tmp_path, "postmortem", "lint", "--format", "json", str(folder))
    assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
    findings = json.loads(run.stdout)["findings"]
    assert any(f["line"] == line and words in f["message"] for f in findings), findings
    before = counts(seeded)
    user_error(fireline(tmp_path, "ingest", "postmortems", str(folder)), "nothing was written", words)
    assert counts(seeded) == before


def test_the_documented_limits_are_the_ones_in_the_code():
    from fireline import safe_load

    doc = (Path(__file__).resolve().parent.parent / "docs" / "inputs.md").read_text()
    assert safe_load.DEFAULT_MAX_INPUT_BYTES == 512 * 1024 * 1024 and "512 MiB" in doc
    assert f"{safe_load.MAX_DEPTH} levels" in doc and safe_load.MAX_INPUT_ENV in doc
