"""The demo's postmortems: the disk-full incident (INC-0042) with the talk's action items, and a few others.

A demo part (see parts.py): CONFIG_TOML is appended to the demo's fireline.toml, build() writes
files once the repositories exist, ingest() loads them into the store, hints() adds commands
to the printed walkthrough.

The done_on dates were chosen by measuring the demo store with `fireline followup`, not by
making the data fit: UI's smaller releases (done 2026-04-06) really raised its deployment
frequency and Data's review rota (done 2026-05-08) really cut its lead time; SRE's daily
deploys item (done 2026-05-28) was followed by fewer deployments, C++ ships monthly so its
lead-time item has too little data, and Data's staging item shows no clear change. The
purger alert from the February postmortem was never done: INC-0042 repeats it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from ..config import Config
from ..store import Store
from .dates import LON, NYC, WINDOW_END
from .incidents import TALK_INCIDENT, TALK_INCIDENT_TITLE, story_incidents

CONFIG_TOML = """
[postmortems]
folder = "postmortems"
repeat_window_days = 90
followup_weeks = 8
"""
TODAY = WINDOW_END.date()  # the demo's "today" for actions and followup: output stays the same every run
TICKETS = "https://tracker.example.com/browse"

SECTIONS = ("Summary", "Impact", "Root causes", "Trigger", "Resolution", "Detection", "Lessons learned", "Timeline")


def _incidents() -> dict[str, dict[str, Any]]:
    """Incident ids as world.py numbers them (by start time, the talk's incident being INC-0042)."""
    ordered = sorted(story_incidents(), key=lambda i: i.started)
    first = 42 - next(n for n, i in enumerate(ordered) if i.title == TALK_INCIDENT_TITLE)
    return {f"INC-{n:04d}": {"incident": i, "zone": NYC if i.service == "pricing-engine" else LON}
            for n, i in enumerate(ordered, first)}


def _item(owner: str, what: str, due: str, term: str = "short", metric: str = "none", status: str = "open",
          done_on: str | None = None, ticket: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"owner": owner, "what": what, "due": date.fromisoformat(due), "term": term,
                            "dora_metric": metric, "status": status}
    if done_on:
        item["done_on"] = date.fromisoformat(done_on)
    if ticket:
        item["ticket"] = f"{TICKETS}/{ticket}"
    return item


def _local(when: datetime, zone: str) -> str:
    return when.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def _postmortem(incident_id: str, written: str, tags: list[str], authors: list[str], items: list[dict[str, Any]],
                body: dict[str, str]) -> tuple[str, str]:
    known = _incidents()[incident_id]
    inc, zone = known["incident"], known["zone"]
    front = {
        "id": f"PM-{incident_id}", "title": inc.title, "date": date.fromisoformat(written), "severity": inc.severity,
        "services": [inc.service], "incidents": [incident_id], "detected_by": inc.detected_by,
        "impact_start": _local(inc.started, zone), "impact_end": _local(inc.started + inc.restore, zone),
        "status": "published", "authors": authors, "tags": tags, "action_items": items,
    }
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=110) + "---\n\n"
    text += f"# {inc.title}\n"
    for section in SECTIONS:
        text += f"\n## {section}\n\n{body.get(section, '-').strip()}\n"
    name = f"{inc.started.astimezone(ZoneInfo(zone)).date().isoformat()}-{incident_id.lower()}.md"
    return name, text


def _disk_full() -> tuple[str, str]:
    items = [
        _item("Hannah Clarke", "Alert at 85% disk usage on the export host, with a runbook link", "2026-05-22",
              status="done", done_on="2026-05-20", ticket="SRE-412"),
        _item("SRE", "Update the export host runbook: freeing disk, restarting the purger", "2026-05-29",
              status="done", done_on="2026-05-22", ticket="SRE-413"),
        _item("Tom Fletcher", "Error handling in the purger job: fail loudly, exit non-zero", "2026-05-29",
              status="done", done_on="2026-05-27", ticket="DATA-881"),
        _item("Sofia Alvarez", "Move the purger job to Airflow, with retries and a success sensor", "2026-06-19",
              ticket="DATA-882"),
        _item("Kenji Watanabe", "Improve signal to noise: refactor third-party library errors out of paging alerts",
              "2026-06-12", ticket="UI-307"),
        _item("C++", "Update the support rotation calendar (who is on call, across time zones)", "2026-07-10",
              ticket="CPP-95"),
        _item("SRE", "Faster and reliable updates to production: deploy the platform in small daily changes",
              "2026-06-05", term="long", metric="deployment_frequency", status="done", done_on="2026-05-28",
              ticket="SRE-420"),
        _item("Daniel Novak", "Reduce build times and improve testing efficiency of the pricing engine",
              "2026-06-05", term="long", metric="lead_time", status="done", done_on="2026-06-01", ticket="CPP-96"),
        _item("Data", "Enhance data quality in non-production environments", "2026-06-30", term="long",
              metric="change_failure_rate", ticket="DATA-890"),
        _item("UI", "Synthetic UI tests that validate every release after it ships", "2026-06-15", term="long",
              metric="time_to_restore", ticket="UI-310"),
    ]
    body = {
        "Summary": "The purger job failed silently for days; the export host's disk filled up and the nightly "
                   "export stopped. A customer reported missing files before any alert fired.",
        "Impact": "Exports missing for about a day and a half for every customer; SEV1.",
        "Root causes": "The purger swallowed its own errors and exited 0. Nothing watched the disk or the "
                       "purger's last success. The purger's only author had moved to team UI.",
        "Trigger": "A purger release changed the retention query; it failed on every run from then on.",
        "Resolution": "Freed the disk by hand, fixed the retention query, re-ran the exports.",
        "Detection": "A customer, 7 h 35 min after impact started. There was no disk alert and no alert on the "
                     "purger: zero disk monitoring, zero alerts.",
        "Lessons learned": "### What went well\n\n- Once paged, SRE freed the disk within the hour.\n\n"
                           "### What went wrong\n\n- Customers were our alerting system.\n- Four teams, several "
                           "Slack channels and three time zones; nobody knew who was on call for the purger.\n\n"
                           "### Where we got lucky\n\n- The export data itself was intact.",
        "Timeline": "All times Europe/London.\n\n- 2026-05-16 01:40: the disk is full; exports start failing\n"
                    "- 2026-05-16 09:15: a customer reports missing export files\n"
                    "- 2026-05-17 15:30: exports restored",
    }
    return _postmortem(TALK_INCIDENT, "2026-05-19", ["disk-full", "batch-job-unmonitored", "silent-failure"],
                       ["Hannah Clarke", "Tom Fletcher"], items, body)


def _others() -> list[tuple[str, str]]:
    brief = {"Summary": "See the title; the timeline is in the incident record."}
    return [
        _postmortem("INC-0033", "2026-02-26", ["batch-job-unmonitored", "purger-schedule"], ["Tom Fletcher"], [
            _item("Tom Fletcher", "Alert when the purger has not succeeded for 26 hours", "2026-03-13",
                  ticket="DATA-702"),
            _item("Sofia Alvarez", "Run the purger outside the export window", "2026-03-06", status="done",
                  done_on="2026-03-05", ticket="DATA-703"),
            _item("Data", "Run the purger and the export in staging against a copy of production data",
                  "2026-03-27", term="long", metric="change_failure_rate", status="done", done_on="2026-03-20",
                  ticket="DATA-704"),
        ], {**brief, "Detection": "Monitoring: the export SLA alert, 50 minutes in."}),
        _postmortem("INC-0034", "2026-03-05", ["third-party-errors", "alert-noise"], ["Emily Chen"], [
            _item("Emily Chen", "Filter third-party analytics errors out of the paging alert", "2026-03-13",
                  status="done", done_on="2026-03-10", ticket="UI-201"),
            _item("UI", "Release the web UI in smaller batches, at least twice a week", "2026-04-10", term="long",
                  metric="deployment_frequency", status="done", done_on="2026-04-06", ticket="UI-202"),
        ], brief),
        _postmortem("INC-0037", "2026-04-09", ["frontend-release"], ["Oliver Bennett"], [
            _item("Oliver Bennett", "Smoke test that loads the dashboard after every release", "2026-04-24",
                  status="done", done_on="2026-04-20", ticket="UI-240"),
        ], brief),
        _postmortem("INC-0038", "2026-04-17", ["data-validation"], ["Sofia Alvarez"], [
            _item("Sofia Alvarez", "Handle empty partitions in the export and test it", "2026-04-24",
                  status="done", done_on="2026-04-22", ticket="DATA-760"),
            _item("Data", "Review export pipeline pull requests within one working day", "2026-05-15", term="long",
                  metric="lead_time", status="done", done_on="2026-05-08", ticket="DATA-761"),
        ], brief),
        _postmortem("INC-0041", "2026-05-08", ["frontend-release"], ["Kenji Watanabe"], [
            _item("Kenji Watanabe", "Default locale for the date picker, with a test per locale", "2026-05-15",
                  status="done", done_on="2026-05-12", ticket="UI-275"),
        ], brief),
        _postmortem("INC-0045", "2026-06-22", ["data-validation", "schema-change"], ["Sofia Alvarez"], [
            _item("Sofia Alvarez", "Contract tests for the export's parquet schema", "2026-07-17", ticket="DATA-910"),
        ], brief),
    ]


def build(root: Path) -> None:
    """Write this part's files under the world's root."""
    folder = root / "postmortems"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in [_disk_full(), *_others()]:
        (folder / name).write_text(text, encoding="utf-8")


def ingest(store: Store, config: Config, root: Path) -> None:
    """Load this part's files into the demo store."""
    from ..postmortems.ingest import ingest_postmortems

    ingest_postmortems(store, config, [root / "postmortems"], root=root)


def hints(window: str) -> list[str]:
    return [
        "Postmortems as code (world/postmortems/; the demo's today is its last day):",
        "  fireline postmortem lint",
        "  fireline actions --overdue",
        "  fireline followup",
        "  fireline postmortem repeats",
    ]
