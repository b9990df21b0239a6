"""Alert analytics: noise (pages per shift, off-hours, flapping, transient, no runbook,
no incident) and the detection gap, as Ibis expressions over `alert_events` and `incidents`.

Pure like dora.py: tables in, expressions or plain dicts out; the window and "now" are
parameters. Times are compared as integer epoch seconds, which every backend agrees on
(Spark cannot take medians of timestamps; see DESIGN.md). Local time of day is computed by
joining each alert to a small table of UTC offsets built in Python from zoneinfo, because
Ibis has no portable zone conversion; the table holds every DST transition in the window,
so local hours stay right across DST. Definitions: docs/alerts-report.md.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from ..model import NO_TEAM
from .alert_params import AlertParams
from .arrow_times import query_rows
from .dora import _in_scope
from .memtables import memtable
from .presence import has_rows
from .scope import Scope

VERDICT = "If customers report issues before your monitoring does, your monitoring is broken"
NO_ALERTS = "no alert events ingested"
NO_INCIDENTS = "no incidents ingested"
DAY = 86400


def _epoch(col: ir.TimestampValue) -> ir.IntegerValue:
    return col.epoch_seconds().cast("int64")


def episodes(alert_events: ir.Table) -> ir.Table:
    """One row per firing episode: the events of one fingerprint and one startsAt.

    The end is the resolved event's endsAt; no resolved event means the episode is open.
    Grouping ignores `source`, so the same alert delivered twice (webhook and file) counts once.
    `prev_end` (the end of the fingerprint's previous episode) is what flapping is measured on.
    """
    t = alert_events
    notes = t.annotations.fill_null("{}")
    # Annotations are JSON text written with json.dumps (`"key": value`): a plain substring
    # test works on every engine, where JSON functions differ between them.
    runbook = notes.contains('"runbook_url"') & ~notes.contains('"runbook_url": ""')
    t = t.mutate(runbook=runbook)
    g = t.group_by([t.fingerprint, t.starts_at]).agg(
        name=t.name.max(), service=t.service.max(), severity=t.severity.max(),
        runbook=t.runbook.any(), end=t.ends_at.max(where=t.status == "resolved"),
    )
    g = g.mutate(start_epoch=_epoch(g.starts_at), end_epoch=_epoch(g.end))
    w = ibis.window(group_by=g.fingerprint, order_by=g.start_epoch)
    return g.select(
        fingerprint=g.fingerprint, name=g.name, service=g.service, severity=g.severity, start=g.starts_at,
        end=g.end, open=g.end.isnull(), runbook=g.runbook, start_epoch=g.start_epoch, end_epoch=g.end_epoch,
        prev_end=g.end_epoch.lag().over(w),
    )


def episode_rows(alert_events: ir.Table, incidents: ir.Table, scope: Scope, params: AlertParams) -> ir.Table:
    """Episodes starting in the window, each with its flags (what `explain` can list)."""
    ep = _in_scope(episodes(alert_events), "start", scope)
    gap = ep.start_epoch - ep.prev_end
    flap = (ep.prev_end.notnull() & (gap >= 0) & (gap <= params.flap_minutes * 60)).fill_null(False)
    transient = (ep.end_epoch - ep.start_epoch <= params.transient_minutes * 60).fill_null(False)
    # Linked: an incident of the same service started within ±link_minutes of the alert. Incidents
    # outside the window count too: an alert at the window's edge may belong to one just outside.
    inc = incidents.select(isvc=incidents.service, istart=_epoch(incidents.started))
    span = params.link_minutes * 60
    linked = ep.join(inc, [ep.service == inc.isvc, inc.istart >= ep.start_epoch - span,
                           inc.istart <= ep.start_epoch + span])
    linked = linked.select(lfp=linked.fingerprint, lstart=linked.start_epoch).distinct()
    j = ep.left_join(linked, [ep.fingerprint == linked.lfp, ep.start_epoch == linked.lstart])
    page = ibis.literal(True) if params.page_severities is None else \
        j.severity.lower().isin([s.lower() for s in params.page_severities]).fill_null(False)
    return j.select(
        fingerprint=j.fingerprint, name=j.name, service=j.service, severity=j.severity, start=j.start,
        end=j.end, open=j.open, start_epoch=j.start_epoch, runbook=j.runbook, flap=flap, transient=transient,
        linked=j.lfp.notnull(), page=page,
    )


def utc_offsets(tz: str, since: datetime, until: datetime) -> ir.Table:
    """[from_epoch, to_epoch) -> UTC offset in seconds, for every offset `tz` has in the window."""
    zone = ZoneInfo(tz)

    def offset(epoch: int) -> int:
        delta = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    lo, hi = int(since.timestamp()) - DAY, int(until.timestamp()) + DAY
    starts, offsets = [lo], [offset(lo)]
    day = lo
    while day < hi:
        nxt = min(day + DAY, hi)
        if offset(nxt) != offsets[-1]:
            a, b = day, nxt  # bisect to the first second with the new offset
            while b - a > 1:
                mid = (a + b) // 2
                a, b = (mid, b) if offset(mid) == offsets[-1] else (a, mid)
            starts.append(b)
            offsets.append(offset(b))
        day = nxt
    return memtable({"from_epoch": starts, "to_epoch": [*starts[1:], hi], "offset": offsets},
                    schema={"from_epoch": "int64", "to_epoch": "int64", "offset": "int64"})


def _hours_between(second_of_day: ir.IntegerValue, hours: tuple[int, int]) -> ir.BooleanValue:
    lo, hi = hours[0] * 3600, hours[1] * 3600
    if lo <= hi:
        return (second_of_day >= lo) & (second_of_day < hi)
    return (second_of_day >= lo) | (second_of_day < hi)  # a range across midnight


def local_rows(rows: ir.Table, tz: str, scope: Scope, params: AlertParams) -> ir.Table:
    """Page rows with local weekday (Monday 0), second of day and the three time-of-day flags."""
    off = utc_offsets(tz, scope.since, scope.until)
    j = rows.join(off, [rows.start_epoch >= off.from_epoch, rows.start_epoch < off.to_epoch])
    local = j.start_epoch + j.offset
    sod = local % DAY
    weekday = ((local - sod) // DAY + 3) % 7  # 1970-01-01 was a Thursday (3 when Monday is 0)
    business = (weekday < 5) & _hours_between(sod, params.business_hours)
    return j.mutate(weekday=weekday, second_of_day=sod, business=business,
                    sleep=_hours_between(sod, params.sleep_hours))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _unknown(reason: str, **extra: Any) -> dict[str, Any]:
    return {"value": None, "unknown": reason, **extra}


def _shifts(scope: Scope, params: AlertParams) -> tuple[int, int, int]:
    """(shift count, shift seconds, offset seconds): the shifts overlapping [since, min(until, now))."""
    length, offset = int(params.shift_hours * 3600), int(params.shift_offset_hours * 3600)
    end = min(scope.until, params.now) if params.now else scope.until
    first = math.floor((scope.since.timestamp() - offset) / length)
    last = math.ceil((end.timestamp() - offset) / length) - 1
    return max(0, last - first + 1), length, offset


def pages_per_shift(rows: ir.Table, scope: Scope, params: AlertParams, team_of: dict[str, str]) -> dict[str, Any]:
    count, length, offset = _shifts(scope, params)
    pages = rows.filter(rows.page)
    pages = pages.mutate(shift=(pages.start_epoch - offset) // length)
    per = query_rows(pages.group_by(["service", "shift"]).agg(n=pages.count()))
    teams: dict[str, dict[int, int]] = {}
    overall: dict[int, int] = {}
    for row in per:
        team = team_of.get(row["service"] or "", NO_TEAM)
        teams.setdefault(team, {})[row["shift"]] = teams.get(team, {}).get(row["shift"], 0) + row["n"]
        overall[row["shift"]] = overall.get(row["shift"], 0) + row["n"]

    def figure(by_shift: dict[int, int]) -> dict[str, Any]:
        total = sum(by_shift.values())
        over = sorted((s for s, n in by_shift.items() if n > params.page_budget))
        worst = sorted(by_shift.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return {"value": _share(total, count), "unit": "pages/shift", "pages": total, "shifts": count,
                "max": max(by_shift.values(), default=0), "over_budget_shifts": len(over),
                "over_budget_share": _share(len(over), count),
                "worst_shifts": [{"start": datetime.fromtimestamp(s * length + offset, UTC).isoformat(),
                                  "pages": n} for s, n in worst if n > params.page_budget],
                "unknown": None if count else "the window holds no whole or partial shift"}

    return {**figure(overall), "budget": params.page_budget, "shift_hours": params.shift_hours,
            "shift_offset_hours": params.shift_offset_hours,
            "by_team": [{"team": t, **figure(s)} for t, s in sorted(teams.items())]}


def interruptions(rows: ir.Table, tz: str, scope: Scope, params: AlertParams) -> dict[str, Any]:
    local = local_rows(rows.filter(rows.page), tz, scope, params)
    [r] = query_rows(local.agg(n=local.count(), business=local.business.ifelse(1, 0).sum(),
                          sleep=local.sleep.ifelse(1, 0).sum()))
    n, business, sleep = int(r["n"]), int(r["business"] or 0), int(r["sleep"] or 0)

    def part(k: int, hours: str) -> dict[str, Any]:
        return {"value": k, "share": _share(k, n), "hours": hours}

    return {"value": n, "unit": "pages", "timezone": tz, "unknown": None,
            "business_hours": part(business, f"Mon-Fri {params.business_hours[0]:02d}:00-"
                                             f"{params.business_hours[1]:02d}:00"),
            "off_hours": part(n - business, "outside business hours (includes sleep hours)"),
            "sleep_hours": part(sleep, f"{params.sleep_hours[0]:02d}:00-{params.sleep_hours[1]:02d}:00 any day")}


def _recommend(rule: dict[str, Any], incidents_known: bool) -> list[str]:
    advice = []
    if rule["flaps"]:
        advice.append("flapping: add `for: 5m` or hysteresis (a lower threshold to resolve than to fire)")
    if rule["transient"]:
        advice.append("transient: raise `for` so it fires only when the problem persists")
    if rule["no_runbook"]:
        advice.append("no runbook: add a runbook_url annotation that says what to do")
    if incidents_known and not rule["linked"]:
        advice.append("never linked to an incident: is it actionable? consider a dashboard instead")
    return advice


def noise(rows: ir.Table, params: AlertParams, incidents_known: bool) -> dict[str, Any]:
    """Flapping, transient, no runbook, no incident, and the noisiest rules, from one aggregation."""
    flag = {k: rows[k].ifelse(1, 0).sum() for k in ("flap", "transient", "open", "linked")}
    per_rule = query_rows(rows.group_by("name").agg(
        episodes=rows.count(), flaps=flag["flap"], transient=flag["transient"], open=flag["open"],
        linked=flag["linked"], no_runbook=(~rows.runbook).ifelse(1, 0).sum()))
    for rule in per_rule:
        for k in ("flaps", "transient", "open", "linked", "no_runbook"):
            rule[k] = int(rule[k] or 0)
    n = sum(r["episodes"] for r in per_rule)
    resolved = n - sum(r["open"] for r in per_rule)

    def total(k: str) -> int:
        return sum(r[k] for r in per_rule)

    unlinked = n - total("linked")
    by_name = sorted(per_rule, key=lambda r: (-r["episodes"], r["name"] or ""))
    no_incident = ({"value": unlinked, "episodes": n, "share": _share(unlinked, n), "unknown": None,
                    "link_minutes": params.link_minutes} if incidents_known else
                   _unknown(NO_INCIDENTS, episodes=n, link_minutes=params.link_minutes))
    return {
        "flapping": {"value": total("flaps"), "episodes": n, "share": _share(total("flaps"), n), "unknown": None,
                     "minutes": params.flap_minutes,
                     "by_rule": [{"name": r["name"], "flaps": r["flaps"], "episodes": r["episodes"]}
                                 for r in by_name if r["flaps"]]},
        "transient": {"value": total("transient"), "resolved_episodes": resolved,
                      "share": _share(total("transient"), resolved), "unknown": None,
                      "minutes": params.transient_minutes,
                      "by_rule": [{"name": r["name"], "transient": r["transient"], "episodes": r["episodes"]}
                                  for r in by_name if r["transient"]]},
        "no_runbook": {"value": sum(1 for r in per_rule if r["no_runbook"]), "rules": len(per_rule),
                       "episodes": total("no_runbook"), "unknown": None,
                       "names": sorted(r["name"] for r in per_rule if r["no_runbook"])},
        "no_incident": no_incident,
        "noisy_rules": [{**{k: r[k] for k in ("name", "episodes", "flaps", "transient", "no_runbook")},
                         "linked": r["linked"] if incidents_known else None,
                         "recommendations": _recommend(r, incidents_known)} for r in by_name[:params.top]],
    }


def detection_gap(incidents: ir.Table, scope: Scope, params: AlertParams, team_of: dict[str, str]
                  ) -> dict[str, Any]:
    """Who noticed first (customer share, per service and team) and MTTD (detected - started)."""
    t = _in_scope(incidents, "started", scope)
    customer = t.detected_by.lower().isin([s.lower() for s in params.customer_sources]).fill_null(False)
    t = t.mutate(customer=customer, detect=_epoch(t.detected) - _epoch(t.started), month=t.started.truncate("M"))
    counts = {"incidents": t.count(), "customer": t.customer.ifelse(1, 0).sum(),
              "unknown_detected_by": t.detected_by.isnull().ifelse(1, 0).sum()}
    by_service = query_rows(t.group_by("service").agg(**counts))
    [mttd] = query_rows(t.agg(n=t.detect.count(), median=t.detect.median(), p90=t.detect.quantile(0.9)))
    months = query_rows(t.group_by("month").agg(n=t.detect.count(), median=t.detect.median()).order_by("month"))

    def share(rows: list[dict[str, Any]]) -> dict[str, Any]:
        n = sum(int(r["incidents"]) for r in rows)
        c = sum(int(r["customer"] or 0) for r in rows)
        value = _share(c, n)
        return {"value": value, "customer": c, "incidents": n,
                "unknown_detected_by": sum(int(r["unknown_detected_by"] or 0) for r in rows),
                "unknown": None if n else "no incidents in the window",
                "verdict": VERDICT if value is not None and value > params.customer_threshold else None}

    teams: dict[str, list[dict[str, Any]]] = {}
    for row in by_service:
        teams.setdefault(team_of.get(row["service"] or "", NO_TEAM), []).append(row)
    overall = share(by_service)
    n = int(mttd["n"] or 0)
    return {
        "customer_share": {k: v for k, v in overall.items() if k != "verdict"},
        "verdict": overall["verdict"], "threshold": params.customer_threshold,
        "by_service": [{"service": r["service"], **share([r])} for r in sorted(by_service, key=lambda r: r["service"])],
        "by_team": [{"team": k, **share(v)} for k, v in sorted(teams.items())],
        "mttd": {"value": _hours(mttd["median"]) if n else None, "unit": "hours", "count": n,
                 "p90": _hours(mttd["p90"]) if n else None,
                 "unknown": None if n else "no incidents with a detection time in the window",
                 "by_month": [{"month": m["month"].strftime("%Y-%m"), "value": _hours(m["median"]),
                               "count": int(m["n"])} for m in months if m["n"]]},
    }


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def report(tables: Mapping[str, ir.Table], scope: Scope, params: AlertParams | None = None, *,
           team_of: dict[str, str] | None = None, tz: str = "UTC") -> dict[str, Any]:
    """Everything `fireline alerts report` shows, as a JSON-able dict with the counts behind each figure."""
    params = params or AlertParams()
    team_of = team_of or {}
    has_alerts = has_rows(tables["alert_events"])
    has_incidents = has_rows(tables["incidents"])
    out: dict[str, Any] = {
        "window": {"since": scope.since.isoformat(), "until": scope.until.isoformat(), "days": round(scope.days, 6)},
        "timezone": tz, "services": list(scope.services) if scope.services is not None else None,
        "params": {k: (v.isoformat() if isinstance(v, datetime) else v)
                   for k, v in dataclasses.asdict(params).items()},
    }
    if has_alerts:
        rows = episode_rows(tables["alert_events"], tables["incidents"], scope, params).cache()
        [ep] = query_rows(rows.agg(n=rows.count(), open=rows.open.ifelse(1, 0).sum(),
                                   pages=rows.page.ifelse(1, 0).sum()))
        out["episodes"] = {"value": int(ep["n"]), "open": int(ep["open"] or 0), "pages": int(ep["pages"] or 0),
                           "unknown": None}
        out["pages_per_shift"] = pages_per_shift(rows, scope, params, team_of)
        out["interruptions"] = interruptions(rows, tz, scope, params)
        out.update(noise(rows, params, has_incidents))
    else:
        for key in ("episodes", "pages_per_shift", "interruptions", "flapping", "transient", "no_runbook",
                    "no_incident"):
            out[key] = _unknown(NO_ALERTS)
        out["noisy_rules"] = []
    if has_incidents:
        out["detection_gap"] = detection_gap(tables["incidents"], scope, params, team_of)
    else:
        out["detection_gap"] = {"customer_share": _unknown(NO_INCIDENTS), "verdict": None,
                                "threshold": params.customer_threshold, "by_service": [], "by_team": [],
                                "mttd": _unknown(NO_INCIDENTS)}
    return out


__all__ = ["VERDICT", "AlertParams", "detection_gap", "episode_rows", "episodes", "interruptions", "local_rows",
           "noise", "pages_per_shift", "report", "utc_offsets"]
