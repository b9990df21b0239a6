"""What a summary holds: each figure with its tier, sample size or reason, per group (summary.py computes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import registry
from .scope import Scope

METRICS = registry.NAMES
UNITS = {m.name: m.unit for m in registry.METRICS}


@dataclass
class MetricValue:
    """One figure: its value in `unit`, its tier, the sample size, or why it is unknown."""

    value: float | None
    unit: str
    count: int
    unknown: str | None = None
    tier: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "tier": self.tier, "count": self.count,
                "unknown": self.unknown, **self.details}

    to_dict = as_dict


@dataclass
class Group:
    keys: dict[str, str]
    metrics: dict[str, MetricValue]

    def as_dict(self) -> dict[str, Any]:
        return {**self.keys, **{m: v.as_dict() for m, v in self.metrics.items()}}


@dataclass
class Summary:
    scope: Scope
    profile: str
    overall: Group
    groups: list[Group]
    # When the window holds nothing but the store has data: where the data is (`first`, `last`) and a
    # window that shows it (`since`, `until`, dates in the configured zone), with a `message`.
    hint: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "window": {"since": self.scope.since.isoformat(), "until": self.scope.until.isoformat(),
                       "days": round(self.scope.days, 6)},
            "profile": self.profile,
            "overall": {m: v.as_dict() for m, v in self.overall.metrics.items()},
            "groups": [g.as_dict() for g in self.groups],
        }
        if self.hint is not None:
            out["hint"] = self.hint
        return out

    to_dict = as_dict  # the library's name; `fireline dora --json` prints exactly this

    def rows(self) -> list[dict[str, Any]]:
        """One row per group and metric (the overall figures first, with empty keys): the long form
        a DataFrame or a warehouse table wants."""
        out = []
        for group in [self.overall, *self.groups]:
            for metric, v in group.metrics.items():
                out.append({"team": group.keys.get("team"), "service": group.keys.get("service"),
                            "period": group.keys.get("period"), "metric": metric, "value": v.value, "unit": v.unit,
                            "tier": v.tier, "count": v.count, "unknown": v.unknown})
        return out

    def to_arrow(self) -> Any:
        """`rows()` as an Arrow table (`.to_pandas()` on it for a DataFrame)."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.rows())


