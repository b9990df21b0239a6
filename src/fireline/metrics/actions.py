"""Open postmortem action items: who owes what, by when, and how late it is.

Pure: tables in, rows out; "today" is a parameter (no clock). Definitions: docs/postmortems.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from ..model import NO_TEAM
from .arrow_times import python_rows


def action_rows(tables: dict[str, ir.Table]) -> ir.Table:
    """One row per action item with its postmortem's title and date."""
    items, pms = tables["action_items"], tables["postmortems"]
    j = items.left_join(pms, items.postmortem_id == pms.id)
    return j.select(
        postmortem_id=items.postmortem_id, postmortem_title=pms.title, postmortem_date=pms.date,
        position=items.position, owner=items.owner, team=items.team, what=items.what, due=items.due,
        term=items.term, dora_metric=items.dora_metric, status=items.status, done_on=items.done_on,
        ticket=items.ticket, file=items.file, line=items.line,
    )


def is_overdue(row: Mapping[str, Any], today: date) -> bool:
    """Overdue: still open and due before `today` (an item due today is not late yet)."""
    return row.get("status") == "open" and row.get("due") is not None and row["due"] < today


@dataclass
class ActionsReport:
    today: date
    items: list[dict[str, Any]]
    by_team: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "open": len(self.items),
                "overdue": sum(1 for i in self.items if i["overdue"]), "by_team": self.by_team, "items": self.items}


def open_actions(tables: dict[str, ir.Table], *, today: date, team: str | None = None, owner: str | None = None,
                 overdue_only: bool = False) -> ActionsReport:
    """Open items (not done, not dropped), overdue first (most days late first), then by due date.

    `days_late` is today − due for an item past its due date, else 0; `days_left` the opposite.
    """
    t = action_rows(tables)
    t = t.filter(t.status == "open")
    if team is not None:
        t = t.filter(t.team.fill_null(NO_TEAM) == team)
    if owner is not None:
        t = t.filter(t.owner.lower() == owner.lower())
    if overdue_only:
        t = t.filter(t.due < ibis.literal(today))
    rows = python_rows(t.to_pyarrow())
    items = []
    for r in rows:
        due = r["due"]
        late = (today - due).days if due is not None else 0
        items.append({**r, "team": r["team"] or NO_TEAM, "overdue": is_overdue(r, today), "days_late": max(late, 0),
                      "days_left": max(-late, 0) if due is not None else None})
    items.sort(key=lambda i: (not i["overdue"], -i["days_late"], i["due"] or date.max, i["team"], i["owner"] or "",
                              i["postmortem_id"] or "", i["position"]))
    teams: dict[str, dict[str, Any]] = {}
    for i in items:
        row = teams.setdefault(i["team"], {"team": i["team"], "open": 0, "overdue": 0, "owners": {}})
        row["open"] += 1
        row["overdue"] += int(i["overdue"])
        owner_row = row["owners"].setdefault(i["owner"] or "(nobody)", {"open": 0, "overdue": 0})
        owner_row["open"] += 1
        owner_row["overdue"] += int(i["overdue"])
    by_team = sorted(teams.values(), key=lambda r: (-r["overdue"], -r["open"], r["team"]))
    return ActionsReport(today, items, by_team)
