"""The baseline for the metrics benchmark: the DORA definitions written plainly in pandas.

This is what a team would write by hand: read the tables into DataFrames
(`con.sql(...).df()`), then filter, merge and `groupby`. It follows docs/metrics.md
(the same definitions fireline.metrics.dora implements) so the two can be checked
against each other figure by figure:

- deployments: successful, production, time in [since, until);
- lead time: non-baseline deployment_changes of those deployments, deployment time -
  committer time, negatives excluded; median and p90 (linear interpolation, as
  percentile_cont);
- change failure rate: deployments with any incident_deployments row / deployments;
- time to restore: incidents started in the window, resolved - started;
- rework: deployment type in REWORK_TYPES, or ships a revert/hotfix commit, or made
  while an incident of its service was open.

Groups are (team, week of the row's time), weeks starting Monday 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from fireline.metrics.dora import REWORK_TYPES

NO_TEAM = "(no team)"
WEEK = 7 * 86400
MONDAY = 4 * 86400  # 1970-01-05 00:00 UTC was a Monday
EPOCH = pd.Timestamp(0, tz="UTC")


def _secs(s: pd.Series) -> pd.Series:
    """Epoch seconds; float so that missing times stay NaN."""
    return (s - EPOCH) / pd.Timedelta(seconds=1)


def _week(secs: pd.Series) -> pd.Series:
    return ((secs - MONDAY) // WEEK * WEEK + MONDAY).astype("int64")


def _value(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def _during_incident(deps: pd.DataFrame, incidents: pd.DataFrame) -> pd.Series:
    """Was an incident of the deployment's service open at its time?

    For each service, sort incidents by start and carry the latest end seen so far
    (open = +inf); a deployment is covered when the carried end of the last incident
    that started at or before it reaches its time. Exact, and O(n log n) instead of the
    services x deployments x incidents cross join.
    """
    inc = incidents[["service", "s", "r"]].copy()
    inc["r"] = inc["r"].fillna(np.inf)
    inc = inc.sort_values(["service", "s"], kind="stable")
    inc["reach"] = inc.groupby("service")["r"].cummax()
    left = deps[["service", "t"]].reset_index().sort_values("t", kind="stable")
    hit = pd.merge_asof(left, inc.sort_values("s", kind="stable")[["service", "s", "reach"]],
                        left_on="t", right_on="s", by="service", direction="backward")
    return (hit.set_index("index")["reach"] >= hit.set_index("index")["t"]).reindex(deps.index).fillna(False)


def summarise(con: Any, since: datetime, until: datetime, team_of: dict[str, str],
              production: tuple[str, ...] = ("production",)) -> dict[str, Any]:
    con.execute("SET TimeZone = 'UTC'")
    deps = con.sql("SELECT id, service, environment, status, type, time FROM deployments").df()
    links = con.sql("SELECT deployment_id, repo, sha, baseline FROM deployment_changes").df()
    changes = con.sql("SELECT repo, sha, committer_time, subject FROM changes").df()
    incidents = con.sql("SELECT id, service, started, resolved FROM incidents").df()
    failed_ids = con.sql("SELECT deployment_id FROM incident_deployments").df()["deployment_id"]
    lo, hi = since.timestamp(), until.timestamp()

    deps["t"] = _secs(deps["time"])
    keep = (deps["status"].str.lower().eq("success") & deps["environment"].str.lower().isin(production)
            & (deps["t"] >= lo) & (deps["t"] < hi))
    deps = deps[keep].copy()
    deps["team"] = deps["service"].map(team_of).fillna(NO_TEAM)
    deps["week"] = _week(deps["t"])
    deps["day"] = deps["t"] // 86400

    # Lead time: link -> deployment -> commit.
    links = links[~links["baseline"]]
    changes["ct"] = _secs(changes["committer_time"])
    lead = (links.merge(deps[["id", "t", "team", "week"]], left_on="deployment_id", right_on="id")
            .merge(changes[["repo", "sha", "ct"]], on=["repo", "sha"]))
    lead["lead"] = lead["t"] - lead["ct"]
    lead = lead[lead["lead"] >= 0]

    # Change failure and rework flags, one per deployment.
    deps["failed"] = deps["id"].isin(failed_ids)
    subject = changes["subject"].str.lower()
    is_fix = (subject.str.startswith("revert") | subject.str.contains("hotfix", regex=False)
              | subject.str.startswith("hot fix"))
    fix_ids = links.merge(changes.loc[is_fix, ["repo", "sha"]], on=["repo", "sha"])["deployment_id"]
    incidents["s"] = _secs(incidents["started"])
    incidents["r"] = _secs(incidents["resolved"])
    by_type = deps["type"].str.lower().isin(REWORK_TYPES).fillna(False).astype(bool)
    deps["rework"] = by_type | deps["id"].isin(fix_ids) | _during_incident(deps, incidents)

    # Time to restore: incidents that started in the window.
    inc = incidents[(incidents["s"] >= lo) & (incidents["s"] < hi)].copy()
    inc["restore"] = inc["r"] - inc["s"]
    inc["team"] = inc["service"].map(team_of).fillna(NO_TEAM)
    inc["week"] = _week(inc["s"])

    overall = {
        "deployment_frequency": len(deps) / ((hi - lo) / 86400),
        "lead_time": _value(lead["lead"].median() / 3600) if len(lead) else None,
        "lead_time_p90": _value(lead["lead"].quantile(0.9) / 3600) if len(lead) else None,
        "change_failure_rate": _value(deps["failed"].mean()) if len(deps) else None,
        "time_to_restore": _value(inc["restore"].median() / 3600),
        "time_to_restore_p90": _value(inc["restore"].quantile(0.9) / 3600),
        "rework_rate": _value(deps["rework"].mean()) if len(deps) else None,
    }

    keys = ["team", "week"]
    g = deps.groupby(keys).agg(n=("id", "size"), failed=("failed", "mean"), rework=("rework", "mean"))
    by_lead, by_restore = lead.groupby(keys)["lead"], inc.groupby(keys)["restore"]
    lg = pd.DataFrame({"median": by_lead.median(), "p90": by_lead.quantile(0.9)})
    ig = pd.DataFrame({"median": by_restore.median(), "p90": by_restore.quantile(0.9)})
    groups: dict[str, dict[str, float | None]] = {}

    def put(team: str, week: int, metric: str, value: Any) -> None:
        day = datetime.fromtimestamp(week, UTC).date().isoformat()
        groups.setdefault(f"{team}|{day}", {})[metric] = _value(value)

    for (team, week), row in g.iterrows():
        days = (min(week + WEEK, hi) - max(week, lo)) / 86400
        put(team, week, "deployment_frequency", row["n"] / days)
        put(team, week, "change_failure_rate", row["failed"])
        put(team, week, "rework_rate", row["rework"])
    for (team, week), row in lg.iterrows():
        put(team, week, "lead_time", row["median"] / 3600)
        put(team, week, "lead_time_p90", row["p90"] / 3600)
    for (team, week), row in ig.iterrows():
        put(team, week, "time_to_restore", row["median"] / 3600)
        put(team, week, "time_to_restore_p90", row["p90"] / 3600)
    return {"overall": overall, "groups": groups}
