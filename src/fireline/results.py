"""The library's typed results beside DORA's `Summary` and `Explained`.

Each analysis answers with a frozen dataclass whose fields are the top-level keys of its
`--json` output, in the same order: `to_dict()` is exactly what the CLI prints, attribute access
is typed, and `to_pandas()` / `to_arrow()` give the row-level part (the items, fixes, shifts, ...)
as a frame for a notebook or a warehouse load. Rows stay plain mappings: they are the data a
user filters and joins, not objects to navigate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ActionItems",
    "AlertsReport",
    "BudgetReport",
    "DebtLedger",
    "Followup",
    "KnowledgeReport",
    "OncallGaps",
    "OncallHandoff",
    "OncallLoad",
    "OncallNext",
    "OncallNow",
    "OncallSchedule",
    "ReleasePlan",
    "Repeats",
    "Result",
    "TestingReport",
]

Rows = list[dict[str, Any]]
Mapping = dict[str, Any]


class Result:
    """Base of the typed results: `to_dict()`, `rows()`, `to_pandas()`, `to_arrow()`."""

    ROWS: ClassVar[str]  # the field holding the row-level data
    JSON_NAMES: ClassVar[dict[str, str]] = {}  # field → JSON key, where a Python keyword is in the way

    def to_dict(self) -> dict[str, Any]:
        """What the matching `--json` prints (dates and times as objects; `print_json` writes ISO 8601)."""
        return {self.JSON_NAMES.get(f.name, f.name): getattr(self, f.name)
                for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The result of an analysis that built its JSON shape; an unknown or missing key is a programming error."""
        by_key = {v: k for k, v in cls.JSON_NAMES.items()}
        return cls(**{by_key.get(k, k): v for k, v in data.items()})

    def rows(self, name: str | None = None) -> Rows:
        """The row-level data: `name` picks another list-valued field than the default."""
        value = getattr(self, name or self.ROWS)
        if not isinstance(value, list):
            raise ValueError(f"{name!r} is not a list of rows")
        return value

    def to_arrow(self, name: str | None = None) -> pa.Table:
        import pyarrow as pa

        rows = self.rows(name)
        columns = list(dict.fromkeys(k for row in rows for k in row))  # a key missing in one row is null there
        mixed = {c for c in columns if _mixed_times(rows, c)}
        return pa.Table.from_pylist([{c: _instant(row.get(c)) if c in mixed else row.get(c) for c in columns}
                                     for row in rows])

    def to_pandas(self, name: str | None = None) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.rows(name))

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _mixed_times(rows: Rows, column: str) -> bool:
    """Whether a column holds both dates and times (the debt ledger's `since`: a due date or a commit time)."""
    kinds = {type(row[column]) for row in rows if row.get(column) is not None}
    return datetime in kinds and date in kinds


def _instant(value: Any) -> Any:
    """A date as its midnight in UTC, so one Arrow column holds both; the JSON keeps the date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


@dataclass(frozen=True)
class ActionItems(Result):
    """Open postmortem action items, overdue first (`fireline actions`)."""

    ROWS = "items"
    today: str
    open: int
    overdue: int
    by_team: Rows
    items: Rows


@dataclass(frozen=True)
class Followup(Result):
    """Whether done action items moved their DORA metric (`fireline followup`)."""

    ROWS = "items"
    today: date
    weeks: int
    confidence: float
    resamples: int
    seed: int
    min_samples: Mapping
    items: Rows


@dataclass(frozen=True)
class AlertsReport(Result):
    """Alert noise and the detection gap (`fireline alerts report`)."""

    ROWS = "noisy_rules"
    window: Mapping
    timezone: str
    services: list[str] | None
    params: Mapping
    episodes: int
    pages_per_shift: Mapping
    interruptions: Mapping
    flapping: Mapping
    transient: Mapping
    no_runbook: Mapping
    no_incident: Mapping
    noisy_rules: Rows
    detection_gap: Mapping


@dataclass(frozen=True)
class TestingReport(Result):
    """Bug fixes with and without a regression test (`fireline testing`)."""

    __test__ = False  # not a pytest test class
    ROWS = "fixes"
    window: Mapping
    timezone: str
    params: Mapping
    chores_ignored: int  # would-be fixes left out as chores (dependency bumps, ignored authors)
    chores: Rows
    overall: Mapping
    by_kind: Rows
    by_team: Rows
    by_team_month: Rows
    recent_without_test: Rows
    fixes: Rows


@dataclass(frozen=True)
class KnowledgeReport(Result):
    """Truck factor, silos, hotspots and stale docs of one repository (`fireline knowledge`)."""

    ROWS = "groups"
    repo: str
    head: str | None
    by: str
    now: str
    active_since: str
    active_months: int
    files: int
    truck_factor: Mapping
    groups: Rows
    hotspots: Rows
    developers: Rows
    identities: Rows  # each person with the names and addresses merged into them
    bots_left_out: Rows
    include_bots: bool


@dataclass(frozen=True)
class DebtLedger(Result):
    """The debt ledger with month-end totals (`fireline debt`)."""

    ROWS = "items"
    now: datetime
    since: datetime
    timezone: str
    items: Rows
    by_team: Rows
    totals: Rows
    scans: Rows
    notes: list[str]


@dataclass(frozen=True)
class BudgetReport(Result):
    """Each team's share of fixes per month against its budget (`fireline budget`)."""

    ROWS = "teams"
    window: Mapping
    timezone: str
    weight: str
    tolerance: float
    unknown: str | None
    teams: Rows


@dataclass(frozen=True)
class ReleasePlan(Result):
    """Last merge dates at 50/80/95% confidence for a release day (`fireline plan`)."""

    ROWS = "steps"
    release: date
    timezone: str
    sample: Mapping
    cadence: Mapping | None
    verify_days: int
    freeze_days: int
    freeze_from: date
    steps: Rows
    last_merge: Rows
    flags: Rows
    unknown: str | None
    team: str | None
    service: str | None
    on_call: Any


@dataclass(frozen=True)
class Repeats(Result):
    """Postmortems whose cause came back (`fireline postmortems repeats`)."""

    ROWS = "repeats"
    window_days: int
    repeats: Rows


@dataclass(frozen=True)
class OncallNow(Result):
    """Who is on call at an instant, per team (`fireline oncall now`)."""

    ROWS = "teams"
    at: datetime
    teams: Rows


@dataclass(frozen=True)
class OncallNext(Result):
    """The next handoffs per team (`fireline oncall next`)."""

    ROWS = "teams"
    at: datetime
    teams: Rows


@dataclass(frozen=True)
class OncallSchedule(Result):
    """The shifts of a window (`fireline oncall schedule`)."""

    ROWS = "shifts"
    JSON_NAMES: ClassVar[dict[str, str]] = {"from_": "from"}
    from_: datetime
    to: datetime
    ics: str | None
    shifts: Rows


@dataclass(frozen=True)
class OncallGaps(Result):
    """Where on-call coverage breaks (`fireline oncall gaps`); `found` counts every finding."""

    ROWS = "gaps"
    JSON_NAMES: ClassVar[dict[str, str]] = {"from_": "from"}
    from_: datetime
    to: datetime
    gaps: Rows
    no_rotation: Rows  # before a rotation begins or after it ends: nobody is expected on call, not a gap
    weekend_stretches: Rows
    unverified_deployments: Mapping
    experts_away: Mapping
    found: int


@dataclass(frozen=True)
class OncallLoad(Result):
    """Hours on call per person, split on their own clock (`fireline oncall load`)."""

    ROWS = "people"
    JSON_NAMES: ClassVar[dict[str, str]] = {"from_": "from"}
    from_: datetime
    to: datetime
    people: Rows
    pages_unknown: str | None
    fairness: Mapping


@dataclass(frozen=True)
class OncallHandoff(Result):
    """The facts of a handoff note (`fireline oncall handoff --json`); the Markdown is rendered from them."""

    ROWS = "deployments"
    team: str
    at: datetime
    services: list[str]
    outgoing: Any
    incoming: Any
    since: datetime | None
    open_incidents: Rows
    resolved_incidents: Rows
    alerts: Rows
    alerts_known: bool
    deployments: Rows
    action_items: Rows
    nobody_on_call: Any
    due_days: int
