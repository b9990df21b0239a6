"""The DORA figures and the rows behind them, as every face asks for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa

from ..config import Config
from ..errors import UserError
from ..metrics import explain as explain_metric
from ..metrics import stages as stage_metrics
from ..metrics.arrow_times import python_rows
from ..metrics.scope import Scope
from ..metrics.span import data_span
from ..metrics.summary import MetricValue, Sources, Summary, summarise, summarise_each
from ..metrics.tiers import PROFILES, Profile, get_profile
from ..scope import team_map_of
from ..store import Store

Period = Literal["week", "month"]


def group_sets(config: Config, by: Period | None) -> tuple[tuple[str, ...], ...]:
    """How a summary is grouped: by period when asked, else per team and service when teams are
    configured, else per service. The CLI, the report and the dashboard all group this way."""
    if by:
        return (("period",),)
    if config.team_names:
        return (("team",), ("team", "service"))
    return (("service",),)


def summary(store: Store, config: Config, scope: Scope, *, profile: str | None = None,
            by: Period | None = None, stages: bool = False) -> Summary:
    """The four keys plus rework rate over `scope`, each with its tier in `profile` (default: config's);
    with `stages`, lead time's stages in every group (`lead_time.stages`, docs/metrics.md)."""
    name = profile or config.profile
    if name not in PROFILES:
        raise UserError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}", field="profile")
    if by not in (None, "week", "month"):
        raise UserError(f"unknown period {by!r}; choose week or month", field="by")
    tables = store.tables()
    # What the sources hold and the team map's reads in one query (on Spark, four queries were four
    # jobs or more); a store without `repos` fails as `team_map` does.
    sources = Sources.survey(tables)
    repos = Store.services_of_repos(sources.repo_services) if "repos" in tables else store.repo_services()
    team_of = team_map_of(config, sources.services, repos)
    result = summary_of_tables(tables, config, scope, get_profile(name), team_of, by, sources)
    if stages:
        add_stages(result, tables, config, scope, team_of, by, service_of_repo(store))
    return result


def service_of_repo(store: Store) -> dict[str, str]:
    """The service a pull request of each repository counts for until a deployment ships it: the
    repository's first configured service."""
    return {repo: services[0]["name"] for repo, services in store.repo_services().items() if services}


def add_stages(result: Summary, tables: dict[str, Any], config: Config, scope: Scope, team_of: dict[str, str],
               by: Period | None, repos: dict[str, str]) -> None:
    """Put lead time's stages in `result`, under each group's `lead_time.stages`."""
    for keys in ((), *group_sets(config, by)):
        figures = stage_metrics.stage_figures(tables, scope, keys, team_of=team_of, period=by, service_of_repo=repos)
        groups = [result.overall] if not keys else [g for g in result.groups if tuple(g.keys) == keys]
        for group in groups:
            found = figures.get(tuple(group.keys[k] for k in keys), stage_metrics.EMPTY)
            group.metrics["lead_time"].details["stages"] = found.as_dict()


def summary_of_tables(tables: dict[str, Any], config: Config, scope: Scope, profile: Profile,
                      team_of: dict[str, str], by: Period | None = None, sources: Sources | None = None) -> Summary:
    """`summary` over tables already at hand (the report's), grouped the one way every face groups."""
    result = summarise(tables, scope, profile, team_of=team_of, group_sets=group_sets(config, by), period=by,
                       sources=sources)
    result.hint = empty_window_hint(tables, config, scope, result)
    return result


def summary_and_weekly(tables: dict[str, Any], config: Config, scope: Scope, profile: Profile,
                       team_of: dict[str, str]) -> tuple[Summary, Summary]:
    """`summary_of_tables` and the same figures per week (overall and per team, or per service without
    teams: the report's trends) from one summary's queries instead of two."""
    by = ("team", "period") if config.team_names else ("service", "period")
    result, weekly = summarise_each(tables, scope, profile, team_of=team_of,
                                    each=(group_sets(config, None), (("period",), by)), period="week")
    result.hint = empty_window_hint(tables, config, scope, result)
    return result, weekly


def empty_window_hint(tables: dict[str, Any], config: Config, scope: Scope, result: Summary) -> dict[str, Any] | None:
    """Nothing in the window (no deployment, no incident) while the store has data for these services: say
    where the data is and which window shows it, instead of a table of zeros."""
    figures = result.overall.metrics
    if figures["deployment_frequency"].count or figures["time_to_restore"].count:
        return None
    span = data_span(tables, scope)
    if span is None:
        return None
    zone = ZoneInfo(config.timezone)
    first, last = (t.astimezone(zone) for t in span)
    since, until = first.date().isoformat(), last.date().isoformat()
    return {"message": f"nothing in this window; the data runs from {first:%Y-%m-%d %H:%M} to "
                       f"{last:%Y-%m-%d %H:%M} ({config.timezone}): try --since {since} --until {until}",
            "first": span[0], "last": span[1], "since": since, "until": until}


@dataclass(frozen=True)
class Explained:
    """One figure and the rows behind it (what `fireline explain` prints)."""

    metric: str
    figure: MetricValue
    note: str
    columns: list[str]
    rows: list[dict[str, Any]]
    stage: str | None = None  # lead time's stage, when one was asked for: rows slowest first

    def to_dict(self) -> dict[str, Any]:
        out = {"metric": self.metric, "figure": self.figure.as_dict(), "note": self.note, "rows": self.rows}
        return out if self.stage is None else {"metric": self.metric, "stage": self.stage, **out}

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (`.to_pandas()` on it for a DataFrame)."""
        return pa.Table.from_pylist([{c: row.get(c) for c in self.columns} for row in self.rows])


def explain(store: Store, config: Config, metric: str, scope: Scope, *, stage: str | None = None) -> Explained:
    """`metric` by its name (`lead_time`) or its slug (`lead-time`); for lead time, `stage` lists the
    pull requests behind one of its stages instead, slowest first."""
    name = explain_metric.ALIASES.get(metric, metric)
    if name not in explain_metric.ALIASES.values():
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(explain_metric.ALIASES)}",
                        field="metric")
    if stage is not None:
        return _explain_stage(store, config, name, scope, stage)
    result = explain_metric.explain(store.tables(), name, scope)
    figure = summary(store, config, scope).overall.metrics[name]
    return Explained(name, figure, result.note, result.columns, result.rows)


# When each stage ends: the text table shows it; --json has every time of every row.
_STAGE_END = {"coding": "ready", "pickup": "first_review", "review": "merged", "deploy": "deployed"}
_STAGE_NOTES = {
    "coding": "Coding: first commit's author time to opened (to marked ready, when opened as a draft).",
    "pickup": "Pickup: ready for review to the first review, approval or review comment by someone else.",
    "review": "Review: first review to merge.",
    "deploy": "Deploy: merge to the first production deployment that shipped the merge commit.",
}


def _explain_stage(store: Store, config: Config, name: str, scope: Scope, stage: str) -> Explained:
    if name != "lead_time":
        raise UserError("only lead-time has stages", field="stage")
    if stage not in stage_metrics.STAGES:
        raise UserError(f"unknown stage {stage!r}; choose one of {', '.join(stage_metrics.STAGES)}", field="stage")
    tables, repos = store.tables(), service_of_repo(store)
    rows = python_rows(stage_metrics.slowest(tables, scope, stage, service_of_repo=repos).to_pyarrow())
    figures = stage_metrics.stage_figures(tables, scope, (), team_of={}, service_of_repo=repos).get(
        (), stage_metrics.EMPTY).as_dict()
    found = figures[stage]
    figure = MetricValue(found["median"], "hours", int(found["count"] or 0),
                         None if found["count"] else "no pull request merged in the window measures this stage",
                         details={"p90": found["p90"]})
    note = (f"{_STAGE_NOTES[stage]} Pull requests merged in the window, slowest first; those without this stage "
            "(no first commit known, merged without review, not deployed) are counted in `fireline dora --stages`.")
    return Explained(name, figure, note, ["number", "service", "title", "author", _STAGE_END[stage], "hours", "url"],
                     rows, stage)
