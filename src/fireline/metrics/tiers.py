"""Tier profiles: from a metric value to exactly one named tier.

Each profile lists, per metric, its tiers from best to worst with one bound each.
A value takes the first tier whose bound it meets, and the last tier otherwise, so
every value maps to exactly one tier and a value that falls between two published
rows drops to the lower row (the talk's rule). Bounds and the reasoning behind each
are in docs/tiers.md; tests check both sides of every bound.

Units: deployment_frequency in deployments per day (higher is better); lead_time
and time_to_restore in hours, change_failure_rate as a ratio (lower is better).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

HOUR = 1.0
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY  # the reports speak of months; 30 days, documented
SIX_MONTHS = 182 * DAY


_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Bound:
    op: str  # one of > >= < <=
    value: float

    def met_by(self, value: float) -> bool:
        compare: Callable[[float, float], bool] = _OPS[self.op]
        return compare(value, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    tiers: tuple[str, ...]  # best first
    bounds: dict[str, tuple[tuple[str, Bound | None], ...]]

    def tier(self, metric: str, value: float | None) -> str | None:
        if value is None or metric not in self.bounds:
            return None
        for name, bound in self.bounds[metric]:
            if bound is None or bound.met_by(value):
                return name
        return self.bounds[metric][-1][0]


def _b(op: str, value: float) -> Bound:
    return Bound(op, value)


SEED = Profile(
    name="seed",
    description="The talk's table: High / Mid / Low.",
    tiers=("High", "Mid", "Low"),
    bounds={
        # Multiple times a day is High; weekly to monthly is Mid; less than monthly Low.
        "deployment_frequency": (("High", _b(">", 1.0)), ("Mid", _b(">=", 1 / 30)), ("Low", None)),
        # Hours / days / weeks to months.
        "lead_time": (("High", _b("<", DAY)), ("Mid", _b("<", WEEK)), ("Low", None)),
        "change_failure_rate": (("High", _b("<", 0.15)), ("Mid", _b("<=", 0.30)), ("Low", None)),
        "time_to_restore": (("High", _b("<", HOUR)), ("Mid", _b("<", DAY)), ("Low", None)),
    },
)

DORA_2021 = Profile(
    name="dora-2021",
    description="Accelerate State of DevOps 2021: Elite / High / Mid / Low.",
    tiers=("Elite", "High", "Mid", "Low"),
    bounds={
        "deployment_frequency": (("Elite", _b(">", 1.0)), ("High", _b(">=", 1 / 30)),
                                 ("Mid", _b(">=", 1 / 182)), ("Low", None)),
        "lead_time": (("Elite", _b("<", HOUR)), ("High", _b("<", WEEK)), ("Mid", _b("<", SIX_MONTHS)),
                      ("Low", None)),
        # 2021 published 0-15% for Elite and 16-30% for all three others: the best row wins.
        "change_failure_rate": (("Elite", _b("<=", 0.15)), ("High", _b("<=", 0.30)), ("Low", None)),
        "time_to_restore": (("Elite", _b("<", HOUR)), ("High", _b("<", DAY)), ("Mid", _b("<", WEEK)),
                            ("Low", None)),
    },
)

# 2023 and 2024 published the same throughput rows.
_THROUGHPUT_SINCE_2023 = {
    "deployment_frequency": (("Elite", _b(">", 1.0)), ("High", _b(">=", 1 / 7)),
                             ("Mid", _b(">=", 1 / 30)), ("Low", None)),
    "lead_time": (("Elite", _b("<", DAY)), ("High", _b("<", WEEK)), ("Mid", _b("<", MONTH)),
                  ("Low", None)),
}

DORA_2023 = Profile(
    name="dora-2023",
    description="Accelerate State of DevOps 2023: Elite / High / Mid / Low.",
    tiers=("Elite", "High", "Mid", "Low"),
    bounds={
        "deployment_frequency": _THROUGHPUT_SINCE_2023["deployment_frequency"],
        "lead_time": _THROUGHPUT_SINCE_2023["lead_time"],
        # Published as cluster figures 5% / 10% / 15% / 64%: read as upper bounds.
        "change_failure_rate": (("Elite", _b("<=", 0.05)), ("High", _b("<=", 0.10)),
                                ("Mid", _b("<=", 0.15)), ("Low", None)),
        "time_to_restore": (("Elite", _b("<", HOUR)), ("High", _b("<", DAY)), ("Mid", _b("<", WEEK)),
                            ("Low", None)),
    },
)

DORA_2024 = Profile(
    name="dora-2024",
    description="Accelerate State of DevOps 2024: Elite / High / Mid / Low.",
    tiers=("Elite", "High", "Mid", "Low"),
    bounds={
        "deployment_frequency": _THROUGHPUT_SINCE_2023["deployment_frequency"],
        "lead_time": _THROUGHPUT_SINCE_2023["lead_time"],
        # Published cluster figures: Elite 5%, High 20%, Mid 10%, Low 40%. Mid's 10% is
        # better than High's 20%; scanning best tier first, a rate <= 20% is High, so Mid is
        # never reached on this metric alone (docs/tiers.md).
        "change_failure_rate": (("Elite", _b("<=", 0.05)), ("High", _b("<=", 0.20)),
                                ("Mid", _b("<=", 0.10)), ("Low", None)),
        # High and Mid were both published as "less than one day".
        "time_to_restore": (("Elite", _b("<", HOUR)), ("High", _b("<", DAY)), ("Mid", _b("<", DAY)),
                            ("Low", None)),
    },
)

PROFILES: dict[str, Profile] = {p.name: p for p in (SEED, DORA_2021, DORA_2023, DORA_2024)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
