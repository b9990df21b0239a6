"""`[notify.<name>]`: digests and alerts reach real receivers on loopback, in the published formats, once each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from fireline import Workspace
from fireline.cli import app
from fireline.notify import cron, scheduler

from .notify_support import notify_world, start_receiver

# Monday 2026-05-18 09:30 in Berlin: the Data team's week of the disk that filled up (INC-0042) and the
# Sunday hotfix nobody was on call for.
MONDAY = datetime(2026, 5, 18, 7, 30, tzinfo=UTC)
FIRED = datetime(2026, 5, 18, 7, 0, tzinfo=UTC)  # 09:00 CEST
ONLY_DIGEST = 'overdue_actions = false\nhandoff = false\nunguarded_deploy = false\ncustomer_first = false\n'
SLACK_BLOCKS = {"header", "section", "context", "divider"}


@pytest.fixture
def receiver():
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()


def _world(demo_org, tmp_path, toml: str) -> tuple[str, str]:
    return notify_world(demo_org.directory, tmp_path, toml)


def _channel(name: str, kind: str, env: str, extra: str = "") -> str:
    return (f'[notify.{name}]\nkind = "{kind}"\nurl_env = "{env}"\nteams = ["Data"]\n'
            f'timezone = "Europe/Berlin"\n{extra}')


def _run(db: str, config: str, now: datetime) -> list[scheduler.SentMessage]:
    with Workspace(db, config) as ws:  # a new workspace each time: what a restarted server has
        return scheduler.send_due(ws, now=now)


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def _fireline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real command (its exit codes: 2 for bad config, 1 for a refused send)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("FIRELINE_", "FL_"))}
    return subprocess.run([sys.executable, "-m", "fireline", *args], env={**full, **(env or {}), "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=300)


def _slack_shape(body: dict) -> None:
    assert set(body) == {"text", "blocks"} and isinstance(body["text"], str)
    assert 0 < len(body["blocks"]) <= 50
    for block in body["blocks"]:
        assert block["type"] in SLACK_BLOCKS
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert block["text"]["type"] == "mrkdwn" and 0 < len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10


def _teams_shape(body: dict) -> list[dict]:
    """The card's facts, after checking the envelope Teams incoming webhooks accept."""
    assert body["type"] == "message" and set(body) == {"type", "attachments"}
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["version"] in ("1.0", "1.2", "1.3", "1.4", "1.5")

    def elements(items):
        for item in items:
            yield item
            yield from elements(item.get("items", []))

    assert {e["type"] for e in elements(card["body"])} <= {"TextBlock", "Container", "FactSet"}
    facts = [f for e in elements(card["body"]) if e["type"] == "FactSet" for f in e["facts"]]
    assert all(set(f) == {"title", "value"} for f in facts)
    return facts


def test_the_weekly_digest_reaches_slack_teams_and_a_json_webhook_with_fireline_doras_figures(
        demo_org, tmp_path, monkeypatch):
    receivers, servers, toml = {}, [], ""
    for kind in ("slack", "teams", "webhook"):
        receivers[kind], server = start_receiver()
        servers.append(server)
        monkeypatch.setenv(f"FL_{kind.upper()}_URL", receivers[kind].url)
        toml += _channel(kind, kind, f"FL_{kind.upper()}_URL", ONLY_DIGEST) + "\n"
    db, config = _world(demo_org, tmp_path, toml)
    try:
        sent = _run(db, config, MONDAY)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert [(m.channel, m.status, m.key) for m in sent] == [
        (kind, "sent", "dora_digest:Data:2026-05-18T07:00:00+00:00") for kind in ("slack", "teams", "webhook")]
    (slack,) = receivers["slack"].received
    assert slack.headers["Content-Type"].startswith("application/json")
    _slack_shape(slack.body)
    (teams,) = receivers["teams"].bodies()
    facts = _teams_shape(teams)
    assert {f["title"] for f in facts} >= {"Lead time", "Deploys", "Fail rate", "Restore", "Rework"}
    (hook,) = receivers["webhook"].bodies()
    assert hook["fireline"] == 1 and hook["kind"] == "dora_digest" and hook["team"] == "Data"
    # The figures a reader sees are `fireline dora`'s for the same week and the 4 weeks before it.
    week = hook["data"]
    assert (week["since"], week["until"]) == ("2026-05-11T07:00:00+00:00", "2026-05-18T07:00:00+00:00")
    dora = json.loads(_cli("dora", "--db", db, "--config", config, "--team", "Data", "--since", week["since"],
                           "--until", week["until"], "--json").output)["overall"]
    previous = json.loads(_cli("dora", "--db", db, "--config", config, "--team", "Data", "--since",
                               week["previous_since"], "--until", week["since"], "--json").output)["overall"]
    for metric in ("lead_time", "deployment_frequency", "change_failure_rate", "time_to_restore"):
        assert week["metrics"][metric]["value"] == pytest.approx(dora[metric]["value"])
        assert week["metrics"][metric]["tier"] == dora[metric]["tier"]
        assert week["metrics"][metric]["previous"] == pytest.approx(previous[metric]["value"])
    assert (week["metrics"]["lead_time"]["change"], week["metrics"]["time_to_restore"]["change"]) == ("better", "worse")
    lead = dora["lead_time"]
    shown = f"{lead['value'] / 24:.1f} days ({lead['tier']})"  # 2.5 days (Mid)
    assert shown in json.dumps(slack.body) and any(shown in f["value"] for f in facts)
    # The deployments and incidents behind the change: the Sunday hotfix and the disk that filled up.
    assert all("dep-0077" in json.dumps(b) and "INC-0042" in json.dumps(b) for b in (slack.body, teams, hook))


def test_each_message_is_sent_once_across_a_restart(demo_org, tmp_path, receiver, monkeypatch):
    db, config = _world(demo_org, tmp_path, _channel("chat", "webhook", "FL_HOOK_URL"))
    monkeypatch.setenv("FL_HOOK_URL", receiver.url)
    first = _run(db, config, MONDAY)
    assert {m.kind for m in first} == {"dora_digest", "overdue_actions", "unguarded_deploy"}
    assert all(m.status == "sent" for m in first)
    assert _run(db, config, MONDAY + timedelta(minutes=10)) == []  # a new process on the same store
    assert len(receiver.received) == len(first)
    (weekend,) = [b for b in receiver.bodies() if b["kind"] == "unguarded_deploy"]
    assert weekend["data"]["id"] == "dep-0077" and weekend["data"]["weekday"] == "Sunday"
    overdue = next(b for b in receiver.bodies() if b["kind"] == "overdue_actions")
    assert [s["heading"] for s in overdue["sections"]] == ["Tom Fletcher (1)"]


ONLY_OVERDUE = 'dora_digest = false\nhandoff = false\nunguarded_deploy = false\ncustomer_first = false\n'


def test_a_failed_send_is_retried_with_back_off(demo_org, tmp_path, receiver, monkeypatch):
    db, config = _world(demo_org, tmp_path, _channel("chat", "slack", "FL_SLACK_URL", ONLY_OVERDUE))
    monkeypatch.setenv("FL_SLACK_URL", receiver.url)
    receiver.statuses = [(500, "invalid_token"), (503, "busy")]
    (failed,) = _run(db, config, MONDAY)
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.error == "HTTP 500 Internal Server Error: invalid_token"
    assert failed.next_attempt == MONDAY + timedelta(minutes=1)
    assert _run(db, config, MONDAY + timedelta(seconds=30)) == []  # not yet due
    (again,) = _run(db, config, MONDAY + timedelta(minutes=1))
    assert (again.status, again.attempts, again.next_attempt) == ("failed", 2, MONDAY + timedelta(minutes=3))
    (done,) = _run(db, config, MONDAY + timedelta(minutes=3))
    assert (done.status, done.attempts) == ("sent", 3)
    assert _run(db, config, MONDAY + timedelta(hours=2)) == []
    assert len(receiver.received) == 3 and receiver.bodies()[0] == receiver.bodies()[2]  # the same message


def test_a_customer_report_with_no_alert_before_it_is_told(demo_org, tmp_path, receiver, monkeypatch):
    toml = _channel("chat", "webhook", "FL_HOOK_URL", "dora_digest = false\noverdue_actions = false\nhandoff = false\n"
                    "unguarded_deploy = false\n")
    db, config = _world(demo_org, tmp_path, toml)
    monkeypatch.setenv("FL_HOOK_URL", receiver.url)
    (sent,) = _run(db, config, datetime(2026, 5, 16, 9, 0, tzinfo=UTC))
    assert sent.key == "customer_first:INC-0042"
    (body,) = receiver.bodies()
    assert dict(body["sections"][0]["facts"])["Alerts before it"] == "none"


def test_the_weekly_digest_keeps_09_00_in_berlin_across_the_dst_change(demo_org, tmp_path, receiver, monkeypatch):
    schedule = cron.parse("0 9 * * mon")
    march = schedule.firings("Europe/Berlin", datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert march == [datetime(2026, 3, 23, 8, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)]
    # 02:30 does not exist on 29 March (it fires at 03:30 CEST) and happens twice on 25 October (fires once).
    nightly = cron.parse("30 2 * * *")
    assert nightly.firings("Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC),
                           datetime(2026, 3, 29, 12, tzinfo=UTC)) == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
    assert nightly.firings("Europe/Berlin", datetime(2026, 10, 24, 12, tzinfo=UTC),
                           datetime(2026, 10, 25, 12, tzinfo=UTC)) == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]
    db, config = _world(demo_org, tmp_path, _channel("hook", "webhook", "FL_HOOK_URL", ONLY_DIGEST))
    monkeypatch.setenv("FL_HOOK_URL", receiver.url)
    assert _run(db, config, datetime(2026, 3, 30, 6, 59, tzinfo=UTC)) == []  # 08:59 CEST: the week is not over
    (sent,) = _run(db, config, datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert sent.key == "dora_digest:Data:2026-03-30T07:00:00+00:00"
    (body,) = receiver.bodies()
    # Monday 09:00 to Monday 09:00 on the Berlin clock: 167 hours that week.
    assert (body["data"]["since"], body["data"]["until"]) == ("2026-03-23T08:00:00+00:00", "2026-03-30T07:00:00+00:00")


def test_notify_test_sends_a_sample_and_reports_the_receivers_refusal(demo_org, tmp_path, receiver):
    _db, config = _world(demo_org, tmp_path, _channel("chat", "slack", "FL_SLACK_URL"))
    ok = _cli("notify", "test", "chat", "--config", config, env={"FL_SLACK_URL": receiver.url})
    assert ok.exit_code == 0, ok.output
    assert receiver.bodies()[0]["blocks"][0]["text"]["text"] == "Fireline test message"
    receiver.statuses = [(404, "no_service")]
    bad = _fireline("notify", "test", "chat", "--config", config, env={"FL_SLACK_URL": receiver.url})
    assert bad.returncode == 1
    assert "chat: HTTP 404 Not Found: no_service" in bad.stderr


def test_a_missing_environment_variable_is_a_clear_error(demo_org, tmp_path):
    _db, config = _world(demo_org, tmp_path, _channel("chat", "slack", "FL_UNSET_URL"))
    res = _fireline("notify", "test", "chat", "--config", config)
    assert res.returncode == 2
    assert f"{config}: notify.chat.url_env: the environment variable FL_UNSET_URL is not set" in \
        " ".join(res.stderr.split())


@pytest.mark.parametrize(("toml", "message"), [
    ('[notify.chat]\nkind = "slack"\nurl = "https://hooks.slack.com/services/T0/B0/x"\n',
     "notify.chat: `url` would put a secret in the file: set it in an environment variable and name that variable "
     "in `url_env`"),
    ('[notify.chat]\nkind = "slack"\nurl_env = "https://hooks.slack.com/services/T0/B0/x"\n',
     "notify.chat.url_env: expected the name of an environment variable"),
    ('[notify.chat]\nkind = "slack"\nurl_env = "X"\nlookback_hours = "soon"\n',
     "notify.chat.lookback_hours: Input should be a valid number"),
    ('[notify.chat]\nkind = "slack"\nurl_env = "X"\ndora_digest = "0 25 * * mon"\n',
     "notify.chat.dora_digest: hour 25 is out of range 0-23"),
    ('[notify.chat]\nkind = "pager"\nurl_env = "X"\n', "notify.chat.kind: Input should be 'slack', 'teams'"),
    ('[notify.mail]\nkind = "email"\nsmtp_host = "localhost"\n', "notify.mail: an email channel needs sender, to"),
    ('[notify.chat]\nkind = "slack"\nurl_env = "X"\nteams = ["Nobody"]\n', "notify.chat.teams.0: unknown team"),
])
def test_config_errors_name_the_file_and_key(demo_org, tmp_path, toml, message):
    db, config = _world(demo_org, tmp_path, toml)
    res = _fireline("dora", "--db", db, "--config", config)  # any command refuses the config, before any work
    assert res.returncode == 2
    assert f"{config}: {message}" in " ".join(res.stderr.split())


def test_send_dry_run_prints_and_records_nothing(demo_org, tmp_path, receiver):
    db, config = _world(demo_org, tmp_path, _channel("chat", "slack", "FL_SLACK_URL", ONLY_OVERDUE))
    env = {"FL_SLACK_URL": receiver.url}
    res = _cli("notify", "send", "overdue_actions", "--dry-run", "--json", "--at", "2026-05-18T09:00", "--db", db,
               "--config", config, env=env)
    assert res.exit_code == 0, res.output
    (preview,) = json.loads(res.output)
    assert preview["channel"] == "chat" and preview["message"]["title"] == "Overdue action items: Data"
    assert receiver.received == []
    sent = _cli("notify", "send", "overdue_actions", "--json", "--at", "2026-05-18T09:00", "--db", db, "--config",
                config, env=env)
    assert sent.exit_code == 0, sent.output
    assert [r["status"] for r in json.loads(sent.output)] == ["sent"]
    assert len(receiver.received) == 1
    _slack_shape(receiver.bodies()[0])
    again = _cli("notify", "send", "overdue_actions", "--json", "--at", "2026-05-18T09:00", "--db", db, "--config",
                 config, env=env)
    assert [r["status"] for r in json.loads(again.output)] == ["already_sent"] and len(receiver.received) == 1


def test_the_notifications_table_lets_one_process_send_a_message_on_both_engines(store):
    from fireline.store import notify as records

    now = datetime(2026, 5, 18, 7, 0, tzinfo=UTC)
    row = {"channel": "chat", "key": "dora_digest:Data:2026-05-18T07:00:00+00:00", "kind": "dora_digest",
           "team": "Data", "status": "sending", "attempts": 0, "first_attempt": now, "last_attempt": now,
           "message": "{}"}
    assert records.claim_new(store, row) is True
    assert records.claim_new(store, row) is False  # a second process (or a restart) does not send it
    records.finish(store, "chat", row["key"], status="failed", attempts=1, at=now,
                   next_attempt=now + timedelta(minutes=1), error="HTTP 500")
    assert records.due_retries(store, now, ["chat"]) == []
    (due,) = records.due_retries(store, now + timedelta(minutes=1), ["chat"])
    assert (due["status"], due["attempts"], due["error"]) == ("failed", 1, "HTTP 500")
    later = now + timedelta(minutes=1)
    assert records.claim_retry(store, "chat", row["key"], later, later - timedelta(minutes=15)) is True
    assert records.claim_retry(store, "chat", row["key"], later, later - timedelta(minutes=15)) is False
    records.finish(store, "chat", row["key"], status="sent", attempts=2, at=later, next_attempt=None, error=None)
    (done,) = records.history(store, "chat")
    assert (done["status"], done["sent_at"], done["attempts"]) == ("sent", later, 2)
    assert records.recorded_keys(store, "chat", [row["key"], "other"]) == {row["key"]}


def test_the_handoff_note_goes_out_at_the_change_of_person_with_each_persons_clock(demo_org, tmp_path, receiver,
                                                                                   monkeypatch):
    toml = _channel("chat", "webhook", "FL_HOOK_URL", "dora_digest = false\noverdue_actions = false\n"
                    "unguarded_deploy = false\ncustomer_first = false\n")
    db, config = _world(demo_org, tmp_path, toml)
    monkeypatch.setenv("FL_HOOK_URL", receiver.url)
    # Sunday 23:00 UTC Tom is back after the weekend nobody covered (his own shift: no hand-off); Monday
    # 08:00 UTC (09:00 in London, 10:00 in Berlin, 04:00 in New York) Tom hands over to Sofia.
    assert _run(db, config, datetime(2026, 5, 18, 7, 59, tzinfo=UTC)) == []
    (sent,) = _run(db, config, datetime(2026, 5, 18, 8, 5, tzinfo=UTC))
    assert sent.key == "handoff:Data:2026-05-18T08:00:00+00:00"
    (body,) = receiver.bodies()
    facts = dict(body["sections"][0]["facts"])
    assert facts["Outgoing"].startswith("Tom Fletcher, Mon 2026-05-11 10:00 CEST") and "09:00 BST their time" in \
        facts["Outgoing"]
    assert facts["Incoming"] == ("Sofia Alvarez, Mon 2026-05-18 10:00 CEST → Mon 2026-05-25 10:00 CEST "
                                 "(Mon 2026-05-18 04:00 EDT their time)")
    assert body["summary"] == "Sofia Alvarez takes over at Mon 2026-05-18 10:00 CEST"
    assert "dep-0077" in json.dumps(body["sections"])  # the weekend hotfix is in the note


def test_a_config_without_rotations_gets_its_digests_and_no_error(duck, tmp_path, monkeypatch):
    from fireline.config import parse_config

    config = parse_config({"teams": {"Web": {"services": ["web"]}},
                           "notify": {"chat": {"kind": "webhook", "url_env": "FL_HOOK_URL"}}},
                          source=str(tmp_path / "fireline.toml"), base_dir=tmp_path)
    got = []
    now = datetime(2026, 5, 18, 9, 30, tzinfo=UTC)  # 09:00 on the config's clock (UTC) has passed
    sent = scheduler.send_due(duck, config, now, send=lambda channel, message: got.append(message))
    assert [(s.key, s.status) for s in sent] == [("dora_digest:Web:2026-05-18T09:00:00+00:00", "sent")]
    assert got[0].data["metrics"]["lead_time"]["unknown"]  # an empty store: unknown, never 0
    assert scheduler.send_due(duck, config, now, send=lambda channel, message: got.append(message)) == []
    assert duck.count("notifications") == 2  # the digest, and the overdue check that found nothing


def test_a_config_naming_no_team_gets_one_digest_of_every_service(duck, tmp_path):
    from fireline.config import parse_config

    config = parse_config({"notify": {"chat": {"kind": "webhook", "url_env": "FL_HOOK_URL"}}},
                          source=str(tmp_path / "fireline.toml"), base_dir=tmp_path)
    got = []
    now = datetime(2026, 5, 18, 9, 30, tzinfo=UTC)
    sent = scheduler.send_due(duck, config, now, send=lambda channel, message: got.append(message))
    assert [(s.key, s.status) for s in sent] == [("dora_digest:all:2026-05-18T09:00:00+00:00", "sent")]
    assert got[0].title == "DORA weekly digest: all services"
