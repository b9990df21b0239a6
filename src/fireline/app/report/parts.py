"""Sections for the parts beyond the four keys: action items, alerts, knowledge, testing, and
the slots where on-call coverage and the debt ledger plug in.

Every function returns None when its part has no data in the store, so the section is left out.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ...metrics.arrow_times import python_rows
from ...metrics.presence import has_rows
from ...views.charts import bars
from ...views.report.model import Cell, Figure, Section, Table
from ...views.terminal import plural
from ..settings import alert_params
from .context import Context, histories

if TYPE_CHECKING:
    pass


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value * 100:.0f}%"


def _hours(value: float | None) -> str:
    from ...views.terminal import duration

    return "unknown" if value is None else duration(value)


def _has(ctx: Context, table: str) -> bool:
    return has_rows(ctx.tables[table])


# ---- postmortem action items ----------------------------------------------------------------------

def _action_rows(ctx: Context) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(open items from fireline.metrics.actions, the done and dropped ones), kept to the filtered scope."""
    from ...metrics.actions import action_rows, open_actions
    from ...model import json_list

    open_rows = open_actions(ctx.tables, today=ctx.today).items
    rows = action_rows(ctx.tables)
    closed = python_rows(rows.filter(rows.status != "open").to_pyarrow())
    if ctx.scope.services is None:
        return open_rows, closed
    pms = ctx.tables["postmortems"]
    services = {r["id"]: set(json_list(r["services"])) for r in python_rows(pms.select("id", "services").to_pyarrow())}
    wanted, teams = set(ctx.scope.services), set(ctx.teams_in_scope)

    def kept(row: dict[str, Any]) -> bool:
        # An item belongs to the filtered scope through its postmortem's services, or its owning team.
        return bool(services.get(row["postmortem_id"], set()) & wanted) or (ctx.team is not None
                                                                           and row["team"] in teams)
    return [r for r in open_rows if kept(r)], [r for r in closed if kept(r)]


def action_items(ctx: Context) -> Section | None:
    if not _has(ctx, "action_items"):
        return None
    from ...model import NO_TEAM

    open_rows, done = _action_rows(ctx)
    if not open_rows and not done:
        return None
    today = ctx.today
    late = [r for r in open_rows if r["overdue"]]
    # Overdue first (most overdue on top), then open by due date, then the rest.
    rows = sorted(open_rows, key=lambda r: (0 if r["overdue"] else 1, r["due"].toordinal() if r["due"] else 10**7,
                                            r["postmortem_id"], r["position"]))
    rows += sorted(done, key=lambda r: (r["due"].toordinal() if r["due"] else 10**7, r["postmortem_id"],
                                        r["position"]))
    body: list[list[Cell | str]] = []
    css: list[str | None] = []
    for r in rows:
        late_days = r.get("days_late", 0)
        status = f"overdue by {late_days} d" if late_days else r["status"]
        team = r["team"] if r["team"] not in (None, NO_TEAM) else None
        body.append([
            Cell(status, css="badge-overdue" if late_days else None),
            r["what"] or "", r["owner"] or "—", team or "—", r["due"].isoformat() if r["due"] else "—",
            r["term"] or "—", r["dora_metric"] or "—", r["postmortem_title"] or r["postmortem_id"],
            r["ticket"] or "—", f"{r['file']}:{r['line']}" if r["file"] else "—",
        ])
        css.append("overdue" if late_days else ("done" if r["status"] != "open" else None))
    table = Table("action-items-table", f"Postmortem action items on {today.isoformat()} (overdue first)",
                  ["Status", "Action", "Owner", "Team", "Due", "Term", "DORA metric", "Postmortem", "Ticket",
                   "Source"], body, row_css=css, breakable={8, 9}, nowrap={4})
    figures = [Figure("Open action items", Cell(str(len(open_rows)), value=len(open_rows))),
               Figure("Overdue", Cell(str(len(late)), value=len(late), css="bad" if late else None),
                      detail="open and past their due date"),
               Figure("Done", Cell(str(len(done)), value=len(done)))]
    lead = (f"{len(late)} of {len(open_rows)} open action items are overdue." if open_rows
            else "Every action item is done.")
    return Section("action-items", "Postmortem action items", lead, figures=figures, tables=[table],
                   verdict=f"{len(late)} overdue action items: a postmortem without follow-through repeats"
                   if late else None)


# ---- alerts: detection gap and noise ----------------------------------------------------------------

def _alert_report(ctx: Context) -> dict[str, Any]:
    if "alerts" not in ctx.cache:
        from ...metrics import alerts as alert_metrics

        params = dataclasses.replace(alert_params(ctx.config), now=ctx.now)
        ctx.cache["alerts"] = alert_metrics.report(ctx.tables, ctx.scope, team_of=ctx.team_of,
                                                   tz=ctx.config.timezone, params=params)
    return ctx.cache["alerts"]


def detection_gap(ctx: Context) -> Section | None:
    if not _has(ctx, "incidents"):
        return None
    gap = _alert_report(ctx)["detection_gap"]
    share, mttd = gap["customer_share"], gap["mttd"]
    if not share.get("incidents"):
        return None
    figures = [
        Figure("Found by customers first", Cell(_pct(share["value"]), value=share["value"],
                                                css="bad" if gap["verdict"] else None),
               detail=f"{share['customer']} of {plural(share['incidents'], 'incident')}"),
        Figure("Time to detect (median)", Cell(_hours(mttd["value"]), value=mttd["value"]),
               detail=f"p90 {_hours(mttd['p90'])}; {plural(mttd['count'], 'incident')}" if mttd["value"] is not None
               else mttd.get("unknown")),
    ]
    rows = [[r["team"], str(r["incidents"]), str(r["customer"]), Cell(_pct(r["value"]), value=r["value"])]
            for r in gap["by_team"]]
    table = Table("detection-by-team", "Who noticed first, per team", ["Team", "Incidents", "Customer first",
                                                                       "Share"], rows, numeric={1, 2, 3},
                  row_css=["flagged" if r["customer"] else None for r in gap["by_team"]])
    charts = []
    found = {m["month"]: m for m in mttd.get("by_month") or []}
    if found:
        from ...metrics.testing import months_between

        # Every month of the window, as on the other charts; by_month is in UTC months.
        months = sorted(set(months_between(ctx.scope.since, ctx.scope.until)) | set(found))
        minutes = max(m["value"] for m in found.values()) < 1  # under an hour throughout: say it in minutes
        scale, unit = (60, "minutes") if minutes else (1, "hours")
        charts.append(bars("chart-mttd-by-month", "Median time to detect by month",
                           "Median time from an incident's start to its detection, per month: " +
                           ", ".join(f"{m} {_hours(found[m]['value']) if m in found else 'no incidents'}"
                                     for m in months) + ".",
                           [{"category": m, "value": round(found[m]["value"] * scale, 2) if m in found else None}
                            for m in months],
                           x_title=f"{unit} (median)", table_columns=["Month", "Median", "Incidents"],
                           table_rows=[[m, _hours(found[m]["value"]) if m in found else "—",
                                        str(found[m]["count"]) if m in found else "0"] for m in months]))
    lead = ("How incidents were noticed: by monitoring, or by a customer first, and how long detection took.")
    return Section("detection", "Detection gap", lead, figures=figures, charts=charts, tables=[table],
                   verdict=gap["verdict"])


def alert_noise(ctx: Context) -> Section | None:
    if not _has(ctx, "alert_events"):
        return None
    rep = _alert_report(ctx)
    episodes = rep["episodes"]
    if not episodes.get("value"):
        return None
    pps, inter = rep["pages_per_shift"], rep["interruptions"]
    flap, transient, runbook, unlinked = rep["flapping"], rep["transient"], rep["no_runbook"], rep["no_incident"]
    figures = [
        Figure("Pages per shift", Cell(f"{pps['value']:.2f}" if pps["value"] is not None else "unknown",
                                       value=pps["value"]),
               detail=f"budget {pps['budget']} per {pps['shift_hours']} h shift; {pps['over_budget_shifts']} "
                      "shifts over"),
        Figure("Off-hours pages", Cell(_pct(inter["off_hours"]["share"]), value=inter["off_hours"]["share"]),
               detail=f"{inter['off_hours']['value']} of {inter['value']} pages; {inter['sleep_hours']['value']} "
                      "in sleep hours"),
        Figure("Flapping", Cell(_pct(flap["share"]), value=flap["share"]),
               detail=f"{flap['value']} of {flap['episodes']} episodes re-fired within {flap['minutes']} min"),
        Figure("Transient", Cell(_pct(transient["share"]), value=transient["share"]),
               detail=f"resolved within {transient['minutes']} min"),
        Figure("Rules without runbook", Cell(f"{runbook['value']} of {runbook['rules']}", value=runbook["value"])),
        Figure("Alerts with no incident", Cell(_pct(unlinked.get("share")), value=unlinked.get("share")),
               detail=unlinked.get("unknown") or f"{unlinked['value']} of {unlinked['episodes']} episodes"),
    ]
    rules = rep["noisy_rules"]
    table = Table("noisy-rules", "Noisiest alert rules", ["Rule", "Episodes", "Flaps", "Transient", "No runbook",
                                                          "With incident", "What to do"],
                  [[r["name"] or "—", str(r["episodes"]), str(r["flaps"]), str(r["transient"]),
                    str(r["no_runbook"]), "—" if r["linked"] is None else str(r["linked"]),
                    "; ".join(r["recommendations"]) or "—"] for r in rules], numeric={1, 2, 3, 4, 5},
                  row_css=["flagged" if r["recommendations"] else None for r in rules])
    teams = [t for t in pps["by_team"] if t["value"] is not None]
    charts = []
    if teams:
        charts.append(bars("chart-pages-per-shift", "Pages per shift by team",
                           f"Average pages per {pps['shift_hours']}-hour shift per team, against a budget of "
                           f"{pps['budget']}: " + ", ".join(f"{t['team']} {t['value']:.2f}" for t in teams) + ".",
                           [{"category": t["team"], "value": round(t["value"], 3)} for t in teams],
                           x_title="pages per shift", table_columns=["Team", "Pages per shift", "Pages",
                                                                     "Shifts over budget"],
                           table_rows=[[t["team"], f"{t['value']:.2f}", str(t["pages"]),
                                        str(t["over_budget_shifts"])] for t in teams]))
    lead = (f"{episodes['value']} alert episodes ({episodes['pages']} pages) in the window. An alert that fires "
            "without an incident, flaps or has no runbook costs sleep and teaches people to ignore pages.")
    return Section("alerts", "Alert noise", lead, figures=figures, charts=charts, tables=[table])


# ---- knowledge silos ----------------------------------------------------------------------------------

def knowledge_silos(ctx: Context) -> Section | None:
    if not _has(ctx, "change_files"):
        return None
    from ...metrics.knowledge import analyse

    repos = ctx.store.repo_services()
    wanted = set(ctx.scope.services) if ctx.scope.services is not None else None
    loaded = histories(ctx)
    body: list[list[Cell | str]] = []
    css: list[str | None] = []
    silos = 0
    groups_seen = 0
    for repo in sorted(repos):
        services = repos[repo]
        names = {s["name"] for s in services}
        if wanted is not None and not names & wanted:
            continue
        by = "service" if services else "dir"
        rep = analyse(loaded[repo], by=by, now=ctx.scope.until)
        for g in rep["groups"]:
            if wanted is not None and by == "service" and g["name"] not in wanted:
                continue
            tf = g["truck_factor"]
            groups_seen += 1
            silo = tf["value"] is not None and tf["value"] <= 1
            silos += silo
            authors = [a for a in g["authors"] if a["active"]]
            docs = g["docs"]
            body.append([repo, g["name"], Cell("—" if tf["value"] is None else str(tf["value"]), value=tf["value"],
                                              css="bad" if silo else None),
                         ", ".join(tf["removed"]) or "—", ", ".join(a["name"] for a in authors[:4]) or "nobody",
                         str(g["orphaned_files"]), "yes" if docs["readme"] else "missing",
                         "yes" if docs["runbook"] else "missing"])
            css.append("flagged" if silo else None)
    if not body:
        return None
    table = Table("knowledge-table", "Truck factor per service (or top-level folder)",
                  ["Repository", "Service / folder", "Truck factor", "Rests on", "Active authors", "Orphaned files",
                   "README", "Runbook"], body, row_css=css, numeric={2, 5},
                  note="Truck factor: how many people would have to leave before most files have no active "
                       "author who knows them (Avelino et al. 2016). Details: fireline knowledge PATH.")
    figures = [Figure("Knowledge silos", Cell(str(silos), value=silos, css="bad" if silos else None),
                      detail=f"of {groups_seen} services or folders rest on one person")]
    lead = "Where the only expert being away would stop the work: services whose knowledge rests on one person."
    return Section("knowledge", "Knowledge silos", lead, figures=figures, tables=[table])


# ---- fixes without regression tests ---------------------------------------------------------------------

def fixes_without_tests(ctx: Context) -> Section | None:
    if not _has(ctx, "changes"):
        return None
    from ...identity import People
    from ...metrics import testing as testing_metrics

    rep = testing_metrics.report(ctx.tables, ctx.scope, testing_metrics.params_of(ctx.config.testing),
                                 team_of=ctx.team_of, teams=[ctx.team] if ctx.team else None,
                                 tz=ctx.config.timezone, limit=20, people=People.from_config(ctx.config))
    overall = rep.overall
    if not overall.fixes:
        return None
    teams = [(t, s) for t, s in sorted(rep.by_team.items()) if s.fixes]
    figures = [Figure("Fixes with a regression test", Cell(_pct(overall.value), value=overall.value),
                      detail=f"{overall.with_test} of {overall.fixes - overall.files_unknown} bug fixes")]
    charts = [bars("chart-fixes-tested", "Bug fixes with a regression test, per team",
                   "Share of bug-fix commits that added or changed a test, per team: " +
                   ", ".join(f"{t} {_pct(s.value)}" for t, s in teams) + ".",
                   [{"category": t, "value": round(s.value, 4)} for t, s in teams if s.value is not None],
                   x_title="share of fixes with a test", percent=True,
                   table_columns=["Team", "Fixes", "With a test", "Share"],
                   table_rows=[[t, str(s.fixes), str(s.with_test), _pct(s.value)] for t, s in teams])] if teams else []
    zone = ZoneInfo(ctx.config.timezone)
    recent = rep.recent_without_test
    table = Table("fixes-without-tests", f"The {len(recent)} most recent fixes without a test",
                  ["Date", "Commit", "Repository", "Service", "Author", "Subject", "Why a fix"],
                  [[f.time.astimezone(zone).strftime("%Y-%m-%d"), f.sha[:10], f.repo, ", ".join(f.services) or "—",
                    f.author, f.subject, f.reason] for f in recent])
    lead = "A hotfix without a regression test lets the same bug come back: these fixes brought none."
    return Section("testing", "Fixes without tests", lead, figures=figures, charts=charts, tables=[table])
