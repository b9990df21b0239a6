"""`fireline report`: the self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    AtOpt,
    ConfigOpt,
    DbOpt,
    JsonOpt,
    ProfileOpt,
    ServiceOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    hidden_alias,
    print_json,
    workspace,
)

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write (one file: styles and charts "
                                      "inside, no network needed to open it).")]
PngOpt = Annotated[Path | None, typer.Option("--png", help="Also write each chart as a PNG image in this folder "
                                             "(for slides, wikis and email).", show_default=False)]
TodayOpt = Annotated[str | None, hidden_alias("--today")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or progress lines.")]


def report(
    out: OutOpt = Path("report.html"), png: PngOpt = None,
    team: TeamOpt = None, service: ServiceOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    profile: ProfileOpt = None, at: AtOpt = None, today: TodayOpt = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
) -> None:
    """Write one HTML file to share: the four keys and rework rate per team with tier badges, weekly trend
    charts, the rows behind every figure, and a section for each other part with data (action items,
    detection gap, alert noise, on-call coverage, knowledge silos, fixes without tests, debt and bug budget).

    It opens offline in any browser (light or dark, laptop or phone). Run again over unchanged data, options
    and config, it writes the page it kept in the store instead of computing it again. Example:

        fireline report --out report.html --since 2026-01-01 --team Data --png charts/
    """
    from ..app.report import report_file
    from ..errors import UserError
    from ..views import terminal
    from .progress import reporter

    with workspace(db, config, at, today=today) as ws, reporter(quiet) as steps:
        if out.exists() and out.is_dir():
            raise UserError("is a directory; give a file name such as report.html", where=str(out))
        result = report_file(ws.existing_store(), ws.config, out, team=team, service=service, since=since,
                             until=until, profile=profile, today=ws.today(), now=ws.now(), png_dir=png, steps=steps)
    if as_json:
        print_json(result.as_dict())
        return
    console = terminal.console()
    console.print(f"Wrote {result.path} ({result.bytes // 1024} KiB, {len(result.sections)} sections, "
                  f"{len(result.charts)} charts): {', '.join(result.sections) or 'no data in this window'}.")
    if result.pngs:
        console.print(f"Wrote {len(result.pngs)} PNG charts in {png}.")


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add this module's commands to the `fireline` app (and its `ingest` group)."""
    app.command("report")(report)
