"""`fireline oncall now|next|schedule|gaps|load|handoff`: who is on call, where coverage breaks, handoffs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich import box

from ..errors import UserError
from .common import ConfigOpt, DbOpt, JsonOpt, hidden_alias, lazy, print_json, workspace

if TYPE_CHECKING:
    from rich.table import Table

    from ..app import oncall
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    oncall = lazy("fireline.app.oncall")
    terminal = lazy("fireline.views.terminal")

oncall_app = typer.Typer(
    help="Support rotations from [rotations.TEAM] in fireline.toml: who is on call now and next, the "
    "schedule (also as iCalendar), gaps in coverage, unverified weekend releases, load per person, and "
    "handoff notes. See docs/oncall.md.", no_args_is_help=True, rich_markup_mode="markdown")

TeamOpt = Annotated[str | None, typer.Option("--team", help="Only this team's rotation.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="The instant to ask about: a date or ISO time, in the "
                                           "configured zone unless it has an offset (default: now).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Start: a date (its midnight, configured zone) or an "
                                              "ISO time.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="End: a date (inclusive: the whole day) or an ISO "
                                              "time.")]
FromOpt = Annotated[str | None, hidden_alias("--from", "--since")]
ToOpt = Annotated[str | None, hidden_alias("--to", "--until")]


def _either(new: str | None, old: str | None, names: str) -> str | None:
    if new and old:
        raise UserError(f"give {names.replace('/', ' or ')}, not both", where=names)
    return new or old


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    """Add this module's commands to the `fireline` app (and its `ingest` group)."""
    app.add_typer(oncall_app, name="oncall")


@contextmanager
def _window_flags(since: str | None, until: str | None, from_: str | None, to: str | None
                  ) -> Iterator[tuple[str | None, str | None]]:
    """--since/--until, or the old --from/--to: an error about the window names the flag that was typed."""
    start, end = _either(since, from_, "--since/--from"), _either(until, to, "--until/--to")
    typed = {"since": "from" if from_ else "since", "until": "to" if to else "until"}
    try:
        yield start, end
    except UserError as exc:
        if exc.field and not exc.where and any(name in typed for name in exc.field.split("/")):
            raise UserError(exc.message, field="/".join(typed.get(n, n) for n in exc.field.split("/"))) from None
        raise


def _fmt(value: datetime | None, zone: str) -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _table(title: str, columns: list[str], caption: str | None = None) -> Table:
    # Names come from config and calendars: every cell goes through terminal.safe (DataTable).
    table = terminal.DataTable(title=title, caption=caption, header_style="bold", box=box.SIMPLE_HEAD,
                               pad_edge=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    return table


@oncall_app.command("now")
def now(team: TeamOpt = None, at: AtOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Who is on call now (or --at): per team, the person, their layer, and until when."""
    with workspace(None, config) as ws:
        data = ws.oncall_now(team=team, at=at)
        tz = ws.config.timezone
    if as_json:
        print_json(data.to_dict())
        return
    table = _table(f"On call at {_fmt(data.at, tz)}", ["team", "on call", "their time", "layer", "since", "until",
                                                       "why"])
    for r in data.teams:
        own = _fmt(data.at, r["zone"]) if r["zone"] else "—"
        table.add_row(r["team"], r["person"] or terminal.styled("nobody", "red"), own, r["layer"] or "—",
                      _fmt(r["since"], tz), _fmt(r["until"], tz), r["reason"] or "—")
    terminal.console().print(table)


@oncall_app.command("next")
def next_(team: TeamOpt = None, at: AtOpt = None,
          count: Annotated[int, typer.Option("--count", min=1, help="How many handoffs per team.")] = 3,
          config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The next handoffs after now (or --at): who takes over when, per team (a gap shows as nobody)."""
    with workspace(None, config) as ws:
        data = ws.oncall_next(team=team, at=at, count=count)
        tz = ws.config.timezone
    if as_json:
        print_json(data.to_dict())
        return
    table = _table(f"Next handoffs after {_fmt(data.at, tz)}", ["team", "takes over", "at", "until", "layer"])
    for t in data.teams:
        for h in t["handoffs"]:
            table.add_row(t["team"], h["person"] or terminal.styled("nobody", "red"), _fmt(h["start"], tz),
                          _fmt(h["end"], tz), h["layer"] or "—")
    terminal.console().print(table)


@oncall_app.command("schedule")
def schedule_cmd(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None,
                 from_: FromOpt = None, to: ToOpt = None,
                 person: Annotated[str | None, typer.Option("--person", help="Only this person's shifts (all "
                                                            "teams).")] = None,
                 layers: Annotated[bool, typer.Option("--layers", help="Every layer's shifts, not only who "
                                                      "is finally on call.")] = False,
                 ics: Annotated[Path | None, typer.Option("--ics", help="Also write the shifts to this iCalendar "
                                                          "(RFC 5545) file, for a team (--team) or a person "
                                                          "(--person).")] = None,
                 config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The shifts from --since to --until (default: the next 7 days), as a table, JSON or iCalendar."""
    with workspace(None, config) as ws, _window_flags(since, until, from_, to) as (start, end):
        data = ws.oncall_schedule(team=team, since=start, until=end, person=person, layers=layers, ics=ics)
        tz, zones = ws.config.timezone, oncall.zones(ws.config)
    if as_json:
        print_json(data.to_dict())
        return
    table = _table(f"On-call schedule {_fmt(data.from_, tz)} → {_fmt(data.to, tz)}",
                   ["team", "layer", "person", "start", "end", "hours", "their start", "why"])
    for s in data.shifts:
        own = zones.get(s["person"])
        theirs = s["start"].astimezone(ZoneInfo(own)).strftime("%a %H:%M %Z") if own else "—"
        table.add_row(s["team"], s["layer"], s["person"], _fmt(s["start"], tz), _fmt(s["end"], tz),
                      f"{s['hours']:.1f}", theirs, s["reason"])
    out = terminal.console()
    out.print(table)
    if ics is not None:
        out.print(f"Wrote {len(data.shifts)} shifts to {terminal.safe(ics)}.")


@oncall_app.command("gaps")
def gaps_cmd(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None,
             from_: FromOpt = None, to: ToOpt = None,
             fail: Annotated[bool, typer.Option("--fail-on-gaps", help="Exit 1 when anything is found (for CI: "
                                                "check next month's rotation before it starts).")] = False,
             db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Where coverage breaks (default: the next 28 days).

    Nobody on call; weekends and holidays on one person for too long; production deployments nobody of
    their team was on call to verify; every expert of a service away at once."""
    with workspace(db, config) as ws, _window_flags(since, until, from_, to) as (start, end):
        data = ws.oncall_gaps(team=team, since=start, until=end).to_dict()
        tz = ws.config.timezone
    if as_json:
        print_json(data)
    else:
        _render_gaps(data, tz)
    if fail and data["found"]:
        raise typer.Exit(1)


def _render_gaps(data: dict, zone: str) -> None:
    """Only the tables with rows: nothing found is one line."""
    out = terminal.console()
    out.print(f"[bold]On-call coverage[/] {_fmt(data['from'], zone)} → {_fmt(data['to'], zone)}")
    for r in data["no_rotation"]:
        when = f"(it starts {_fmt(r['at'], zone)})" if r["why"] == "no rotation yet" else _fmt(r["at"], zone)
        out.print(f"{terminal.safe(r['team'])}: {r['why']} {when}")
    if data["gaps"]:
        table = _table(f"Nobody on call ({len(data['gaps'])})", ["team", "from", "to", "hours", "after", "why"])
        for g in data["gaps"]:
            table.add_row(g["team"], _fmt(g["start"], zone), _fmt(g["end"], zone), f"{g['hours']:.1f}",
                          g["after"] or "—", "; ".join(g["why"]) or "no layer covers it")
        out.print(table)
    if data["weekend_stretches"]:
        limit = data["weekend_stretches"][0]["limit"]  # every stretch carries the [oncall] limit it broke
        table = _table(f"Days off on one person for more than {limit:g} h ({len(data['weekend_stretches'])})",
                       ["team", "person", "from", "to", "hours", "days (their calendar)"])
        for s in data["weekend_stretches"]:
            table.add_row(s["team"], s["person"], _fmt(s["start"], zone), _fmt(s["end"], zone), f"{s['hours']:.1f}",
                          ", ".join(s["days"]))
        out.print(table)
    u = data["unverified_deployments"]
    if u.get("unknown"):
        out.print(f"Unverified production deployments: unknown: {terminal.safe(u['unknown'])}")
    elif u["unverified"]:
        table = _table(f"Production deployments nobody of their team was on call to verify ({len(u['unverified'])} "
                       f"of {u['checked']})", ["time", "day", "service", "team", "id", "type", "why"])
        for d in u["unverified"]:
            table.add_row(_fmt(d["time"], zone), d["weekday"], d["service"], d["team"] or "—", d["id"],
                          d["type"] or "—", d["why"])
        out.print(table)
    e = data["experts_away"]
    if e.get("unknown"):
        out.print(f"Experts away: unknown: {terminal.safe(e['unknown'])}")
    elif e["periods"]:
        table = _table(f"Every expert of a service away at once ({len(e['periods'])})",
                       ["service", "experts", "from", "to", "why"])
        for p in e["periods"]:
            table.add_row(p["service"], ", ".join(p["experts"]), _fmt(p["start"], zone), _fmt(p["end"], zone),
                          "; ".join(p["why"]))
        out.print(table)
    if not data["found"]:
        checked = f"; {u['checked']} production deployments checked" if not u.get("unknown") else ""
        out.print(f"No coverage gaps found{checked}.")


@oncall_app.command("load")
def load_cmd(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None, from_: FromOpt = None,
             to: ToOpt = None, db: DbOpt = None,
             config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Hours on call per person (default: the last 28 days): fairness at a glance.

    Split into business, off and sleep hours on each person's own clock, and pages when alert history exists."""
    with workspace(db, config) as ws, _window_flags(since, until, from_, to) as (start, end):
        result = ws.oncall_load(team=team, since=start, until=end)
        tz = ws.config.timezone
    if as_json:
        print_json(result.to_dict())
        return
    data = result.to_dict()
    table = _table(f"On-call load {_fmt(result.from_, tz)} → {_fmt(result.to, tz)}",
                   ["person", "zone", "teams", "hours", "business", "off", "sleep", "pages", "pages asleep"],
                   caption=f"hours on each person's own clock; most/least on call: "
                           f"{data['fairness']['ratio'] or '—'}x" + (f" · pages unknown: {data['pages_unknown']}"
                                                                   if data["pages_unknown"] else ""))
    for p in data["people"]:
        table.add_row(p["person"], p["zone"], ", ".join(p["teams"]), f"{p['hours']:.1f}", f"{p['business']:.1f}",
                      f"{p['off']:.1f}", f"{p['sleep']:.1f}", "—" if p["pages"] is None else str(p["pages"]),
                      "—" if p["pages_sleep"] is None else str(p["pages_sleep"]))
    terminal.console().print(table)


@oncall_app.command("handoff")
def handoff_cmd(team: Annotated[str, typer.Option("--team", help="The team handing over.")], at: AtOpt = None,
                db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """A Markdown handoff note for the shift change at --at (default: now).

    Mid-shift, the note is for the coming handoff. Open incidents, alerts during the outgoing shift,
    deployments since the last handoff, action items due."""
    from ..oncall.note import render

    with workspace(db, config) as ws:
        note = ws.oncall_handoff(team, at=at).to_dict()
        tz, zones = ws.config.timezone, oncall.zones(ws.config)
    if as_json:
        print_json(note)
        return
    import sys

    sys.stdout.write(terminal.clean_text(render(note, tz, zones)))
