"""The messages, built from the library's own results (`fireline.Workspace`), so a digest shows the
figures `fireline dora`, `actions` and `oncall handoff` show for the same window and instant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .. import registry
from ..lazy import lazy
from ..metrics.arrow_times import python_rows
from .messages import Message, Section

if TYPE_CHECKING:
    from ..app import oncall
    from ..metrics import explain as explain_metric
    from ..metrics import oncall as oncall_metrics
    from ..workspace import Workspace
else:
    oncall = lazy("fireline.app.oncall")
    explain_metric = lazy("fireline.metrics.explain")
    oncall_metrics = lazy("fireline.metrics.oncall")

WEEK = timedelta(days=7)
# Rows listed under "behind the changes" (the rest: `fireline explain`).
MAX_ROWS = 15
CUSTOMER_SOURCES = ("customer",)


def _local(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _days_before(at: datetime, zone: str, days: int) -> datetime:
    """`days` calendar days before `at` on `zone`'s clock: a week that holds a DST change is 167 or 169 hours."""
    local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(at.tzinfo)


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "unknown"
    unit = registry.BY_NAME[metric].unit
    if unit == "hours":
        return f"{value / 24:.1f} days" if value >= 48 else f"{value:.1f} h"
    if unit == "ratio":
        return f"{value * 100:.0f}%"
    return f"{value:.2f}/day"


def _change(metric: str, now: float | None, before: float | None) -> tuple[str, str | None]:
    """The change as words, and "better"/"worse"/"same" (None when one side is unknown)."""
    if now is None or before is None:
        return "no comparison", None
    if abs(now - before) < 1e-9:
        return "unchanged", "same"
    up = now > before
    better = up == (registry.BY_NAME[metric].better == "higher")
    size = f"{(now - before) / abs(before) * 100:+.0f}%" if before else f"from {format_value(metric, before)}"
    return f"{'▲' if up else '▼'} {size} ({'better' if better else 'worse'})", "better" if better else "worse"


def dora_digest(ws: Workspace, team: str | None, at: datetime, zone: str, key: str) -> Message:
    """The week before `at` (7 days on `zone`'s clock) against the 4 weeks before it, per metric with its tier,
    and the deployments and incidents behind a change."""
    week_start = _days_before(at, zone, 7)
    before_start = _days_before(week_start, zone, 28)
    week = ws.dora(team=team, since=week_start.isoformat(), until=at.isoformat())
    before = ws.dora(team=team, since=before_start.isoformat(), until=week_start.isoformat())
    facts, figures, changed = [], {}, []
    for m in registry.METRICS:
        v, b = week.overall.metrics[m.name], before.overall.metrics[m.name]
        words, verdict = _change(m.name, v.value, b.value)
        tier = f" ({v.tier})" if v.tier else ""
        shown = format_value(m.name, v.value) if v.unknown is None else f"unknown: {v.unknown}"
        facts.append((m.short, f"{shown}{tier}; previous 4 weeks {format_value(m.name, b.value)}: {words}"))
        figures[m.name] = {"value": v.value, "unit": v.unit, "tier": v.tier, "count": v.count, "unknown": v.unknown,
                           "previous": b.value, "previous_tier": b.tier, "change": verdict}
        if verdict in ("better", "worse"):
            changed.append(m.phrase)
    sections = [Section("This week against the previous 4 weeks", facts=facts)]
    if changed:
        # The rows of `fireline explain` for the week (its figure is the one above: not computed again).
        tables = ws.tables()
        deploys = explain_metric.explain(tables, "change_failure_rate", week.scope)
        incidents = explain_metric.explain(tables, "time_to_restore", week.scope)
        sections.append(Section(f"Deployments this week ({len(deploys.rows)})", items=[
            f"{_local(r['time'], zone)} {r['service']} {r['deployment_id']}"
            + (f": failed, {', '.join(r['incident_ids'] or [])}" if r.get("failed") else "")
            for r in deploys.rows[-MAX_ROWS:]]))
        if incidents.rows:
            sections.append(Section(f"Incidents this week ({len(incidents.rows)})", items=[
                f"{r['incident_id']} {r['service']} ({r['severity'] or 'no severity'}, reported by "
                f"{r['detected_by'] or 'unknown'}): {r['title']}" for r in incidents.rows[-MAX_ROWS:]]))
        sections.append(Section(text="Why a figure moved: fireline explain <metric>"
                                + (f" --team {team}" if team else "")
                                + f" --since {week_start.isoformat()} --until {at.isoformat()}"))
    label = team or "all services"
    summary = (f"{label}, week to {_local(at, zone)}: " + (f"{', '.join(changed)} changed" if changed
                                                           else "no change against the previous 4 weeks"))
    return Message("dora_digest", key, f"DORA weekly digest: {label}", summary, team, sections=sections,
                   data={"since": week_start, "until": at, "previous_since": before_start, "metrics": figures})


def overdue_actions(ws: Workspace, team: str | None, at: datetime, key: str) -> Message | None:
    """Overdue action items of `team` grouped by owner, as `fireline actions --overdue --team` counts them at `at`;
    None when nothing is overdue (no message rather than an empty one)."""
    ws.set_now(at)
    items = ws.actions(team=team, overdue=True).items
    if not items:
        return None
    owners: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        owners.setdefault(item["owner"] or "(no owner)", []).append(item)
    sections = [Section(f"{owner} ({len(rows)})", items=[
        f"{r['what']}: due {r['due']}, {r['days_late']} days late ({r['postmortem_id']}"
        + (f", {r['ticket']}" if r.get("ticket") else "") + ")" for r in rows])
        for owner, rows in sorted(owners.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    return Message("overdue_actions", key, f"Overdue action items: {team or 'every team'}",
                   f"{len(items)} overdue for {len(owners)} owner(s) as of {at.date()}", team, "warning", sections,
                   data={"team": team, "items": [{k: r.get(k) for k in ("postmortem_id", "position", "owner", "what",
                                                                         "due", "days_late", "ticket")}
                                                 for r in items]})


def handoffs(ws: Workspace, team: str, after: datetime, until: datetime) -> list[datetime]:
    """The shift changes of `team` in (after, until]."""
    found = ws.oncall_next(team=team, at=after, count=50)
    return [h["start"] for t in found.teams for h in t["handoffs"] if after < h["start"] <= until]


def handoff(ws: Workspace, team: str, at: datetime, zone: str, key: str, *, exact: bool = True) -> Message | None:
    """`fireline oncall handoff`'s facts at the shift change `at`, each person's times on their own clock.
    None when `exact` and `at` is no change of person (someone back on call after a gap in their own shift)."""
    note = ws.oncall_handoff(team, at=at)
    if exact and note.outgoing is not None and note.outgoing["end"] != at:
        return None
    zones = oncall.zones(ws.config)

    def who(role: str) -> str:
        shift = getattr(note, role)
        if shift is None:
            return "nobody on call"
        own = zones.get(shift["person"])
        mine = f" ({_local(shift['start'], own)} their time)" if own and own != zone else ""
        return f"{shift['person']}, {_local(shift['start'], zone)} → {_local(shift['end'], zone)}{mine}"

    sections = [Section(facts=[("Outgoing", who("outgoing")), ("Incoming", who("incoming")),
                               ("Services", ", ".join(note.services) or "—")])]
    if note.nobody_on_call:
        sections.append(Section("Nobody on call during the shift", items=[
            f"{_local(h['start'], zone)} → {_local(h['end'], zone)}" for h in note.nobody_on_call]))
    sections.append(Section(f"Open incidents ({len(note.open_incidents)})", items=[
        f"{i['id']} {i['service']} ({i['severity'] or '—'}): {i['title']}" for i in note.open_incidents]
        or ["None open."]))
    if note.alerts_known:
        sections.append(Section(f"Alerts during the outgoing shift ({len(note.alerts)})", items=[
            f"{_local(a['starts_at'], zone)} {a['name']} ({a['service']})" for a in note.alerts[-MAX_ROWS:]]
            or ["No alerts fired."]))
    sections.append(Section(f"Deployments since the last handoff ({len(note.deployments)})", items=[
        f"{_local(d['time'], zone)} {d['service']} {d['id']}" for d in note.deployments[-MAX_ROWS:]] or ["None."]))
    if note.action_items:
        sections.append(Section(f"Action items due within {note.due_days} days ({len(note.action_items)})", items=[
            f"{a['due']}{' (overdue)' if a['overdue'] else ''} {a['owner']}: {a['what']}"
            for a in note.action_items]))
    incoming = (f"{note.incoming['person']} takes over at {_local(note.incoming['start'], zone)}" if note.incoming
                else "nobody takes over")
    return Message("handoff", key, f"On-call handoff: {team}", incoming, team,
                   "warning" if note.nobody_on_call or note.incoming is None else "info", sections,
                   data=note.to_dict())


def unguarded_deploys(ws: Workspace, team: str, after: datetime, until: datetime, zone: str,
                      key_of: Any) -> list[Message]:
    """A warning per production deployment of `team` in (after, until] with nobody of the team on call to
    verify it (`fireline oncall gaps`' unverified deployments: the weekend release nobody watches)."""
    if team not in ws.config.rotations:  # no rotation: no coverage to land outside of
        return []
    setup = oncall.setup(ws.config)
    found = oncall_metrics.unverified_deployments(ws.tables(), setup, ws.config.team_of,
                                                  ws.config.production_environments, after, until)
    out = []
    for dep in found["unverified"]:
        if dep["team"] != team or dep["time"] <= after:
            continue
        facts = [("Service", dep["service"]), ("Deployed", _local(dep["time"], zone)), ("Type", dep["type"] or "—"),
                 ("Why", dep["why"])]
        out.append(Message("unguarded_deploy", key_of(dep["id"]), f"Deployment outside on-call coverage: {team}",
                           f"{dep['service']} {dep['id']} went to production {dep['weekday']} with nobody on call "
                           f"to verify it", team, "warning", [Section(facts=facts)], data=dep))
    return out


def customer_first(ws: Workspace, team: str, after: datetime, until: datetime, zone: str,
                   key_of: Any) -> list[Message]:
    """An incident of `team` detected in (after, until] that a customer reported, with no alert of its service
    firing between its start and its detection (one that began earlier and still fired counts as firing)."""
    services = ws.config.services_of_team(team)
    tables: Mapping[str, Any] = ws.tables()
    inc, alerts = tables["incidents"], tables["alert_events"]
    detected = inc.detected.fill_null(inc.started)
    rows = python_rows(
        inc.filter(inc.service.isin(services) & inc.detected_by.lower().isin(list(CUSTOMER_SOURCES))
                   & (detected > after) & (detected <= until))
        .select("id", "service", "title", "severity", "started", "detected").to_pyarrow()) if services else []
    history = bool(alerts.count().to_pyarrow().as_py())
    out = []
    for row in rows:
        seen = row["detected"] or row["started"]
        fired = alerts.filter((alerts.service == row["service"]) & (alerts.starts_at <= seen)
                              & (alerts.ends_at.isnull() | (alerts.ends_at >= row["started"]))).count()
        if fired.to_pyarrow().as_py():
            continue
        facts = [("Service", row["service"]), ("Severity", row["severity"] or "—"),
                 ("Started", _local(row["started"], zone)), ("Reported", _local(seen, zone)),
                 ("Alerts before it", "none" if history else "unknown: no alert history ingested")]
        out.append(Message("customer_first", key_of(row["id"]), f"A customer found it first: {team}",
                           f"{row['id']} {row['title']}: reported by a customer, no alert fired before it", team,
                           "warning", [Section(facts=facts, text="If customers report issues before your "
                                               "monitoring does, your monitoring is broken.")], data=row))
    return out
