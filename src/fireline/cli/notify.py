"""`fireline notify test|send`: try a channel, or send (or print) one message now."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UserError
from .common import AtOpt, ConfigOpt, DbOpt, JsonOpt, config_of, lazy, print_json, workspace

if TYPE_CHECKING:
    from ..notify import channels, messages, scheduler, settings
    from ..views import terminal
else:  # loaded when a command runs (see common.lazy)
    channels = lazy("fireline.notify.channels")
    messages = lazy("fireline.notify.messages")
    scheduler = lazy("fireline.notify.scheduler")
    settings = lazy("fireline.notify.settings")
    terminal = lazy("fireline.views.terminal")

notify_app = typer.Typer(
    help="Digests and alerts to chat and mail: [notify.NAME] channels in fireline.toml (Slack, Microsoft Teams, a "
    "JSON webhook, e-mail). `fireline serve` sends them on schedule; see docs/notify.md.",
    no_args_is_help=True, rich_markup_mode="markdown")


class Digest(str, Enum):
    dora_digest = "dora_digest"
    overdue_actions = "overdue_actions"
    handoff = "handoff"
    unguarded_deploy = "unguarded_deploy"
    customer_first = "customer_first"


def register(app: typer.Typer, ingest_app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")


def _fail(text: str) -> None:
    terminal.console(stderr=True).print(f"[red]error:[/] {terminal.safe(text)}")


@notify_app.command("test")
def test(channel: Annotated[str, typer.Argument(help="The channel: NAME of [notify.NAME].")],
         config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Send a sample message to a channel. Exit 1 when the receiver refuses it (its status and answer on stderr)."""
    found = settings.channel(config_of(config), channel)
    try:
        channels.send(found, messages.sample())
    except channels.SendError as exc:
        if as_json:
            print_json({"channel": channel, "status": "failed", "error": str(exc), "receiver_status": exc.status})
        _fail(f"{channel}: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print_json({"channel": channel, "status": "sent"})
    else:
        terminal.console().print(f"{terminal.safe(channel)}: sample sent.")


@notify_app.command("send")
def send(
    digest: Annotated[Digest, typer.Argument(help="What to send.")],
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel (default: every channel "
                                                "that carries it).")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team (default: each team of the "
                                             "channel).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be sent; send and record "
                                          "nothing.")] = False,
    at: AtOpt = None, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Send one message now (a digest as of --at, or the events of each channel's lookback) and record it,
    so the server does not send it again. --dry-run prints it instead (--json: the neutral message)."""
    with workspace(db, config, at) as ws:
        found = settings.load(ws.config)
        if channel is not None:
            found = {channel: settings.channel(ws.config, channel)}
        if not found:
            raise UserError("no channel configured: add [notify.<name>] to fireline.toml (see docs/notify.md)",
                            where=ws.config.source or "fireline.toml")
        if team is not None:
            ws.config.services_of_team(team)  # an unknown team is refused
        results, previews = [], []
        for ch in found.values():
            teams: list[str | None] = [team] if team is not None else ch.teams(ws.config)
            for candidate in scheduler.now_candidates(ws, ch, digest.value, teams,
                                                              forced=channel is not None):
                message = candidate.build()
                if message is None:
                    continue
                if dry_run:
                    previews.append((ch, message))
                    continue
                sent = scheduler.deliver(ws.store, ch, message, ws.now())
                results.append(sent or scheduler.SentMessage(ch.name, message.key, message.kind, message.team,
                                                              "already_sent", 0))
    if dry_run:
        if as_json:
            print_json([{"channel": ch.name, "message": m.to_dict()} for ch, m in previews])
        else:
            for ch, m in previews:
                sys.stdout.write(f"--- {ch.name} ({ch.kind}) ---\n{channels.preview(ch, m)}")
            if not previews:
                terminal.console().print("Nothing to send.")
        return
    if as_json:
        print_json([r.to_dict() for r in results])
    else:
        out = terminal.console()
        for r in results:
            out.print(f"{terminal.safe(r.channel)}: {terminal.safe(r.key)}: {r.status}"
                      + (f" ({terminal.safe(r.error)})" if r.error else ""))
        if not results:
            out.print("Nothing to send.")
    failed = [r for r in results if r.status in ("failed", "gave_up")]
    for r in failed:
        _fail(f"{r.channel}: {r.error}")
    if failed:
        raise typer.Exit(1)
