"""The report's sections. Each is a function Context -> Section | None: None when its part has no
data, so a report shows only what the store can speak for.

The DORA sections live here; the other parts (alerts, knowledge, testing, action items, and the
slots for on-call and debt) are in parts.py. `SECTIONS` is the order a page shows them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ... import registry
from ...metrics import explain as explain_lib
from ...metrics.presence import has_rows
from ...metrics.summary import METRICS, Group, MetricValue, Summary, summarise
from ...steps import Steps, quietly
from ...views.charts import ROLLING, trend
from ...views.report.model import Cell, Drilldown, Figure, Section, Table, drill_id
from ...views.terminal import format_value, plural
from .. import dora
from . import parts
from .context import PARTS_STEP, Context
from .debt_part import debt_section
from .oncall_part import oncall_section
from .stages_part import stages_section

LABELS = {m.name: m.label for m in registry.METRICS}
SHORT = {m.name: m.short for m in registry.METRICS}
# Weekly charts speak in the unit people count in: deployments per week, hours, percent.
CHART_UNIT = {m.name: (m.chart_unit, m.chart_scale) for m in registry.METRICS}
ALL = "All"


def summary_of(ctx: Context) -> Summary:
    """The same rows as `fireline dora` (teams and their services, or services without teams), with its hint."""
    if "summary" not in ctx.cache:
        if ctx.cache.get(WEEKLY_TOO):
            ctx.cache["summary"], ctx.cache["weekly"] = dora.summary_and_weekly(
                ctx.tables, ctx.config, ctx.scope, ctx.profile, ctx.team_of)
        else:
            ctx.cache["summary"] = dora.summary_of_tables(ctx.tables, ctx.config, ctx.scope, ctx.profile,
                                                          ctx.team_of)
    return ctx.cache["summary"]


WEEKLY_TOO = "weekly too"  # set in ctx.cache when the page has trends: the summary brings the weekly figures along


def weekly_of(ctx: Context) -> Summary:
    """The figures per week, overall and per team (or service): computed with the summary when the page
    asked for both (WEEKLY_TOO), else on their own."""
    if "weekly" not in ctx.cache:
        by = ("team", "period") if ctx.config.team_names else ("service", "period")
        ctx.cache["weekly"] = summarise(ctx.tables, ctx.scope, ctx.profile, team_of=ctx.team_of,
                                        group_sets=(("period",), by), period="week")
    return ctx.cache["weekly"]


def has_dora_data(ctx: Context) -> bool:
    if "has_dora_data" not in ctx.cache:  # asked by three sections; two count queries each time otherwise
        ctx.cache["has_dora_data"] = any(has_rows(ctx.tables[t]) for t in ("deployments", "incidents"))
    return ctx.cache["has_dora_data"]


def metric_cell(ctx: Context, metric: str, mv: MetricValue, team: str | None = None,
                service: str | None = None) -> Cell:
    why = f"n={mv.count}" + (f"; unknown: {mv.unknown}" if mv.unknown else "")
    return Cell(format_value(metric, mv), tier=mv.tier, value=mv.value, metric=metric, title=why,
                href=ctx.links.drilldown(metric, team, service))


def _label(group: Group) -> tuple[str, str | None, str | None]:
    team, service = group.keys.get("team"), group.keys.get("service")
    return (f"└ {service}" if team and service else str(service or team)), team, service


def dora_overview(ctx: Context) -> Section | None:
    if not has_dora_data(ctx):
        return None
    summary = summary_of(ctx)
    overall = summary.overall.metrics
    figures = [Figure(LABELS[m], metric_cell(ctx, m, overall[m]), detail=_detail(m, overall[m])) for m in METRICS]
    rows: list[list[Cell | str]] = []
    css: list[str | None] = []
    keys: list[str | None] = []
    for group in _ordered(summary.groups):
        label, team, service = _label(group)
        rows.append([Cell(label, css="service" if service and team else "group"),
                     *(metric_cell(ctx, m, group.metrics[m], team, service) for m in METRICS)])
        css.append("service-row" if service and team else "team-row")
        keys.append(f"service:{service}" if service else f"team:{team}")
    rows.append([Cell(ALL, css="group"), *(metric_cell(ctx, m, overall[m]) for m in METRICS)])
    css.append("all-row")
    keys.append("all")
    first = "Team / service" if ctx.config.team_names else "Service"
    table = Table("dora-table", f"The four keys and rework rate per {first.lower()}, with tiers "
                  f"({summary.profile} profile)", [first, *(SHORT[m] for m in METRICS)], rows, row_css=css,
                  row_keys=keys, numeric=set(range(1, 6)),
                  note="Each figure links to the rows behind it. — means no data for that group in the window.")
    lead = (f"{plural(overall['deployment_frequency'].count, 'production deployment')} and "
            f"{plural(overall['time_to_restore'].count, 'resolved incident')} in the window; tiers from the "
            f"{summary.profile} profile.")
    unknown = [f"{LABELS[m]}: unknown: {mv.unknown}" for m, mv in overall.items() if mv.value is None and mv.unknown]
    if summary.hint:
        lead = f"{summary.hint['message'][0].upper()}{summary.hint['message'][1:]}."
    return Section("dora", "DORA metrics", lead, figures=figures, tables=[table], notes=unknown)


def _detail(metric: str, mv: MetricValue) -> str | None:
    d = mv.details
    if metric == "deployment_frequency" and mv.value is not None:
        return f"{plural(mv.count, 'deployment')} on {plural(d.get('deploy_days', 0), 'day')}"
    if metric in ("lead_time", "time_to_restore") and mv.value is not None:
        p90 = d.get("p90")
        return f"median of {mv.count}; p90 {format_value(metric, MetricValue(p90, mv.unit, 0))}"
    if metric == "change_failure_rate" and mv.value is not None:
        return f"{d.get('failed', 0)} of {plural(mv.count, 'deployment')}"
    if metric == "rework_rate" and mv.value is not None:
        return f"{d.get('rework', 0)} of {plural(mv.count, 'deployment')}"
    return mv.unknown


def _ordered(groups: list[Group]) -> list[Group]:
    """Team rows, each followed by its services (as in the terminal table)."""
    teams = [g for g in groups if set(g.keys) == {"team"}]
    if not teams:
        return groups
    out = []
    for team in teams:
        out.append(team)
        out += [g for g in groups if "service" in g.keys and g.keys.get("team") == team.keys["team"]]
    return out


ROLLING_WEEKS = 4
SPARSE_PER_WEEK = 2  # fewer deployments a week than this on average: one week's ratio swings from 0 to 100%
# Ratios of counts add up over four weeks; medians (lead time, time to restore) do not, so they get none.
ROLLED = ("deployment_frequency", "change_failure_rate", "rework_rate")
_NUMERATOR = {"change_failure_rate": "failed", "rework_rate": "rework"}


def trends(ctx: Context) -> Section | None:
    if not has_dora_data(ctx) or summary_of(ctx).hint:
        return None  # an empty window: the overview says where the data is; empty charts would say nothing
    by = ("team", "period") if ctx.config.team_names else ("service", "period")
    weekly = weekly_of(ctx)
    weeks: list[str] = []  # every week of the window: summarise lists the weeks without deployments too
    per: dict[tuple[str, str], dict[str, MetricValue]] = {}
    for group in weekly.groups:
        week = str(group.keys["period"])[:10]
        name = str(group.keys.get(by[0], ALL)) if len(group.keys) > 1 else ALL
        if name == ALL:
            weeks.append(week)
        per[(name, week)] = group.metrics
    weeks.sort()
    groups = sorted({n for n, _ in per if n != ALL})
    names = [ALL, *(groups if len(groups) > 1 else [])]  # one group's line would repeat All's
    deployments = {(n, w): _count(per.get((n, w))) for n in names for w in weeks}
    sparse = [n for n in names if weeks and sum(deployments[(n, w)] for w in weeks) / len(weeks) < SPARSE_PER_WEEK]
    monday = ctx.scope.since.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=ctx.scope.since.weekday())
    domain = (min(monday, ctx.scope.since).isoformat(), ctx.scope.until.isoformat())
    charts = []
    for metric in METRICS:
        unit, factor = CHART_UNIT[metric]
        rolled = sparse if metric in ROLLED else []
        points: list[dict[str, Any]] = []
        table_rows = []
        for i, week in enumerate(weeks):
            row: list[Any] = [week]
            if metric == "deployment_frequency":
                row.append(str(deployments[(ALL, week)]))
            for name in names:
                value = _weekly(metric, per.get((name, week)), factor)
                points.append({"week": week, "series": name, "value": value})
                row.append("—" if value is None else f"{value:g}")
            for name in rolled:
                value = _rolling(metric, [per.get((name, w)) for w in weeks[max(0, i - ROLLING_WEEKS + 1):i + 1]],
                                 [per[(ALL, w)] for w in weeks[max(0, i - ROLLING_WEEKS + 1):i + 1]], factor)
                points.append({"week": week, "series": name, "value": value, "kind": ROLLING})
                row.append("—" if value is None else f"{value:g}")
            table_rows.append(row)
        described = _describe(metric, points, unit) + (
            f" Dashed: the last {ROLLING_WEEKS} weeks together, for " + ", ".join(rolled) + "." if rolled else "")
        columns = ["Week starting", *(["Deployments"] if metric == "deployment_frequency" else []), *names,
                   *(f"{n}, {ROLLING_WEEKS} weeks" for n in rolled)]
        charts.append(trend(f"trend-{metric.replace('_', '-')}", f"{LABELS[metric]} by week", described, points,
                            y_title=unit, table_columns=columns, table_rows=table_rows, domain=domain))
    lead = (f"One point per week (Monday, UTC) and {by[0]}; a week without deployments or incidents has no "
            "point for the figures that need them, and the line stops there. "
            + (f"Where a series has fewer than {SPARSE_PER_WEEK} deployments a week, a dashed line adds up its last "
               f"{ROLLING_WEEKS} weeks (deployment frequency, failure and rework rates), so one week's 100% does "
               "not dominate." if sparse else ""))
    return Section("trends", "Trends by week", lead.strip(), charts=charts)


def _count(metrics: dict[str, MetricValue] | None) -> int:
    return metrics["deployment_frequency"].count if metrics else 0


def _weekly(metric: str, metrics: dict[str, MetricValue] | None, factor: float) -> float | None:
    if metrics is None:  # the group had nothing that week: no deployment (a rate of 0), no other figure
        return 0.0 if metric == "deployment_frequency" else None
    mv = metrics[metric]
    return None if mv.value is None else round(mv.value * factor, 3)


def _rolling(metric: str, weeks: list[dict[str, MetricValue] | None], overall: list[dict[str, MetricValue]],
             factor: float) -> float | None:
    """`metric` over the last ROLLING_WEEKS weeks together, from the weeks' counts (None before the window
    has that many weeks, or when they hold no deployment)."""
    if len(weeks) < ROLLING_WEEKS:
        return None
    n = sum(_count(m) for m in weeks)
    if metric == "deployment_frequency":
        days = sum(float(o["deployment_frequency"].details.get("days", 7)) for o in overall)
        return round(n / days * factor, 3) if days else None
    counted = [m[metric] for m in weeks if m is not None and m[metric].value is not None]
    total = sum(mv.count for mv in counted)
    if not total:
        return None
    return round(sum(int(mv.details.get(_NUMERATOR[metric], 0)) for mv in counted) / total * factor, 3)


def _describe(metric: str, points: list[dict[str, Any]], unit: str) -> str:
    overall = [p for p in points if p["series"] == ALL and p["value"] is not None and p.get("kind") != ROLLING]
    if not overall:
        return f"{LABELS[metric]} by week: no data in the window."
    low = min(overall, key=lambda p: p["value"])
    high = max(overall, key=lambda p: p["value"])
    last = overall[-1]
    return (f"{LABELS[metric]} per week in {unit}, for all services and per group. Overall: lowest "
            f"{low['value']:g} (week of {low['week']}), highest {high['value']:g} (week of {high['week']}), "
            f"latest {last['value']:g} (week of {last['week']}). The table below lists every value.")


# ---- drill-downs: the rows behind every figure ---------------------------------------------------

EXPLAIN_LABELS = {"deployment_id": "Deployment", "service": "Service", "time": "Time", "sha": "Commit",
                  "ref": "Ref", "aliases": "Aliases", "type": "Type", "subject": "Subject", "commit_time": "Committed",
                  "via": "Via",
                  "lead_hours": "Lead time (h)", "failed": "Failed", "incident_ids": "Incidents", "how": "Linked by",
                  "incident_id": "Incident", "title": "Title", "resolved": "Resolved", "detected_by": "Detected by",
                  "restore_hours": "Restore (h)", "rework": "Rework", "reason": "Why",
                  "rework_sha": "Rework commit", "rework_subject": "Its subject"}


def fmt(value: Any, zone: ZoneInfo, column: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if column in ("sha", "rework_sha"):
        return str(value)[:10]
    return str(value)


def explanation(ctx: Context, metric: str) -> explain_lib.Explanation:
    key = f"explain:{metric}"
    if key not in ctx.cache:
        ctx.cache[key] = explain_lib.explain(ctx.tables, metric, ctx.scope)
    return ctx.cache[key]


def drill_table(ctx: Context, metric: str, team: str | None, service: str | None,
                limit: int | None) -> Table:
    result = explanation(ctx, metric)
    rows = [r for r in result.rows
            if (service is None or r.get("service") == service)
            and (team is None or ctx.team_of.get(r.get("service") or "") == team)]
    shown = rows[-limit:] if limit else rows
    zone = ZoneInfo(ctx.config.timezone)
    flag = {"change_failure_rate": "failed", "rework_rate": "rework"}.get(metric)
    who = service or team or "all services"
    note = result.note
    if len(shown) < len(rows):
        note += (f" Showing the latest {len(shown)} of {len(rows)} rows; every row: "
                 f"fireline explain {metric.replace('_', '-')} --json (same filters).")
    return Table(drill_id(metric, team, service) + "-table",
                 f"{LABELS[metric]}: the {plural(len(rows), 'row')} behind the figure for {who}",
                 [EXPLAIN_LABELS.get(c, c) for c in result.columns],
                 [[fmt(r.get(c), zone, c) for c in result.columns] for r in shown],
                 row_css=["flagged" if flag and r.get(flag) else None for r in shown], note=note,
                 numeric={i for i, c in enumerate(result.columns) if c.endswith("_hours")})


def drilldowns(ctx: Context) -> Section | None:
    """The static report's folded tables, one per figure in the DORA table (the dashboard has pages)."""
    if ctx.drill_rows <= 0 or not has_dora_data(ctx):
        return None
    summary = summary_of(ctx)
    targets: list[tuple[str | None, str | None]] = [(None, None)]
    for group in _ordered(summary.groups):
        _, team, service = _label(group)
        targets.append((team if not service else None, service))
    found = []
    for metric in METRICS:
        for team, service in targets:
            table = drill_table(ctx, metric, team, service, ctx.drill_rows)
            who = service or team or ALL
            found.append(Drilldown(drill_id(metric, team, service), f"{LABELS[metric]} — {who}", table))
    lead = "The deployments, commits and incidents behind each figure above; open one to see its rows."
    return Section("drilldowns", "Behind the figures", lead, drilldowns=found)


SectionFn = Callable[[Context], Section | None]
SECTIONS: tuple[SectionFn, ...] = (
    dora_overview, trends, stages_section, parts.action_items, parts.detection_gap, parts.alert_noise, oncall_section,
    parts.knowledge_silos, parts.fixes_without_tests, debt_section, drilldowns,
)


def build_sections(ctx: Context, functions: tuple[SectionFn, ...] = SECTIONS, *,
                   steps: Steps | None = None, on_section: Callable[[Section], None] | None = None
                   ) -> list[Section]:
    """The sections with data, in order; `steps` hears "report parts" after each part; `on_section` is
    handed each section as it is made (drawing.Drawing draws its charts meanwhile)."""
    steps = steps or quietly
    if trends in functions:
        ctx.cache.setdefault(WEEKLY_TOO, True)
    found = []
    for done, fn in enumerate(functions):
        steps(PARTS_STEP, done, len(functions))
        section = fn(ctx)
        if section is not None:
            found.append(section)
            if on_section is not None:
                on_section(section)
    steps(PARTS_STEP, len(functions), len(functions))
    return found
