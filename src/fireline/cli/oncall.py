"""`fireline oncall now|next|schedule|gaps|load|handoff`: who is on call, where coverage breaks, handoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table

from ..app.settings import load_config
from ..config import Config
from ..errors import UserError
from ..store import Store
from ..views import terminal
from ..window import parse_instant
from .common import ConfigOpt, DbOpt, JsonOpt, hidden_alias, print_json

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


def _setup(config: Path | None):
    from ..oncall.settings import load

    cfg = load_config(config)
    setup = load(cfg)
    if not setup.rotations:
        raise UserError("no rotations configured: add [rotations.<team>] with at least one layer "
                        "(see docs/oncall.md)", where=cfg.source or "fireline.toml")
    return cfg, setup


def _team(setup, team: str | None) -> None:
    if team is not None and team not in setup.rotations:
        raise UserError(f"no rotation for team {team!r} (rotations: {', '.join(setup.rotations)})", where="--team")


def _instant(value: str, option: str, cfg: Config, *, end: bool = False) -> datetime:
    from ..oncall.schedule import YEARS, in_range

    when = parse_instant(value, option, cfg.timezone, end=end)
    # Narrower than the other commands' years: shifts are computed up to a rotation length past a date.
    if not in_range(when):
        raise UserError(f"out of range: {value!r} (use a time in the years {YEARS[0]}–{YEARS[1]})", where=option)
    return when


def _at(value: str | None, cfg: Config, option: str = "--at") -> datetime:
    return _instant(value, option, cfg) if value else datetime.now(UTC)


def _window(cfg: Config, since: str | None, until: str | None, from_: str | None, to: str | None,
            default_from: timedelta, default_days: int) -> tuple[datetime, datetime]:
    """--since/--until (or the old --from/--to); `default_from` from now and `default_days` long when absent."""
    start, end = _either(since, from_, "--since/--from"), _either(until, to, "--until/--to")
    start_name, end_name = ("--from" if from_ else "--since"), ("--to" if to else "--until")
    now = datetime.now(UTC)
    lo = _instant(start, start_name, cfg) if start else now + default_from
    hi = _instant(end, end_name, cfg, end=True) if end else lo + timedelta(days=default_days)
    if hi <= lo:
        raise UserError(f"the window is empty: {start_name} {lo:%Y-%m-%d %H:%M} is not before {end_name} "
                        f"{hi:%Y-%m-%d %H:%M} (UTC)", where=f"{start_name}/{end_name}")
    return lo, hi


def _tables(db: str | None):
    """The store's tables, or None when there is no store yet (rotations alone still work)."""
    try:
        store = Store.open(db, create=False)
    except UserError:
        return None, None
    return store, store.tables()


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
    from ..metrics.oncall import around
    from ..oncall.schedule import at as shift_at
    from ..oncall.schedule import runs

    cfg, setup = _setup(config)
    _team(setup, team)
    instant = _at(at, cfg)
    scheds = around(setup, instant, team)
    rows: list[dict[str, Any]] = []
    for name, sched in scheds.items():
        run, shift = shift_at(runs(sched.final), instant), shift_at(sched.final, instant)
        layers = [{"layer": s.layer, "person": s.person} for s in sched.layers if s.start <= instant < s.end]
        rows.append({"team": name, "person": shift.person if shift else None, "layer": shift.layer if shift else None,
                     "reason": shift.reason if shift else None, "since": run.start if run else None,
                     "until": run.end if run else None, "zone": setup.zones.get(shift.person) if shift else None,
                     "layers": layers})
    if as_json:
        print_json({"at": instant, "teams": rows})
        return
    table = _table(f"On call at {_fmt(instant, cfg.timezone)}", ["team", "on call", "their time", "layer",
                                                                  "since", "until", "why"])
    for r in rows:
        own = _fmt(instant, r["zone"]) if r["zone"] else "—"
        table.add_row(r["team"], r["person"] or terminal.styled("nobody", "red"), own, r["layer"] or "—",
                      _fmt(r["since"], cfg.timezone), _fmt(r["until"], cfg.timezone), r["reason"] or "—")
    terminal.console().print(table)


@oncall_app.command("next")
def next_(team: TeamOpt = None, at: AtOpt = None,
          count: Annotated[int, typer.Option("--count", min=1, help="How many handoffs per team.")] = 3,
          config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The next handoffs after now (or --at): who takes over when, per team (a gap shows as nobody)."""
    from ..metrics.oncall import next_handoffs

    cfg, setup = _setup(config)
    _team(setup, team)
    instant = _at(at, cfg)
    out: list[dict[str, Any]] = [{"team": name, "handoffs": items}
                                 for name, items in next_handoffs(setup, instant, count, team).items()]
    if as_json:
        print_json({"at": instant, "teams": out})
        return
    table = _table(f"Next handoffs after {_fmt(instant, cfg.timezone)}", ["team", "takes over", "at", "until",
                                                                         "layer"])
    for t in out:
        for h in t["handoffs"]:
            table.add_row(t["team"], h["person"] or terminal.styled("nobody", "red"), _fmt(h["start"], cfg.timezone),
                          _fmt(h["end"], cfg.timezone), h["layer"] or "—")
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
    from ..metrics.oncall import schedules
    from ..oncall.ical import to_ics

    cfg, setup = _setup(config)
    _team(setup, team)
    if person is not None and cfg.people and person not in cfg.people:
        raise UserError(f"unknown person {person!r} (not in [people])", where="--person")
    lo, hi = _window(cfg, since, until, from_, to, timedelta(0), 7)
    shifts = [s for sched in schedules(setup, lo, hi, team).values() for s in (sched.layers if layers else sched.final)]
    if person is not None:
        shifts = [s for s in shifts if s.person == person]
    shifts.sort(key=lambda s: (s.start, s.team, s.layer))
    if ics is not None:
        name = f"On call: {person or team or 'all teams'}"
        emails = {n: p.email for n, p in cfg.people.items() if p.email}
        try:
            ics.write_bytes(to_ics(shifts, name=name, stamp=datetime.now(UTC), emails=emails))
        except OSError as exc:
            raise UserError(f"cannot write: {exc.strerror}", where=str(ics)) from None
    if as_json:
        print_json({"from": lo, "to": hi, "ics": str(ics) if ics else None, "shifts": [s.as_dict() for s in shifts]})
        return
    table = _table(f"On-call schedule {_fmt(lo, cfg.timezone)} → {_fmt(hi, cfg.timezone)}",
                   ["team", "layer", "person", "start", "end", "hours", "their start", "why"])
    for s in shifts:
        own = setup.zones.get(s.person)
        theirs = s.start.astimezone(ZoneInfo(own)).strftime("%a %H:%M %Z") if own else "—"
        table.add_row(s.team, s.layer, s.person, _fmt(s.start, cfg.timezone), _fmt(s.end, cfg.timezone),
                      f"{s.hours:.1f}", theirs, s.reason)
    out = terminal.console()
    out.print(table)
    if ics is not None:
        out.print(f"Wrote {len(shifts)} shifts to {terminal.safe(ics)}.")


@oncall_app.command("gaps")
def gaps_cmd(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None,
             from_: FromOpt = None, to: ToOpt = None,
             fail: Annotated[bool, typer.Option("--fail-on-gaps", help="Exit 1 when anything is found (for CI: "
                                                "check next month's rotation before it starts).")] = False,
             db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Where coverage breaks (default: the next 28 days).

    Nobody on call; weekends and holidays on one person for too long; production deployments nobody of
    their team was on call to verify; every expert of a service away at once."""
    from ..oncall.report import coverage

    cfg, setup = _setup(config)
    _team(setup, team)
    lo, hi = _window(cfg, since, until, from_, to, timedelta(0), 28)
    own = None
    if team is not None:
        own = set(cfg.services_of_team(team)) if team in cfg.team_names else set()
    store, tables = _tables(db)
    try:
        data = coverage(setup, cfg, tables, lo, hi, teams=None if team is None else {team}, services=own)
    finally:
        if store is not None:
            store.close()
    if as_json:
        print_json(data)
    else:
        _render_gaps(data, cfg.timezone, setup.settings.weekend_max_hours)
    if fail and data["found"]:
        raise typer.Exit(1)


def _render_gaps(data: dict, zone: str, limit: float) -> None:
    out = terminal.console()
    out.print(f"[bold]On-call coverage[/] {_fmt(data['from'], zone)} → {_fmt(data['to'], zone)}")
    table = _table(f"Nobody on call ({len(data['gaps'])})", ["team", "from", "to", "hours", "after", "why"])
    for g in data["gaps"]:
        table.add_row(g["team"], _fmt(g["start"], zone), _fmt(g["end"], zone), f"{g['hours']:.1f}", g["after"] or "—",
                      "; ".join(g["why"]) or "no layer covers it")
    out.print(table)
    table = _table(f"Days off on one person for more than {limit:g} h ({len(data['weekend_stretches'])})",
                   ["team", "person", "from", "to", "hours", "days (their calendar)"])
    for s in data["weekend_stretches"]:
        table.add_row(s["team"], s["person"], _fmt(s["start"], zone), _fmt(s["end"], zone), f"{s['hours']:.1f}",
                      ", ".join(s["days"]))
    out.print(table)
    u = data["unverified_deployments"]
    if u.get("unknown"):
        out.print(f"Unverified production deployments: unknown: {terminal.safe(u['unknown'])}")
    else:
        table = _table(f"Production deployments nobody of their team was on call to verify ({len(u['unverified'])} "
                       f"of {u['checked']})", ["time", "day", "service", "team", "id", "type", "why"])
        for d in u["unverified"]:
            table.add_row(_fmt(d["time"], zone), d["weekday"], d["service"], d["team"] or "—", d["id"],
                          d["type"] or "—", d["why"])
        out.print(table)
    e = data["experts_away"]
    if e.get("unknown"):
        out.print(f"Experts away: unknown: {terminal.safe(e['unknown'])}")
    else:
        table = _table(f"Every expert of a service away at once ({len(e['periods'])})",
                       ["service", "experts", "from", "to", "why"])
        for p in e["periods"]:
            table.add_row(p["service"], ", ".join(p["experts"]), _fmt(p["start"], zone), _fmt(p["end"], zone),
                          "; ".join(p["why"]))
        out.print(table)


@oncall_app.command("load")
def load_cmd(team: TeamOpt = None, since: SinceOpt = None, until: UntilOpt = None, from_: FromOpt = None,
             to: ToOpt = None, db: DbOpt = None,
             config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Hours on call per person (default: the last 28 days): fairness at a glance.

    Split into business, off and sleep hours on each person's own clock, and pages when alert history exists."""
    from ..oncall.report import load

    cfg, setup = _setup(config)
    _team(setup, team)
    lo, hi = _window(cfg, since, until, from_, to, timedelta(days=-28), 28)
    store, tables = _tables(db)
    try:
        data = load(setup, tables, lo, hi, cfg.team_of, teams=None if team is None else {team})
    finally:
        if store is not None:
            store.close()
    if as_json:
        print_json(data)
        return
    table = _table(f"On-call load {_fmt(lo, cfg.timezone)} → {_fmt(hi, cfg.timezone)}",
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
    from ..metrics.oncall import handoff
    from ..oncall.note import render

    cfg, setup = _setup(config)
    _team(setup, team)
    instant = _at(at, cfg)
    services = cfg.services_of_team(team) if team in cfg.team_names else []
    store = Store.open(db, create=False)
    try:
        note = handoff(store.tables(), setup, team, services, cfg.production_environments, instant,
                       zone=cfg.timezone)
    finally:
        store.close()
    if as_json:
        print_json(note)
        return
    import sys

    sys.stdout.write(terminal.clean_text(render(note, cfg.timezone, setup.zones)))
