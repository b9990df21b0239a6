"""The tables: their columns, keys and types, spelled the way DuckDB and PostgreSQL both read them."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

# 2: deployments' status, environment and stage and flag changes' state stored lower-cased (NORMALISED).
# 3: `changes.rework_rule` (REWORK_RULES, set when a commit is written) and each commit link's commit
#    times and rule on `deployment_changes`, so the metrics neither scan every subject nor join every commit.
SCHEMA_VERSION = 3

TS = "TIMESTAMP WITH TIME ZONE"

# name -> (columns, primary key). Types are spelled the way both DuckDB and PostgreSQL read them.
TABLES: dict[str, tuple[list[tuple[str, str]], tuple[str, ...]]] = {
    "meta": ([("key", "TEXT"), ("value", "TEXT")], ("key",)),
    # Every inbound event, verbatim; `normalised` is set once its records are derived.
    "raw_events": ([
        ("source", "TEXT"), ("delivery_id", "TEXT"), ("kind", "TEXT"), ("payload", "TEXT"),
        ("received_at", TS), ("headers", "TEXT"), ("normalised", "BOOLEAN"), ("error", "TEXT"),
    ], ("source", "delivery_id")),
    "repos": ([("repo", "TEXT"), ("path", "TEXT"), ("tips", "TEXT"), ("services", "TEXT"),
               ("shallow", "BOOLEAN")], ("repo",)),
    "changes": ([
        ("repo", "TEXT"), ("sha", "TEXT"), ("parents", "TEXT"), ("author_name", "TEXT"),
        ("author_email", "TEXT"), ("author_time", TS), ("author_offset", "INTEGER"),
        ("committer_name", "TEXT"), ("committer_email", "TEXT"), ("committer_time", TS),
        ("committer_offset", "INTEGER"), ("subject", "TEXT"), ("message", "TEXT"),
        ("files_changed", "INTEGER"), ("lines_added", "BIGINT"), ("lines_removed", "BIGINT"),
        # "git" for the git pass (exact); a webhook source name when its parents were inferred.
        ("origin", "TEXT"),
        # The first of REWORK_RULES the subject matches (a revert or hotfix commit), else NULL.
        ("rework_rule", "TEXT"),
    ], ("repo", "sha")),
    "change_files": ([
        ("repo", "TEXT"), ("sha", "TEXT"), ("path", "TEXT"), ("old_path", "TEXT"),
        ("added", "BIGINT"), ("removed", "BIGINT"),
    ], ()),
    "deployments": ([
        ("id", "TEXT"), ("service", "TEXT"), ("environment", "TEXT"), ("sha", "TEXT"), ("time", TS),
        ("status", "TEXT"), ("type", "TEXT"), ("source", "TEXT"), ("ref", "TEXT"), ("repo", "TEXT"),
        # canary, partial or full (NULL: a plain deployment, counted as full).
        ("stage", "TEXT"),
        # TRUE when the time is inferred (a lightweight tag: its commit's time); other tags on the commit.
        ("time_inferred", "BOOLEAN"), ("aliases", "TEXT"),
    ], ("id",)),
    "incidents": ([
        ("id", "TEXT"), ("service", "TEXT"), ("title", "TEXT"), ("started", TS), ("detected", TS),
        ("resolved", TS), ("severity", "TEXT"), ("detected_by", "TEXT"), ("cause", "TEXT"),
        ("source", "TEXT"),
    ], ("id",)),
    "alert_events": ([
        ("source", "TEXT"), ("delivery_id", "TEXT"), ("fingerprint", "TEXT"), ("name", "TEXT"),
        ("status", "TEXT"), ("starts_at", TS), ("ends_at", TS), ("service", "TEXT"), ("severity", "TEXT"),
        ("labels", "TEXT"), ("annotations", "TEXT"),
    ], ("source", "delivery_id", "fingerprint")),
    # Postmortems as code (postmortems/*.md front matter); lists are JSON text.
    "postmortems": ([
        ("id", "TEXT"), ("file", "TEXT"), ("title", "TEXT"), ("date", "DATE"), ("severity", "TEXT"),
        ("services", "TEXT"), ("incidents", "TEXT"), ("detected_by", "TEXT"), ("impact_start", TS),
        ("impact_end", TS), ("status", "TEXT"), ("authors", "TEXT"), ("tags", "TEXT"),
    ], ("id",)),
    "action_items": ([
        ("postmortem_id", "TEXT"), ("position", "INTEGER"), ("owner", "TEXT"), ("team", "TEXT"),
        ("what", "TEXT"), ("due", "DATE"), ("term", "TEXT"), ("dora_metric", "TEXT"), ("status", "TEXT"),
        ("done_on", "DATE"), ("ticket", "TEXT"), ("file", "TEXT"), ("line", "INTEGER"),
    ], ("postmortem_id", "position")),
    # Feature flag changes (from /events or a deployments file): a flip can end an incident.
    "feature_flags": ([
        ("id", "TEXT"), ("service", "TEXT"), ("flag", "TEXT"), ("time", TS), ("state", "TEXT"),
        ("source", "TEXT"), ("incident_id", "TEXT"),
    ], ("id",)),
    # Pull and merge requests, merged from their webhook (or synced) events; see model.PullRequest.
    "pull_requests": ([
        ("id", "TEXT"), ("source", "TEXT"), ("repo", "TEXT"), ("number", "BIGINT"), ("url", "TEXT"),
        ("title", "TEXT"), ("author", "TEXT"), ("created_at", TS), ("draft", "BOOLEAN"), ("ready_at", TS),
        ("first_commit_at", TS), ("first_review_at", TS), ("first_reviewer", "TEXT"), ("merged_at", TS),
        ("closed_at", TS), ("merge_commit", "TEXT"), ("head_sha", "TEXT"), ("base_sha", "TEXT"),
        ("state", "TEXT"), ("reopened", "INTEGER"), ("reopened_at", "TEXT"), ("updated_at", TS),
    ], ("id",)),
    # `fireline sync`: where each stream of each repository stands (`since`: the start of the last
    # complete run; `next_url`: the page to resume an interrupted run from, and when that run began).
    "sync_cursors": ([
        ("source", "TEXT"), ("target", "TEXT"), ("stream", "TEXT"), ("since", TS), ("next_url", "TEXT"),
        ("run_started", TS), ("updated_at", TS),
    ], ("source", "target", "stream")),
    # The ETag of each list page fetched, and the page after it: an unchanged page (304) is skipped whole.
    "sync_etags": ([
        ("source", "TEXT"), ("url", "TEXT"), ("etag", "TEXT"), ("next_url", "TEXT"), ("updated_at", TS),
    ], ("source", "url")),
    # The latest marker scan of each working copy (debt/scan_cache.py): a cache, not a record.
    "scan_cache": ([("repo", "TEXT"), ("path", "TEXT"), ("settings", "TEXT"), ("head", "TEXT"),
                    ("result", "TEXT")], ("repo", "path")),
    # Messages of `[notify.<name>]` channels, one row per channel and message key: what was sent, so a
    # restart never sends it twice, and what failed, retried with back-off (fireline.notify.scheduler).
    "notifications": ([
        ("channel", "TEXT"), ("key", "TEXT"), ("kind", "TEXT"), ("team", "TEXT"), ("status", "TEXT"),
        ("attempts", "INTEGER"), ("first_attempt", TS), ("last_attempt", TS), ("next_attempt", TS),
        ("sent_at", TS), ("error", "TEXT"), ("message", "TEXT"),
    ], ("channel", "key")),
    # Derived by linking (see linking.py); rebuilt whole on every ingest.
    "deployment_changes": ([
        ("deployment_id", "TEXT"), ("service", "TEXT"), ("repo", "TEXT"), ("sha", "TEXT"),
        ("baseline", "BOOLEAN"), ("via", "TEXT"),
        # The linked commit's times and rework rule, copied from `changes` when the link is written
        # (Writer.insert), so the metrics read the links without joining every commit.
        ("committer_time", TS), ("author_time", TS), ("rework_rule", "TEXT"),
    ], ("deployment_id", "repo", "sha")),
    # The commits of each pull request found in git (pr_commits.py): `role` "merge" for the commit that
    # ships it, "branch" for the PR's own commits (their earliest author time starts coding).
    "pull_request_commits": ([
        ("pull_request_id", "TEXT"), ("repo", "TEXT"), ("sha", "TEXT"), ("author_time", TS), ("role", "TEXT"),
    ], ("pull_request_id", "repo", "sha")),
    "incident_deployments": ([
        ("incident_id", "TEXT"), ("deployment_id", "TEXT"), ("via", "TEXT"),
    ], ("incident_id", "deployment_id")),
}

# Columns stored lower-cased, so metrics compare plain columns: a filter on lower(column) hides the
# column's statistics from PostgreSQL's planner, which then guesses one row and picks nested loops.
NORMALISED: dict[str, tuple[str, ...]] = {
    "deployments": ("status", "environment", "stage"),
    "feature_flags": ("state",),
}


# What makes a commit a revert or hotfix for the rework rate (docs/metrics.md "Rework rate"), tested
# in order on the lower-cased subject: (test, text, the rule as `fireline explain` names it). Plain
# string tests, not regular expressions: word boundaries differ between engines. Stored per commit
# (`changes.rework_rule`) when it is written; a store whose rules differ (REWORK_RULES_KEY in `meta`)
# has them recomputed when it is opened (`rework_rule_sql`).
REWORK_RULES: tuple[tuple[str, str, str], ...] = (
    ("starts", "revert", "subject starts with 'revert'"),
    ("contains", "hotfix", "subject contains 'hotfix'"),
    ("starts", "hot fix", "subject starts with 'hot fix'"),
)
REWORK_RULES_KEY = "rework_rules"


def rework_rules_fingerprint() -> str:
    return json.dumps(REWORK_RULES)


def rework_rule_sql(subject: str = "subject") -> str:
    """REWORK_RULES as one SQL expression (LIKE and lower() read the same on DuckDB and PostgreSQL)."""
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"
    whens = " ".join(f"WHEN lower({subject}) LIKE {quoted(('%' if test == 'contains' else '') + text + '%')} "
                     f"THEN {quoted(label)}" for test, text, label in REWORK_RULES)
    return f"CASE {whens} ELSE NULL END"


def rework_rule_arrow(subject: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """REWORK_RULES over a column of subjects (NULL where none matches or the subject is NULL)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lower = pc.utf8_lower(subject)
    out = pa.nulls(len(subject), pa.string())
    for test, text, label in reversed(REWORK_RULES):
        hit = pc.starts_with(lower, text) if test == "starts" else pc.match_substring(lower, text)
        out = pc.if_else(pc.fill_null(hit, False), label, out)
    return out


def migrations(version: int) -> list[str]:
    """The statements that bring a store at schema `version` up to SCHEMA_VERSION (after its
    tables and columns exist)."""
    steps = []
    if version < 2:
        steps += [f"UPDATE {table} SET " + ", ".join(f"{c} = lower({c})" for c in columns)
                  + " WHERE " + " OR ".join(f"{c} <> lower({c})" for c in columns)
                  for table, columns in NORMALISED.items()]
    if version < 3:
        steps += [LINK_TIMES_SQL]
    return steps


# Copies the commit times onto the links a store of schema 2 made (the rules: RULES_OF_LINKS_SQL).
LINK_TIMES_SQL = ("UPDATE deployment_changes SET committer_time = c.committer_time, author_time = c.author_time "
                  "FROM changes c WHERE c.repo = deployment_changes.repo AND c.sha = deployment_changes.sha")
# Copies each commit's rework rule onto its links, after the commits' rules were (re)computed.
RULES_OF_LINKS_SQL = ("UPDATE deployment_changes SET rework_rule = c.rework_rule FROM changes c "
                      "WHERE c.repo = deployment_changes.repo AND c.sha = deployment_changes.sha")


@cache
def arrow_schema(table: str) -> pa.Schema:
    import pyarrow as pa  # only writes need it: a result kept in the store is read without pyarrow

    types = {"TEXT": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_(),
             TS: pa.timestamp("us", tz="UTC"), "DOUBLE PRECISION": pa.float64(), "DATE": pa.date32()}
    columns, _ = TABLES[table]
    return pa.schema([(name, types[sql]) for name, sql in columns])


# Derived tables are rewritten whole by linking; their keys are unique by construction,
# so they carry no PRIMARY KEY index to maintain on every rewrite.
DERIVED = ("deployment_changes", "incident_deployments", "pull_request_commits")


# Indexes a PostgreSQL store needs beyond the primary keys: a relink of only the services whose data
# changed looks commits up by sha alone (`deployed_commits`, `commits_with_prefix`) and deletes the
# links of those services; without them each is a scan of every commit or link. (DuckDB scans columns
# fast enough, and keeping an index up to date would cost more than it saves.) The links that ship a
# revert or hotfix commit (a few in a thousand) are what the rework flags read of `deployment_changes`:
# a partial index finds them where PostgreSQL scanned every link (at 10M changes, 0.8 s on three
# processes in every summary); it holds only those links, so keeping it costs next to nothing.
PG_INDEXES: dict[str, tuple[tuple[str, str], ...]] = {
    "changes": (("changes_sha", "CREATE INDEX IF NOT EXISTS changes_sha ON changes (sha)"),),
    "deployment_changes": (
        ("deployment_changes_service",
         "CREATE INDEX IF NOT EXISTS deployment_changes_service ON deployment_changes (service)"),
        ("deployment_changes_rework", "CREATE INDEX IF NOT EXISTS deployment_changes_rework "
                                      "ON deployment_changes (repo, sha) WHERE rework_rule IS NOT NULL"),
    ),
}


def create_table_sql(name: str, *, if_not_exists: bool = False) -> str:
    columns, pk = TABLES[name]
    cols = ", ".join(f"{c} {t}" for c, t in columns)
    key = f", PRIMARY KEY ({', '.join(pk)})" if pk and name not in DERIVED else ""
    guard = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE TABLE {guard}{name} ({cols}{key})"
