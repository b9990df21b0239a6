"""Fuzz every file input of the CLI: whatever a file holds, the command exits 0 (read) or 2 (refused with a
message), lint commands may also exit 1 (findings), never with a traceback or another exception, and a
refused ingest leaves the store exactly as it was.

The inputs mix well-formed records with hostile values (control characters, lone surrogates, markup, huge
numbers, deep nesting, very long fields) and raw byte noise. Example counts are modest: this keeps the
property, the regression tests in test_inputs_limits.py pin the known cases.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fireline.cli import app
from fireline.errors import UserError
from fireline.store import Store

FUZZ = settings(max_examples=int(os.environ.get("FIRELINE_FUZZ_EXAMPLES", "30")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

NASTY = st.sampled_from([
    "\x1b]0;title\x07\x1b[2J", "\x9b31m", "\x00", "\r\n", "[bold red]x[/]", "[/]", ":fire:", "\ud800",
    "\udfff", "1" * 4400, "-" + "9" * 5000, "[" * 200, "{" * 100, "(" * 300, "a" * 140_000, "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+01:00", "2026-02-30T10:00:00Z", "2026-03-02T10:00:00", "2026-03-02T10:00:00Z",
    "Europe/London", "Mars/Olympus", "z" * 300, "../../etc/passwd", "production", "success", "abcdef1",
    "firing", "resolved", "on", "off", "canary", "", " ", "null", "NaN", "1e999",
])
SCALAR = st.one_of(NASTY, st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.booleans(),
                   st.none())
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                     max_leaves=6)

FIELDS = {
    "deployments": ["time", "service", "sha", "environment", "status", "id", "type", "stage", "flag", "state"],
    "incidents": ["id", "service", "started", "detected", "resolved", "severity", "detected_by", "cause", "title"],
    "alerts": ["fingerprint", "name", "status", "starts_at", "ends_at", "service", "severity", "labels",
               "annotations", "startsAt", "endsAt"],
    "flags": ["flag", "service", "time", "state", "incident_id", "id"],
}


def records(kind: str) -> st.SearchStrategy[list[dict]]:
    return st.lists(st.dictionaries(st.sampled_from(FIELDS[kind] + ["x"]), VALUE, max_size=len(FIELDS[kind])),
                    min_size=1, max_size=4)


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def serialise(rows: list[dict], form: str) -> bytes:
    if form == "ndjson":
        text = "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows)
    elif form == "array":
        text = json.dumps(rows, indent=1)
    else:
        out = io.StringIO()
        header = sorted({k for r in rows for k in r}) or ["x"]
        w = csv.writer(out)
        w.writerow(header)
        for r in rows:
            w.writerow([_text(r.get(k, "")) for k in header])
        text = out.getvalue()
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate in CSV becomes invalid UTF-8


def mangle(data: bytes, cut: int, noise: bytes) -> bytes:
    """A file cut short and/or with bytes spliced in: what a broken export looks like."""
    cut = min(cut, len(data))
    return data[:cut] + noise + data[cut:]


def file_bodies(kind: str) -> st.SearchStrategy[bytes]:
    structured = st.builds(serialise, records(kind), st.sampled_from(["ndjson", "array", "csv"]))
    return st.one_of(structured,
                     st.builds(mangle, structured, st.integers(0, 400), st.binary(max_size=12)),
                     st.binary(max_size=200))


def invoke(args: list[str], env: dict[str, str] | None = None) -> int:
    """Run the CLI in-process as `fireline` would: a UserError is exit 2 (cli.main prints it)."""
    result = CliRunner().invoke(app, args, env=env)
    exc = result.exception
    if isinstance(exc, UserError):
        return 2
    if exc is not None and not isinstance(exc, SystemExit):
        raise AssertionError(f"{args[:3]}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    assert "Traceback" not in result.output
    return result.exit_code


def counts(db: str) -> dict[str, int]:
    store = Store.open(db, create=False)
    try:
        names = [r[0] for r in store.query("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'main'")]
        return {t: store.count(t) for t in names}
    finally:
        store.close()


@pytest.fixture
def world(tmp_path) -> tuple[Path, str]:
    db = str(tmp_path / "fuzz.duckdb")
    good = tmp_path / "good.csv"
    good.write_text("time,service,sha\n2026-03-02T10:00:00Z,web,abcdef1\n")
    assert invoke(["ingest", "deployments", str(good), "--db", db]) == 0
    return tmp_path, db


@pytest.mark.parametrize("kind", list(FIELDS))
def test_ingest_any_file_exits_0_or_2_and_a_refusal_writes_nothing(world, kind):
    folder, db = world

    @FUZZ
    @given(body=file_bodies(kind))
    def check(body: bytes) -> None:
        path = folder / f"input-{kind}"
        path.write_bytes(body)
        before = counts(db)
        code = invoke(["ingest", kind, str(path), "--db", db], env={"FIRELINE_MAX_INPUT_BYTES": "256KiB"})
        assert code in (0, 2)
        if code == 2:
            assert counts(db) == before

    check()


RULE_VALUE = st.one_of(NASTY, st.text(max_size=30), st.sampled_from(["up > 0", "rate(x[5m]) > 1", "5m", "page"]))


def _yaml_scalar(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


@st.composite
def rule_files(draw) -> bytes:
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        fields = draw(st.dictionaries(st.sampled_from(["alert", "record", "expr", "for", "keep_firing_for", "x"]),
                                      RULE_VALUE, max_size=5))
        labels = draw(st.dictionaries(st.sampled_from(["severity", "team", "a"]), RULE_VALUE, max_size=2))
        annotations = draw(st.dictionaries(st.sampled_from(["summary", "description", "runbook_url"]), RULE_VALUE,
                                           max_size=3))
        body = "".join(f"    {k}: {_yaml_scalar(v)}\n" for k, v in fields.items())
        body += "    labels: " + json.dumps(labels) + "\n" + "    annotations: " + json.dumps(annotations) + "\n"
        rules.append("  - " + body.lstrip())
    text = "groups:\n- name: " + _yaml_scalar(draw(RULE_VALUE)) + "\n  rules:\n" + "".join(rules)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = mangle(data, draw(st.integers(0, 300)), draw(st.binary(max_size=8)))
    return data


def test_alerts_lint_any_rule_file_exits_0_1_or_2(tmp_path):
    @FUZZ
    @given(body=st.one_of(rule_files(), st.binary(max_size=200)))
    def check(body: bytes) -> None:
        path = tmp_path / "rules.yml"
        path.write_bytes(body)
        for fmt in ("text", "json"):
            assert invoke(["alerts", "lint", "--format", fmt, str(path)]) in (0, 1, 2)

    check()


@st.composite
def postmortems(draw) -> bytes:
    keys = draw(st.dictionaries(st.sampled_from(["id", "title", "date", "severity", "services", "incidents",
                                                 "status", "tags"]), RULE_VALUE, max_size=6))
    items = draw(st.lists(st.dictionaries(st.sampled_from(["owner", "what", "due", "term", "status", "done_on",
                                                           "dora_metric"]), RULE_VALUE, max_size=5), max_size=2))
    front = "".join(f"{k}: {_yaml_scalar(v)}\n" for k, v in keys.items())
    front += "action_items:\n" + "".join("  - " + json.dumps(i) + "\n" for i in items) if items else ""
    data = ("---\n" + front + "---\n\nBody.\n").encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = mangle(data, draw(st.integers(0, 300)), draw(st.binary(max_size=8)))
    return data


def test_postmortems_any_front_matter_lints_and_ingests_or_is_refused(world):
    folder, db = world
    pm = folder / "postmortems"
    pm.mkdir()

    @FUZZ
    @given(body=st.one_of(postmortems(), st.binary(max_size=200)))
    def check(body: bytes) -> None:
        (pm / "pm.md").write_bytes(body)
        assert invoke(["postmortem", "lint", "--format", "json", str(pm)]) in (0, 1, 2)
        before = counts(db)
        code = invoke(["ingest", "postmortems", str(pm), "--db", db])
        assert code in (0, 2)
        if code == 2:
            assert counts(db) == before

    check()


TOML_VALUE = st.one_of(st.builds(json.dumps, st.one_of(NASTY, st.text(max_size=20))),
                       st.sampled_from(["1" * 4400, "[" * 200, "{a = " * 100, "2026-03-02", "true", "[]", "{}",
                                        '"""x', "nan", "inf", "-0", "0x10", "1_000"]),
                       st.integers().map(str))


@st.composite
def configs(draw) -> bytes:
    top = draw(st.dictionaries(st.sampled_from(["timezone", "profile", "production_environments", "deploy_tags",
                                                "x"]), TOML_VALUE, max_size=3))
    person = draw(st.dictionaries(st.sampled_from(["email", "timezone", "team"]), TOML_VALUE, max_size=2))
    layer = draw(st.dictionaries(st.sampled_from(["name", "length", "start", "handoff"]), TOML_VALUE, max_size=3))
    text = "".join(f"{k} = {v}\n" for k, v in top.items())
    text += "[people.Tom]\n" + "".join(f"{k} = {v}\n" for k, v in person.items())
    text += '[[rotations.A.layers]]\nmembers = ["Tom"]\n' + "".join(f"{k} = {v}\n" for k, v in layer.items())
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = mangle(data, draw(st.integers(0, 300)), draw(st.binary(max_size=8)))
    return data


def test_any_config_file_exits_0_or_2(world):
    folder, db = world

    @FUZZ
    @given(body=st.one_of(configs(), st.binary(max_size=200)))
    def check(body: bytes) -> None:
        path = folder / "fuzz.toml"
        path.write_bytes(body)
        assert invoke(["dora", "--db", db, "--config", str(path), "--json"]) in (0, 2)
        assert invoke(["oncall", "now", "--config", str(path), "--at", "2026-03-03"]) in (0, 2)

    check()


ICS_LINE = st.one_of(
    st.sampled_from(["BEGIN:VEVENT", "END:VEVENT", "BEGIN:VCALENDAR", "END:VCALENDAR", "UID:1@x", "SUMMARY:Tom",
                     "DTSTART;VALUE=DATE:20260403", "DTEND;VALUE=DATE:20260406", "DTSTART:20260403T090000Z",
                     "DTSTART;TZID=Mars/Olympus:20260403T090000", "RRULE:FREQ=SECONDLY",
                     "ATTENDEE;CN=Tom:mailto:tom@example.com", "STATUS:CANCELLED", "SEQUENCE:" + "1" * 4400,
                     "DTSTART;TZID=" + "z" * 400 + ":20260403T090000", "BEGIN:VEVENT\r\n" * 80]),
    st.builds(lambda k, v: f"{k}:{v}", st.sampled_from(["SUMMARY", "DTSTART", "DTEND", "RRULE", "DESCRIPTION"]),
              st.text(max_size=20)),
)


def test_any_pto_calendar_exits_0_or_2(tmp_path):
    (tmp_path / "fireline.toml").write_text(
        '[people.Tom]\nemail = "tom@example.com"\n[oncall]\npto_calendars = ["pto.ics"]\n'
        '[[rotations.A.layers]]\nname = "b"\nmembers = ["Tom"]\nlength = "1w"\nstart = 2026-03-30\n')

    @FUZZ
    @given(lines=st.lists(ICS_LINE, max_size=12), noise=st.binary(max_size=8))
    def check(lines: list[str], noise: bytes) -> None:
        body = ("BEGIN:VCALENDAR\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VCALENDAR\r\n")
        (tmp_path / "pto.ics").write_bytes(body.encode("utf-8", "surrogatepass") + noise)
        code = invoke(["oncall", "now", "--config", str(tmp_path / "fireline.toml"), "--at", "2026-04-01"])
        assert code in (0, 2)

    check()
