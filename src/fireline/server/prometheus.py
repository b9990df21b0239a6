"""DORA on /metrics: the figures of app/exported.py as Prometheus metric families.

The figures are computed in the background when the store's data changes (precompute.py calls
`DoraCollector.update`); a scrape only formats the last of them. A figure that is unknown (no
deployment in the window, no incident resolved) is left out rather than shown as 0 or NaN, so
`absent()` and the dashboard's "no data" say what is true. docs/grafana.md lists every metric.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from ..app.exported import Exported, ServiceFigures, TeamFigures

SERVICE = ["team", "service"]
TEAM = ["team"]

# (name, help, figure) of the per-service gauges; all over the last 30 days
SERVICE_GAUGES = (
    ("fireline_lead_time_median_seconds", "Median lead time for changes deployed in the last 30 days",
     lambda s: s.lead_time_median),
    ("fireline_lead_time_p90_seconds", "90th percentile of lead time for changes deployed in the last 30 days",
     lambda s: s.lead_time_p90),
    ("fireline_change_failure_ratio", "Share of the last 30 days' production deployments that caused an "
                                      "incident (0..1)", lambda s: s.change_failure_rate),
    ("fireline_time_to_restore_median_seconds", "Median time to restore of the incidents of the last 30 days",
     lambda s: s.time_to_restore),
    ("fireline_rework_ratio", "Share of the last 30 days' production deployments that were unplanned fixes "
                              "(hotfix, revert, linked to an incident; 0..1)", lambda s: s.rework_rate),
)
SERVICE_COUNTERS = (
    ("fireline_deployments", "Successful production deployments", lambda s: s.deployments),
    ("fireline_changes_deployed", "Changes (commits) deployed to production with a measured lead time",
     lambda s: s.changes_deployed),
)
TEAM_GAUGES = (
    ("fireline_action_items_open", "Open postmortem action items", lambda t: t.actions_open),
    ("fireline_action_items_overdue", "Open postmortem action items past their due date",
     lambda t: t.actions_overdue),
    ("fireline_oncall_coverage_gaps", "Stretches of the next 7 days with nobody of the team on call",
     lambda t: t.oncall_gaps),
    ("fireline_oncall_uncovered_seconds", "Time in the next 7 days with nobody of the team on call",
     lambda t: t.oncall_gap_seconds),
)
TIER_INFO = "fireline_dora_tier"  # exposed as fireline_dora_tier_info


def metric_names() -> list[str]:
    """Every series name this collector can expose (counters with their `_total`)."""
    return sorted([*(n for n, _, _ in SERVICE_GAUGES), *(f"{n}_total" for n, _, _ in SERVICE_COUNTERS),
                   *(n for n, _, _ in TEAM_GAUGES), f"{TIER_INFO}_info", "fireline_dora_computed_timestamp_seconds",
                   "fireline_store_generation"])


class DoraCollector(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Exported | None = None

    def update(self, figures: Exported) -> None:
        with self._lock:
            self._latest = figures

    @property
    def latest(self) -> Exported | None:
        with self._lock:
            return self._latest

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration: the families appear once figures are computed

    def collect(self) -> Iterator[Metric]:
        figures = self.latest
        if figures is None:
            return
        yield from _service_families(figures.services)
        yield from _team_families(figures.teams)
        tiers = InfoMetricFamily(TIER_INFO, f"DORA tier of each figure of the last 30 days ({figures.profile} "
                                            "profile)", labels=[*SERVICE, "metric"])
        for s in figures.services:
            for metric, tier in sorted(s.tiers.items()):
                tiers.add_metric([s.team, s.service, metric], {"tier": tier})
        yield tiers
        when = GaugeMetricFamily("fireline_dora_computed_timestamp_seconds",
                                 "When the DORA figures on this page were computed (Unix time)")
        when.add_metric([], figures.computed_at.timestamp())
        yield when
        generation = GaugeMetricFamily("fireline_store_generation",
                                       "The store's generation the figures were computed at (moves with every "
                                       "committed write)")
        generation.add_metric([], figures.generation)
        yield generation


def _service_families(services: list[ServiceFigures]) -> Iterator[Metric]:
    for name, text, value in SERVICE_COUNTERS:
        counter = CounterMetricFamily(name, text, labels=SERVICE)
        for s in services:
            counter.add_metric([s.team, s.service], value(s))
        yield counter
    for name, text, value in SERVICE_GAUGES:
        gauge = GaugeMetricFamily(name, text, labels=SERVICE)
        for s in services:
            if (v := value(s)) is not None:
                gauge.add_metric([s.team, s.service], v)
        yield gauge


def _team_families(teams: list[TeamFigures]) -> Iterator[Metric]:
    for name, text, value in TEAM_GAUGES:
        gauge = GaugeMetricFamily(name, text, labels=TEAM)
        for t in teams:
            if (v := value(t)) is not None:
                gauge.add_metric([t.team], v)
        yield gauge
