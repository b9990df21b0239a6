"""`fireline testing`: bug fixes and whether they brought a regression test.

`testing` is a plain function so cli.py can register it with `app.command("testing")(testing)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UserError
from .common import (
    AtOpt,
    ConfigOpt,
    DbOpt,
    JsonOpt,
    ServiceOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    lazy,
    print_json,
    workspace,
)

if TYPE_CHECKING:
    from ..views import terminal
    from ..views import testing as testing_view
else:  # loaded when the command runs (see common.lazy)
    terminal = lazy("fireline.views.terminal")
    testing_view = lazy("fireline.views.testing")

LimitOpt = Annotated[int, typer.Option("--limit", help="How many recent fixes without a test to list.")]


def testing(team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
            limit: LimitOpt = 20, at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None,
            as_json: JsonOpt = False) -> None:
    """Bug-fix commits with and without a regression test, per team and month, and the recent fixes without one."""
    if limit < 0:
        raise UserError("must be 0 or more", where="--limit")
    with workspace(db, config, at) as ws:
        data = ws.testing(team=team, service=service, since=since, until=until, limit=limit).to_dict()
    if as_json:
        print_json(data)
        return
    testing_view.render(data, terminal.console())
