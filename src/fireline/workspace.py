"""`fireline.Workspace`: Fireline from Python, with the CLI's defaults.

A workspace is a store and a validated configuration, found the way the CLI finds them
(`--db` / FIRELINE_DB / .fireline/fireline.duckdb, and `--config` / FIRELINE_CONFIG /
./fireline.toml / [tool.fireline]), plus an optional fixed "now" so a notebook or a
scheduled task can reproduce a figure. Every method returns a typed result whose
`to_dict()` is what the matching `--json` prints.

    with Workspace() as ws:
        ws.ingest_git("~/src/shop", deploy_tags="v*")
        print(ws.dora(team="Data", since="2026-01-01").to_dict())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .app.settings import load_config, validate
from .config import Config
from .errors import UserError
from .lazy import lazy
from .metrics.scope import Scope
from .results import (
    ActionItems,
    AlertsReport,
    BudgetReport,
    DebtLedger,
    Followup,
    KnowledgeReport,
    OncallGaps,
    OncallHandoff,
    OncallLoad,
    OncallNext,
    OncallNow,
    OncallSchedule,
    ReleasePlan,
    TestingReport,
)
from .scope import scope_of, team_map
from .steps import Steps, quietly
from .store import Store, resolve_url
from .window import AsOf, as_of, parse_instant

KNOWLEDGE_STEP = "knowledge: repositories"

if TYPE_CHECKING:
    from . import failures, ingest
    from .app import analyses, oncall, planning
    from .app import dora as dora_use_case
    from .metrics.summary_types import Summary
    from .sync import run as sync_run
else:  # imported by the first method that needs them: `fireline dora` reads no git and no rotation, and a
    # result kept in the store is answered without the metrics' Ibis expressions (lazy.py)
    dora_use_case = lazy("fireline.app.dora")
    failures = lazy("fireline.failures")
    ingest = lazy("fireline.ingest")
    analyses = lazy("fireline.app.analyses")
    oncall = lazy("fireline.app.oncall")
    planning = lazy("fireline.app.planning")
    sync_run = lazy("fireline.sync.run")

When = str | date | datetime | None

__all__ = ["Workspace"]


def _text(value: When) -> str | None:
    """A date or time as `parse_window` reads it: a date is a whole day, a naive time is local."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


class Workspace:
    """A store and a configuration, as the CLI would find them.

    `db`: a DuckDB file path or a postgresql:// URL (default FIRELINE_DB, else
    .fireline/fireline.duckdb). `config`: a path, a `Config`, or None for the default search.
    `now`: what "now" is for windows that end now, ages and overdue items (default: the clock at
    each call): a datetime, a date (that whole day has passed: `--at 2026-07-05`) or the same as text.
    """

    def __init__(self, db: str | Path | None = None, config: str | Path | Config | None = None, *,
                 now: When = None) -> None:
        if isinstance(config, Config):
            validate(config)
            self.config = config
        else:
            self.config = load_config(config)
        # --db, else FIRELINE_DB, else the config's `db`, else .fireline/fireline.duckdb
        self.url = resolve_url(str(db) if db is not None else None, self.config.store_url())
        self._as_of: AsOf | None = None
        self.set_now(now)
        self._store: Store | None = None
        self._borrowed = False

    @classmethod
    def over(cls, store: Store, config: Config, *, now: When = None) -> Workspace:
        """A workspace over a store someone else opened and closes (the server's): closing it leaves the store open."""
        ws = cls(store.url, config, now=now)
        ws._store, ws._borrowed = store, True
        return ws

    # ---- the store -------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store, opened on first use (created if missing)."""
        if self._store is None:
            self._store = Store.open(self.url)
        return self._store

    def existing_store(self) -> Store:
        """The store for a read: a missing DuckDB file is an error, not an empty new store."""
        if self._store is None:
            self._store = Store.open(self.url, create=False)
        return self._store

    def tables(self) -> dict[str, Any]:
        """The normalised tables as Ibis tables, for your own queries or to materialise elsewhere."""
        return self.existing_store().tables()

    def close(self) -> None:
        if self._store is not None:
            if not self._borrowed:
                self._store.close()
            self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace(db={self.url!r}, config={self.config.source or '(defaults)'!r})"

    # ---- scope -------------------------------------------------------------------------

    def set_now(self, value: When, *, field: str = "now") -> None:
        """Fix "now" (None: the config's `at`, else the clock at each call); `field` names the argument in errors."""
        if value in (None, ""):
            value, field = self.config.at, "at"
        self._as_of = as_of(value, self.config.timezone, option=field) if value not in (None, "") else None

    def now(self) -> datetime:
        """The as-of instant: the one given, else the clock."""
        return self._as_of.now if self._as_of else datetime.now(UTC)

    def today(self) -> date:
        """The as-of day in the configured zone (what is due or overdue is judged on it)."""
        return self._as_of.today if self._as_of else as_of(None, self.config.timezone).today

    def scope(self, *, team: str | None = None, service: str | None = None, since: When = None,
              until: When = None) -> Scope:
        """Which services and which window: `since`/`until` are dates (whole days in the configured
        zone), times, or ISO strings; the window defaults to the 90 days before `until` or now."""
        store = self.existing_store()
        return scope_of(self.config, store, team, service, _text(since), _text(until), now=self.now())

    def _scope(self, scope: Scope | None, filters: dict[str, Any]) -> Scope:
        if scope is not None and any(v is not None for v in filters.values()):
            raise UserError("give a scope or team/service/since/until, not both", field="scope")
        return scope if scope is not None else self.scope(**filters)

    def team_of(self) -> dict[str, str]:
        """Every service the store or the config knows, with its team."""
        return team_map(self.config, self.existing_store())

    # ---- DORA ----------------------------------------------------------------------------

    def dora(self, scope: Scope | None = None, *, team: str | None = None, service: str | None = None,
             since: When = None, until: When = None, profile: str | None = None,
             by: str | None = None, stages: bool = False) -> Summary:
        """The four keys plus rework rate with tiers (`fireline dora`); `by`: "week" or "month"; `stages`:
        lead time's stages (coding, pickup, review, deploy) under each group's `lead_time.stages`."""
        scope = self._scope(scope, {"team": team, "service": service, "since": since, "until": until})
        return dora_use_case.summary(self.existing_store(), self.config, scope, profile=profile, by=by,  # type: ignore[arg-type]
                                     stages=stages)

    def explain(self, metric: str, scope: Scope | None = None, *, team: str | None = None,
                service: str | None = None, since: When = None, until: When = None,
                stage: str | None = None) -> dora_use_case.Explained:
        """The deployments, commits or incidents behind one figure (`fireline explain`); for lead time, `stage`
        (coding, pickup, review, deploy) lists the pull requests behind that stage, slowest first."""
        scope = self._scope(scope, {"team": team, "service": service, "since": since, "until": until})
        return dora_use_case.explain(self.existing_store(), self.config, metric, scope, stage=stage)

    # ---- the other analyses ------------------------------------------------------------------

    def actions(self, *, team: str | None = None, owner: str | None = None, overdue: bool = False) -> ActionItems:
        """Open postmortem action items, overdue first, as of `today()` (`fireline actions --json`)."""
        return analyses.actions(self.existing_store(), self.config, self.today(), team=team, owner=owner,
                                overdue=overdue)

    def followup(self, *, team: str | None = None, weeks: int | None = None) -> Followup:
        """Did done action items move their DORA metric (`fireline followup --json`)."""
        return analyses.followup(self.existing_store(), self.config, self.today(), team=team, weeks=weeks)

    def alerts_report(self, scope: Scope | None = None, *, team: str | None = None, service: str | None = None,
                      since: When = None, until: When = None, tz: str | None = None) -> AlertsReport:
        """Alert noise and the detection gap (`fireline alerts report --json`)."""
        if tz is not None:
            analyses.check_zone(tz)  # before the store is opened
        scope = self._scope(scope, {"team": team, "service": service, "since": since, "until": until})
        return analyses.alerts_report(self.existing_store(), self.config, scope, self.now(), tz=tz)

    def testing(self, scope: Scope | None = None, *, team: str | None = None, service: str | None = None,
                since: When = None, until: When = None, limit: int = 20) -> TestingReport:
        """Bug fixes with and without a regression test (`fireline testing --json`)."""
        scope = self._scope(scope, {"team": team, "service": service, "since": since, "until": until})
        return analyses.testing(self.existing_store(), self.config, scope, team=team, service=service, limit=limit)

    def knowledge(self, path: str | Path = ".", *, by: str = "dir", active_months: int = 6,
                  top: int = 10, steps: Steps | None = None) -> KnowledgeReport:
        """Knowledge silos of one repository (`fireline knowledge --json`); "now" defaults to its newest commit,
        so the result does not depend on the clock. `steps`: see fireline.steps."""
        return analyses.knowledge(self._store_if_any(), self.config, Path(path).expanduser(),
                                  now=self._as_of.now if self._as_of else None, by=by,
                                  active_months=active_months, top=top, steps=steps)

    def repository_dirs(self, team: str | None = None) -> list[Path]:
        """The working copies an analysis of every repository reads: the configured ones (`team`'s only, when
        given), else those the store holds that are still on disk (as the debt ledger finds them)."""
        dirs = list(self.config.repository_dirs(team))
        if dirs or team is not None:
            return dirs
        store = self._store_if_any()
        return [Path(path) for _, path, _ in store.repos() if path and Path(path).is_dir()] if store else []

    def knowledge_repos(self, *, team: str | None = None, by: str = "dir", active_months: int = 6,
                        top: int = 10, steps: Steps | None = None) -> list[KnowledgeReport]:
        """`knowledge` for every repository of `repository_dirs` (the configured ones, only `team`'s when given;
        else the stored ones);
        `steps` hears "knowledge: repositories" (done of all) and each repository's own steps."""
        if team is not None:
            self.config.services_of_team(team)  # refuses an unknown team
        dirs = self.repository_dirs(team)
        if not dirs:
            raise UserError("no repository configured" + (f" for team {team!r}" if team else " or ingested")
                            + ": give a PATH, or name repositories in fireline.toml ([repos.<name>] path = \"...\")",
                            field="path")
        steps = steps or quietly
        found = []
        for done, where in enumerate(dirs):
            steps(KNOWLEDGE_STEP, done, len(dirs))
            found.append(self.knowledge(where, by=by, active_months=active_months, top=top, steps=steps))
        steps(KNOWLEDGE_STEP, len(dirs), len(dirs))
        return found

    def debt(self, *, team: str | None = None, service: str | None = None, since: When = None,
             steps: Steps | None = None) -> DebtLedger:
        """The debt ledger as of `now()`, month-end totals from `since` (`fireline debt --json`); `steps`
        hears how the marker scan goes (fireline.steps)."""
        start = _instant(since, self.config.timezone, "since")
        # With "now" fixed (--at, config `at`) a ledger kept from an earlier run over the same data is reused.
        return planning.debt(self.existing_store(), self.config, self.now(), since=start, team=team, service=service,
                             steps=steps, reuse=self._as_of is not None)

    def budget(self, scope: Scope | None = None, *, team: str | None = None, since: When = None,
               until: When = None, weight: str | None = None) -> BudgetReport:
        """Each team's share of fixes per month against its [budget] (`fireline budget --json`)."""
        scope = self._scope(scope, {"team": team, "service": None, "since": since, "until": until})
        return planning.budget(self.existing_store(), self.config, scope, team=team, weight=weight)

    def plan(self, release: str | date, *, team: str | None = None, service: str | None = None,
             since: When = None, until: When = None, verify_days: int | None = None,
             freeze_days: int | None = None) -> ReleasePlan:
        """Plan back from release day: last merge dates at 50/80/95% confidence (`fireline plan --json`)."""
        day = _date(release, "release")
        scope = self.scope(team=team, service=service, since=since, until=until)
        return planning.plan(self.existing_store(), self.config, scope, day, self.now(), team=team, service=service,
                             verify_days=verify_days, freeze_days=freeze_days)

    # ---- on call ---------------------------------------------------------------------------

    def _instant(self, at: When, field: str = "at") -> datetime:
        """An on-call instant: a date is its midnight in the configured zone; None is `now()`."""
        if at is None:
            return self.now()
        return oncall.instant(at if isinstance(at, str) else at.isoformat(), field, self.config)

    def _span(self, since: When, until: When, default_from: timedelta, default_days: int) -> oncall.Window:
        return oncall.window(self.config, _text(since), _text(until), self.now(), default_from=default_from,
                             default_days=default_days)

    def _store_if_any(self) -> Store | None:
        """The store when it exists; None instead of creating a DuckDB file (an analysis never writes unasked).
        A PostgreSQL store that cannot be reached is still an error."""
        if self._store is None and "://" not in self.url and not Path(self.url).exists():
            return None
        return self.existing_store()

    def _history(self) -> Any:
        """The store's tables when there is a store: rotations alone answer without one."""
        store = self._store_if_any()
        return store.tables() if store is not None else None

    def oncall_now(self, *, team: str | None = None, at: When = None) -> OncallNow:
        """Who is on call at `at` (default `now()`), per team (`fireline oncall now --json`)."""
        return oncall.now(self.config, self._instant(at), team)

    def oncall_next(self, *, team: str | None = None, at: When = None, count: int = 3) -> OncallNext:
        """The next `count` handoffs per team after `at` (`fireline oncall next --json`)."""
        return oncall.next_handoffs(self.config, self._instant(at), count, team)

    def oncall_schedule(self, *, team: str | None = None, since: When = None, until: When = None,
                        person: str | None = None, layers: bool = False,
                        ics: str | Path | None = None) -> OncallSchedule:
        """The shifts from `since` (default now) to `until` (default 7 days on); `ics` also writes them as iCalendar."""
        span = self._span(since, until, timedelta(0), 7)
        return oncall.schedule(self.config, span, team=team, person=person, layers=layers,
                               ics=Path(ics).expanduser() if ics else None, stamp=self.now())

    def oncall_gaps(self, *, team: str | None = None, since: When = None, until: When = None) -> OncallGaps:
        """Where coverage breaks from `since` (default now) to `until` (default 28 days on) (`fireline oncall gaps`)."""
        span = self._span(since, until, timedelta(0), 28)
        return oncall.gaps(self.config, self._history(), span, team=team)

    def oncall_load(self, *, team: str | None = None, since: When = None, until: When = None) -> OncallLoad:
        """Hours on call per person over `since`..`until` (default the last 28 days) (`fireline oncall load`)."""
        span = self._span(since, until, timedelta(days=-28), 28)
        return oncall.load(self.config, self._history(), span, team=team)

    def oncall_handoff(self, team: str, *, at: When = None) -> OncallHandoff:
        """The facts of `team`'s handoff note at `at` (`fireline oncall handoff --json`)."""
        instant = self._instant(at)
        return oncall.handoff(self.config, self.existing_store().tables(), team, instant)

    # ---- ingest --------------------------------------------------------------------------

    def ingest_git(self, path: str | Path, *, service: str | None = None,
                   deploy_tags: str | list[str] | None = None,
                   progress: ingest.Progress | None = None) -> ingest.IngestResult:
        """A repository's history in one streamed pass; tags matching `deploy_tags` (one glob or several,
        `!` to exclude: `["v*", "!*-rc*"]`) are deployments."""
        from .sources.git import open_repo

        repo = Path(path).expanduser()
        open_repo(repo)  # a mistyped path fails before a store is created
        return ingest.ingest_git(self.store, self.config, repo, service=service,
                                 deploy_tags=deploy_tags, progress=progress)

    def ingest_repos(self, *, deploy_tags: str | list[str] | None = None,
                     progress: Callable[[str], ingest.Progress | None] | None = None,
                     on_done: Callable[[ingest.RepoOutcome], None] | None = None,
                     jobs: int | None = None) -> list[ingest.RepoOutcome]:
        """Every repository of `[repos.<name>]` in the config, as `ingest_paths` reads them; one that fails
        is reported in its outcome and the others are stored (`ingest.ingest_repos`)."""
        ingest.require_repos(self.config)  # before a store is created
        return ingest.ingest_repos(self.store, self.config, deploy_tags=deploy_tags, progress=progress,
                                   on_done=on_done, jobs=jobs)

    def ingest_paths(self, paths: Sequence[str | Path], *, deploy_tags: str | list[str] | None = None,
                     progress: Callable[[str], ingest.Progress | None] | None = None,
                     on_done: Callable[[ingest.RepoOutcome], None] | None = None,
                     jobs: int | None = None) -> list[ingest.RepoOutcome]:
        """Many repositories: git read in `jobs` worker processes (default one per CPU), written here and
        linked once; one that cannot be read is reported in its outcome with its path, the others are
        stored (`ingest.ingest_paths`)."""
        return ingest.ingest_paths(self.store, self.config, list(paths), deploy_tags=deploy_tags,
                                   progress=progress, on_done=on_done, jobs=jobs)

    def ingest_deployments(self, path: str | Path, *, service: str | None = None) -> ingest.IngestResult:
        file = _existing(path)  # checked before a store is created
        return ingest.ingest_deployments(self.store, self.config, file, service=service)

    def ingest_incidents(self, path: str | Path, *, service: str | None = None) -> ingest.IngestResult:
        file = _existing(path)  # checked before a store is created
        return ingest.ingest_incidents(self.store, self.config, file, service=service)

    def ingest_alerts(self, path: str | Path) -> ingest.IngestResult:
        file = _existing(path)
        return ingest.ingest_alerts(self.store, self.config, file)

    def ingest_flags(self, path: str | Path, *, service: str | None = None) -> ingest.IngestResult:
        file = _existing(path)  # checked before a store is created
        return ingest.ingest_flags(self.store, self.config, file, service=service)

    def ingest_postmortems(self, paths: list[str | Path] | None = None) -> Any:
        """Postmortem files or folders (default: the [postmortems] folder); refused while lint finds errors."""
        from .postmortems.ingest import default_paths, ingest_postmortems

        targets = [Path(p).expanduser() for p in paths] if paths else default_paths(self.config)
        for target in targets:
            if not target.exists():
                raise UserError("no such file or folder", where=str(target))
        return ingest_postmortems(self.store, self.config, targets, root=self.config.base_dir)

    def export_parquet(self, folder: str | Path) -> list[Any]:
        """Every normalised table as `<table>.parquet` in `folder` (`fireline export parquet`)."""
        from .store.export import export_parquet

        return export_parquet(self.existing_store(), Path(folder))

    def export_to(self, url: str) -> list[Any]:
        """Every normalised table created on the Ibis backend of `url` (`fireline export tables --to`)."""
        from .store.export import export_to

        return export_to(self.existing_store(), url)

    def rebuild(self) -> dict[str, int]:
        """Re-derive every normalised table from the raw events (after a parser fix)."""
        return ingest.rebuild(self.existing_store(), self.config)

    def sync(self, source: str, targets: list[str] | None = None, *, since: When = None,
             **options: Any) -> sync_run.SyncResult:
        """Pull history from `source` ("github", "gitlab", "pagerduty") into the store as raw events and
        normalise them: `targets` are repositories (or PagerDuty service ids), default those in config;
        `since` (a date or time) overrides each stream's cursor. Options: `sleep`, `progress`, `env`."""
        start = _instant(since, self.config.timezone, "since")
        return sync_run.sync(self.store, self.config, source, list(targets or []), since=start, **options)

    def failed_events(self) -> list[failures.FailedEvent]:
        return failures.failed_events(self.existing_store())

    def retry_failed(self, delivery_ids: list[str] | None = None) -> failures.RetryOutcome:
        return failures.retry(self.existing_store(), self.config, delivery_ids)


def _instant(value: When, tz: str, field: str) -> datetime | None:
    """A start time: a date is its midnight in `tz`."""
    if value is None or isinstance(value, datetime):
        return value
    return parse_instant(value.isoformat() if isinstance(value, date) else value, field, tz)


def _date(value: str | date, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"not a date: {value!r} (e.g. 2026-09-30)", field=field) from None


def _existing(path: str | Path) -> Path:
    from .sources.records import check_file

    p = Path(path).expanduser()
    check_file(p)
    return p
