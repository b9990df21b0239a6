"""The handoff note as Markdown (a view: formats `metrics.oncall.handoff`, computes nothing)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def _t(value: datetime | None, zone: str) -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _cell(text: object) -> str:
    return str(text if text is not None else "—").replace("|", "\\|").replace("\n", " ")


def _section(title: str, header: list[str], rows: list[list[object]], empty: str) -> list[str]:
    """A `##` section holding a Markdown table, or the sentence that says it is empty."""
    out = ["", f"## {title}", ""]
    if not rows:
        return [*out, empty]
    out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def render(note: dict, zone: str, zones: dict[str, str]) -> str:
    """Times in `zone` (the reader's); each person's own local time beside their handover."""
    out = [f"# Handoff: {note['team']}, {_t(note['at'], zone)}", ""]
    for role in ("outgoing", "incoming"):
        who = note[role]
        if who is None:
            out.append(f"- **{role.capitalize()}**: nobody on call")
            continue
        own = zones.get(who["person"])
        local = f" ({_t(who['start'] if role == 'incoming' else note['at'], own)} for them)" if own else ""
        out.append(f"- **{role.capitalize()}**: {who['person']}, on call {_t(who['start'], zone)} → "
                   f"{_t(who['end'], zone)}{local}")
    out.append(f"- **Shift covered**: since {_t(note['since'], zone)}; services: {', '.join(note['services']) or '—'}")
    for hole in note["nobody_on_call"]:
        out.append(f"- **Nobody on call** {_t(hole['start'], zone)} → {_t(hole['end'], zone)}: check what happened")
    out += _section(f"Open incidents ({len(note['open_incidents'])})",
                    ["id", "service", "severity", "started", "title"],
                    [[i["id"], i["service"], _cell(i["severity"]), _t(i["started"], zone), _cell(i["title"])]
                     for i in note["open_incidents"]], "None open.")
    if note["resolved_incidents"]:
        out += _section(f"Resolved during the shift ({len(note['resolved_incidents'])})",
                        ["id", "service", "severity", "started", "resolved", "title"],
                        [[i["id"], i["service"], _cell(i["severity"]), _t(i["started"], zone),
                          _t(i["resolved"], zone), _cell(i["title"])] for i in note["resolved_incidents"]], "")
    out += _section(f"Alerts during the outgoing shift ({len(note['alerts'])})",
                    ["fired", "alert", "service", "severity"],
                    [[_t(a["starts_at"], zone), _cell(a["name"]), _cell(a["service"]), _cell(a["severity"])]
                     for a in note["alerts"]],
                    "No alerts fired." if note.get("alerts_known", True) else "Unknown: no alert events ingested.")
    out += _section(f"Deployments since the last handoff ({len(note['deployments'])})",
                    ["time", "service", "id", "type", "status"],
                    [[_t(d["time"], zone), d["service"], d["id"], _cell(d["type"]), _cell(d["status"])]
                     for d in note["deployments"]], "None.")
    out += _section(f"Action items due within {note['due_days']} days ({len(note['action_items'])})",
                    ["due", "owner", "what", "postmortem", "ticket"],
                    [[f"{a['due']}{' **overdue**' if a['overdue'] else ''}", _cell(a["owner"]), _cell(a["what"]),
                      a["postmortem_id"], _cell(a["ticket"])] for a in note["action_items"]], "None due.")
    return "\n".join(out) + "\n"
