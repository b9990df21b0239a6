"""The metrics Fireline reports, each named once: every face reads its names, units and
direction here (terminal, JSON, report, explain, postmortems, follow-up, docs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Metric:
    name: str  # the key in JSON and code: lead_time
    slug: str  # the command-line spelling: lead-time
    label: str  # the full name: Lead time for changes
    short: str  # a column heading: Lead time
    phrase: str  # inside a sentence: lead time
    unit: str  # the unit of its value in JSON
    better: Literal["higher", "lower"]
    chart_unit: str  # the unit weekly charts speak in
    chart_scale: float  # value x scale = the chart's unit
    postmortem_target: bool  # an action item may name it as its dora_metric


METRICS: tuple[Metric, ...] = (
    Metric("deployment_frequency", "deployment-frequency", "Deployment frequency", "Deploys", "deploy frequency",
           "deployments/day", "higher", "deployments per week", 7.0, True),
    Metric("lead_time", "lead-time", "Lead time for changes", "Lead time", "lead time", "hours", "lower",
           "hours (median)", 1.0, True),
    Metric("change_failure_rate", "change-failure-rate", "Change failure rate", "Fail rate", "change failure rate",
           "ratio", "lower", "% of deployments", 100.0, True),
    Metric("time_to_restore", "time-to-restore", "Time to restore", "Restore", "time to restore", "hours", "lower",
           "hours (median)", 1.0, True),
    Metric("rework_rate", "rework-rate", "Rework rate", "Rework", "rework rate", "ratio", "lower",
           "% of deployments", 100.0, False),
)
BY_NAME = {m.name: m for m in METRICS}
BY_SLUG = {m.slug: m for m in METRICS}
NAMES = tuple(m.name for m in METRICS)
POSTMORTEM_TARGETS = tuple(m.name for m in METRICS if m.postmortem_target)


def get(name_or_slug: str) -> Metric:
    """A metric by its name or slug; KeyError names the choices."""
    found = BY_NAME.get(name_or_slug) or BY_SLUG.get(name_or_slug)
    if found is None:
        raise KeyError(f"unknown metric {name_or_slug!r}; choose one of {', '.join(BY_SLUG)}")
    return found
