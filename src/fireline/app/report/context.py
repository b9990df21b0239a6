"""What every report section reads: the store's tables, the scope, the config and the clock.

The report is assembled here, in the use-case layer; the page types it fills (sections,
tables, figures) and the HTML they become live in views/report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ...config import Config
from ...metrics.scope import Scope
from ...metrics.tiers import Profile
from ...store import Store

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from ...debt.report import ScanCache
    from ...metrics.knowledge_history import History
    from ...views.report.model import Links

__all__ = ["PARTS_STEP", "Anchors", "Context", "Shared", "histories", "history_of"]

PARTS_STEP = "report parts"  # the progress step of building the sections (fireline.steps)


class Anchors:
    """The static report's links (views.report.model.AnchorLinks), imported on first use: the views
    import Altair, which writing a kept report (app/report/kept.py) never needs."""

    def drilldown(self, metric: str, team: str | None = None, service: str | None = None) -> str:
        from ...views.report.model import AnchorLinks

        return AnchorLinks().drilldown(metric, team, service)


@runtime_checkable
class Shared(Protocol):
    """What a long-running server's pages of one store generation share: `get` computes a value once per
    key (and generation), whichever page or thread asks first (server/precompute.GenerationScans)."""

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any: ...


@dataclass
class Context:
    """Everything a section may read. Metrics take their "now" from here, never from the clock."""

    store: Store
    tables: dict[str, ir.Table]
    config: Config
    scope: Scope
    team_of: dict[str, str]
    profile: Profile
    today: date
    now: datetime
    links: Links
    team: str | None = None
    service: str | None = None
    drill_rows: int = 100  # rows per folded drill-down table; the rest are a command away
    cache: dict[str, Any] = field(default_factory=dict)  # what several sections read, computed once per page
    scans: ScanCache | None = None  # marker scans a long-running server keeps across pages
    shared: Shared | None = None  # what the pages of one store generation share (a server's; see histories)

    @property
    def teams_in_scope(self) -> list[str]:
        services = self.scope.services
        return sorted({t for s, t in self.team_of.items() if services is None or s in services})


def histories(ctx: Context) -> dict[str, History]:
    """Every ingested repository's history (at its default HEAD), replayed once per page: the knowledge,
    debt and on-call parts all read it. A report for some services (--team, --service) replays only the
    repositories that hold them: the parts show nothing of the others."""
    if "histories" not in ctx.cache:
        from ...metrics.arrow_times import python_rows  # here: a kept page is written without pyarrow

        repos = sorted(r["repo"] for r in python_rows(ctx.tables["repos"].select("repo").to_pyarrow()))
        if ctx.scope.services is not None:
            wanted, held = set(ctx.scope.services), ctx.store.repo_services()
            repos = [r for r in repos if wanted & {s["name"] for s in held.get(r, [])}]
        ctx.cache["histories"] = {repo: history_of(ctx.tables, ctx.config, repo, ctx.shared) for repo in repos}
    return ctx.cache["histories"]


def history_of(tables: dict[str, ir.Table], config: Config, repo: str, shared: Shared | None) -> History:
    """One repository's history (at its default HEAD), replayed once per store generation where pages
    share one (`shared`), else once per page. A history is never changed once replayed."""
    from ...identity import People
    from ...metrics.knowledge_history import load_history

    def load() -> History:
        return load_history(tables, repo, people=People.from_config(config))

    return shared.get(("history", repo), load) if shared is not None else load()
