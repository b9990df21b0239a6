"""The report's "Lead time in stages" part: where the time of pull requests goes, per team or service.

`stages_section(ctx)` is a report section; the dashboard shows the same section, built by the same
function. Definitions: docs/metrics.md "Lead time in stages".
"""

from __future__ import annotations

from typing import Any

from ...metrics import stages as stage_metrics
from ...metrics.presence import has_rows
from ...views.charts import stacked
from ...views.report.model import Cell, Section, Table
from ...views.terminal import duration, plural
from .. import dora
from .context import Context

SERIES = {"coding": "Coding", "pickup": "Pickup", "review": "Review", "deploy": "Waiting for deployment"}


def stage_groups(ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    """(team or service, its stages) for every group with pull requests merged in the window, then "All"."""
    if "stage_groups" not in ctx.cache:
        keys = ("team",) if ctx.config.team_names else ("service",)
        repos = dora.service_of_repo(ctx.store)
        found = stage_metrics.stage_figures(ctx.tables, ctx.scope, keys, team_of=ctx.team_of, service_of_repo=repos)
        overall = stage_metrics.stage_figures(ctx.tables, ctx.scope, (), team_of=ctx.team_of, service_of_repo=repos)
        rows = [(str(key[0]), figures.as_dict()) for key, figures in sorted(found.items(), key=lambda kv: str(kv[0]))]
        ctx.cache["stage_groups"] = [*rows, ("All", overall.get((), stage_metrics.EMPTY).as_dict())]
    return ctx.cache["stage_groups"]


def stages_section(ctx: Context) -> Section | None:
    """None when no pull request is stored: the part has nothing to stand on."""
    if not has_rows(ctx.tables["pull_requests"]):
        return None
    groups = stage_groups(ctx)
    if not groups[-1][1]["pull_requests"]:
        return None
    points: list[dict[str, Any]] = []
    rows: list[list[Cell | str]] = []
    for name, found in groups:
        for stage, label in SERIES.items():
            median = found[stage]["median"]
            points.append({"category": name, "series": label, "value": round(median / 24, 3) if median else 0})
        share = found["outside_share"]
        rows.append([name, str(found["pull_requests"]),
                     *(f"{duration(found[s]['median'])} (p90 {duration(found[s]['p90'])})" if found[s]["count"]
                       else "—" for s in SERIES),
                     str(found["unreviewed"]), str(found["undeployed"]),
                     "—" if share is None else f"{share * 100:.0f}%"])
    slowest = max(((n, f) for n, f in groups[:-1] if f["pull_requests"]), default=None,
                  key=lambda nf: sum(nf[1][s]["median"] or 0 for s in SERIES))
    described = "Median days in each stage per group, stacked (medians, so a bar is not the median total)."
    if slowest:
        stage = max(SERIES, key=lambda s: slowest[1][s]["median"] or 0)
        described += (f" The longest is {slowest[0]}'s, most of it in {SERIES[stage].lower()} "
                      f"({duration(slowest[1][stage]['median'])}).")
    chart = stacked("lead-time-stages", "Lead time in stages", described, points, value_title="days (median)",
                    series=list(SERIES.values()), horizontal=True,
                    table_columns=["Group", *SERIES.values()],
                    table_rows=[[n, *(duration(f[s]["median"]) for s in SERIES)] for n, f in groups])
    table = Table("stages-table", "Lead time in stages: median (p90) per stage",
                  ["Group", "PRs", *SERIES.values(), "Merged without review", "Not deployed", "Outside PRs"],
                  rows, numeric=set(range(1, 9)))
    overall = groups[-1][1]
    lead = (f"{plural(overall['pull_requests'], 'pull request')} merged in the window: coding (first commit to "
            "ready), pickup (to the first review by someone else), review (to merge) and waiting for "
            "deployment (merge to the first production deployment that shipped it). "
            "`fireline explain lead-time --stage review` lists the slowest.")
    notes = [f"{overall['unreviewed']} merged without review and {overall['undeployed']} not deployed by the end "
             "of the window: their empty stages are counted, not in the medians.",
             f"Outside PRs: commits shipped in the window that came through no pull request "
             f"({overall['outside_pull_requests']} of {overall['changes']})."]
    return Section("stages", "Lead time in stages", lead, charts=[chart], tables=[table], notes=notes)
