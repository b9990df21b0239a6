"""A new postmortem, prefilled from an incident: the Google SRE book's template as Markdown.

The sections follow the SRE book's example postmortem (Summary, Impact, Root causes, Trigger,
Resolution, Detection, Action items, Lessons learned: what went well / wrong / where we got
lucky, Timeline). Action items live in the front matter, where lint and the metrics read them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import UserError

SECTIONS = ("Summary", "Impact", "Root causes", "Trigger", "Resolution", "Detection", "Action items",
            "Lessons learned", "Timeline")

_PROMPTS = {
    "Summary": "One paragraph: what happened, to whom, for how long, and how it ended.",
    "Impact": "Who noticed what: users, customers, revenue, data. Numbers where you have them.",
    "Root causes": "Why it could happen. Ask why until the answer is a system, not a person.",
    "Trigger": "What set it off this time (a deploy, a config change, traffic, a date).",
    "Resolution": "What restored service, and what made it permanent.",
    "Detection": "How we found out, and how we would have found out sooner (which alert was missing?).",
}


def _q(value: Any) -> str:
    """A YAML scalar that reads back as the same string (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _local(when: datetime | None, tz: ZoneInfo) -> str:
    return when.astimezone(tz).isoformat(timespec="minutes") if when else ""


def postmortem_id(incident_id: str) -> str:
    return f"PM-{incident_id}"


def file_name(incident: dict[str, Any], tz: str) -> str:
    started: datetime = incident["started"]
    # Incident ids are free text in a CSV: a `/` would write into a subfolder, a `:` breaks Windows checkouts.
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(incident["id"]).lower()).strip(".")
    return f"{started.astimezone(ZoneInfo(tz)).date().isoformat()}-{safe or 'incident'}.md"


def render(incident: dict[str, Any], tz: str, team: str | None = None) -> str:
    """The file text for `incident` (a row of the incidents table), times in zone `tz`."""
    zone = ZoneInfo(tz)
    started, detected, resolved = incident["started"], incident.get("detected"), incident.get("resolved")
    day: date = started.astimezone(zone).date()
    title = incident.get("title") or f"Incident {incident['id']} on {incident['service']}"
    severity = incident.get("severity")
    detected_by = incident.get("detected_by")
    front = [
        "---",
        f"id: {_q(postmortem_id(incident['id']))}",
        f"title: {_q(title)}",
        f"date: {day.isoformat()}",
        f"severity: {_q(severity) if severity else ''}".rstrip(),
        f"services: [{_q(incident['service'])}]",
        f"incidents: [{_q(incident['id'])}]",
        f"detected_by: {_q(detected_by) if detected_by else ''}".rstrip(),
        f"impact_start: {_local(started, zone)}",
        f"impact_end: {_local(resolved, zone)}".rstrip(),
        "status: draft",
        "authors: []",
        "tags: []  # cause tags, e.g. [disk-full, silent-failure]: the same tag again on the same service "
        "is a repeat",
        "# Every action item says WHO does WHAT by WHEN. Long-term items name the DORA metric they should move",
        "# (deployment_frequency, lead_time, change_failure_rate, time_to_restore); `fireline followup` checks it.",
        "action_items: []",
        "#  - owner: " + _q(team or "SRE"),
        "#    what: \"Alert when the disk is 85% full, with a runbook link\"",
        f"#    due: {day.isoformat()}",
        "#    term: short            # short or long",
        "#    dora_metric: none      # long-term items: the metric it should move",
        "#    status: open           # open, done (add done_on: YYYY-MM-DD) or dropped",
        "#    ticket: https://tracker.example.com/TICKET-1",
        "---",
    ]
    body = [f"# {title}", ""]
    for section in SECTIONS:
        body.append(f"## {section}")
        body.append("")
        if section in _PROMPTS:
            body.append(f"<!-- {_PROMPTS[section]} -->")
        elif section == "Action items":
            body.append("<!-- Kept in the front matter above: `fireline postmortem lint` checks them and "
                        "`fireline actions` lists the open ones. -->")
        elif section == "Lessons learned":
            for sub in ("What went well", "What went wrong", "Where we got lucky"):
                body += [f"### {sub}", "", "- ", ""]
            continue
        elif section == "Timeline":
            body.append(f"All times {tz}.")
            body.append("")
            events = [(when.astimezone(zone), what) for when, what in (
                (started, "Impact starts"), (detected, f"Detected ({detected_by or 'how?'})"),
                (resolved, "Service restored")) if when]
            # Across a clock change (a fall-back night repeats an hour) wall times alone read out of order.
            shifts = len({local.utcoffset() for local, _ in events}) > 1
            for local, what in events:
                offset = f" {local.isoformat()[-6:]}" if shifts else ""
                body.append(f"- {local:%Y-%m-%d %H:%M}{offset}: {what}")
        if section == "Detection" and detected_by:
            body.append("")
            body.append(f"Detected by {detected_by}" + (
                f", {_minutes(started, detected)} after impact started." if detected else "."))
        body.append("")
    return "\n".join(front) + "\n\n" + "\n".join(body).rstrip() + "\n"


def _minutes(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def write(path: Path, text: str, *, force: bool = False) -> Path:
    if path.exists() and not force:
        raise UserError("already exists; edit it, or pass --force to replace it", where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
