"""Repeat incidents: the same service, the same cause tag, within a window.

Cause tags come from postmortem front matter (`tags`) and apply to the postmortem's incidents.
An incident is a repeat when an earlier incident of the same service carries the same tag and
started at most `window_days` before it; the row says how the earlier postmortem's action
items stood, overall and on the day the repeat started (were they done in time?).

Pure: tables in, rows out. Postmortems are few, so their JSON lists are read in Python; the
incidents come from the store through one Ibis expression.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis.expr.types as ir

from ..model import json_list
from ..window import as_utc
from .arrow_times import python_rows


def repeat_incidents(tables: dict[str, ir.Table], *, window_days: int = 90, tz: str = "UTC") -> list[dict]:
    """One row per (repeat incident, tag, earlier incident), latest repeats first.

    Keys: incident_id, service, tag, earlier_incident_id, earlier_postmortem_id, earlier_actions_total,
    earlier_actions_done, earlier_actions_open (plus started, earlier_started, days_apart, postmortem_id,
    earlier_actions_dropped and earlier_actions_done_before: done on or before the day the repeat started,
    that day taken in zone `tz`, the zone `done_on` dates are written in).
    """
    zone = ZoneInfo(tz)
    pms = python_rows(tables["postmortems"].select("id", "incidents", "tags").to_pyarrow())
    tags_of: dict[str, set[str]] = {}
    pm_of: dict[str, str] = {}  # incident -> the postmortem that tagged it (first by id, for stability)
    for pm in sorted(pms, key=lambda p: p["id"] or ""):
        tags = {t.strip().lower() for t in json_list(pm["tags"]) if t.strip()}
        for incident in json_list(pm["incidents"]):
            if tags:
                tags_of.setdefault(incident, set()).update(tags)
            pm_of.setdefault(incident, pm["id"])
    if not tags_of:
        return []
    inc = tables["incidents"]
    rows = python_rows(inc.filter(inc.id.isin(sorted(tags_of))).select("id", "service", "started").to_pyarrow())
    items = python_rows(tables["action_items"].select("postmortem_id", "status", "done_on").to_pyarrow())
    by_pm: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_pm.setdefault(item["postmortem_id"], []).append(item)
    incidents = sorted(({**r, "started": as_utc(r["started"])} for r in rows), key=lambda r: (r["started"], r["id"]))
    window = timedelta(days=window_days)
    out = []
    for i, later in enumerate(incidents):
        for earlier in incidents[:i]:
            if earlier["service"] != later["service"] or later["started"] - earlier["started"] > window:
                continue
            for tag in sorted(tags_of[earlier["id"]] & tags_of[later["id"]]):
                pm_id = pm_of.get(earlier["id"])
                acts = by_pm.get(pm_id, []) if pm_id is not None else []
                day = later["started"].astimezone(zone).date()
                out.append({
                    "incident_id": later["id"], "service": later["service"], "tag": tag,
                    "earlier_incident_id": earlier["id"], "earlier_postmortem_id": pm_id,
                    "earlier_actions_total": len(acts),
                    "earlier_actions_done": sum(1 for a in acts if a["status"] == "done"),
                    "earlier_actions_open": sum(1 for a in acts if a["status"] == "open"),
                    "earlier_actions_dropped": sum(1 for a in acts if a["status"] == "dropped"),
                    "earlier_actions_done_before": sum(1 for a in acts if a["status"] == "done" and a["done_on"]
                                                       and a["done_on"] <= day),
                    "started": later["started"], "earlier_started": earlier["started"],
                    "days_apart": round((later["started"] - earlier["started"]).total_seconds() / 86400, 1),
                    "postmortem_id": pm_of.get(later["id"]),
                })
    out.sort(key=lambda r: (r["started"], r["incident_id"], r["tag"], r["earlier_incident_id"]), reverse=True)
    return out
