"""What is due, sending it once, and retrying what failed: `send_due` is what the server runs on its schedule.

Each message has a key per channel (`dora_digest:Data:2026-03-30T07:00:00+00:00`, `unguarded_deploy:dep-0074`),
recorded in the store before it is sent: a restart, or a second server on a PostgreSQL store, never sends
it again. A failed send is kept with its error and tried again after 1, 2, 4 ... minutes (at most an
hour apart) until `max_attempts`, then given up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..lazy import lazy
from . import channels as delivery
from . import cron, digests
from .messages import Message
from .settings import EVENTS, MESSAGES, SCHEDULED, Channel, load

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store
    from ..store import notify as records
    from ..workspace import Workspace
else:
    records = lazy("fireline.store.notify")

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A message left `sending` this long was being sent by a process that stopped: try it again.
STALE = timedelta(minutes=15)

Sender = Callable[[Channel, Message], None]


@dataclass(frozen=True)
class SentMessage:
    """One attempt: `status` is sent, failed (retried at `next_attempt`) or gave_up; `error` with no key: the
    channel's messages could not be worked out (its `error` says why; nothing was recorded)."""

    channel: str
    key: str
    kind: str
    team: str | None
    status: str
    attempts: int
    error: str | None = None
    next_attempt: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    key: str
    kind: str
    team: str | None
    build: Callable[[], Message | None]


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _key(kind: str, *parts: object) -> str:
    return ":".join([kind, *(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)])


def candidates(ws: Workspace, channel: Channel, now: datetime, *, kinds: tuple[str, ...] = MESSAGES,
               teams: list[str | None] | None = None) -> list[Candidate]:
    """Every message `channel` should carry at `now`: the latest firing of each schedule within its lookback,
    and each event (handoff, unguarded deployment, customer-first incident) of the lookback."""
    config = ws.config
    after = now - timedelta(hours=channel.spec.lookback_hours)
    found: list[Candidate] = []
    for team in teams if teams is not None else channel.teams(config):
        zone = channel.zone(config, team)
        for kind in kinds:
            switch = channel.switch(team, kind)
            if switch is False:
                continue
            if kind in SCHEDULED:
                fires = cron.parse(str(switch)).firings(zone, after, now)
                if fires:
                    found.append(_scheduled(ws, kind, team, fires[-1], zone))
            elif team is None:  # no teams configured: events belong to a team's rotation and services
                continue
            elif kind == "handoff":
                if team in config.rotations:
                    for at in digests.handoffs(ws, team, after, now):
                        key = _key(kind, team, at)
                        found.append(Candidate(key, kind, team, _handoff(ws, team, at, zone, key)))
            elif kind in EVENTS:
                events = digests.unguarded_deploys if kind == "unguarded_deploy" else digests.customer_first
                for message in events(ws, team, after, now, zone, _keyer(kind)):
                    found.append(Candidate(message.key, kind, team, _ready(message)))
    return found


def _keyer(kind: str) -> Callable[[object], str]:
    return lambda ident: _key(kind, ident)


def _ready(message: Message) -> Callable[[], Message]:
    return lambda: message


def _scheduled(ws: Workspace, kind: str, team: str | None, at: datetime, zone: str) -> Candidate:
    key = _key(kind, team or "all", at)
    if kind == "dora_digest":
        return Candidate(key, kind, team, lambda: digests.dora_digest(ws, team, at, zone, key))
    return Candidate(key, kind, team, lambda: digests.overdue_actions(ws, team, at, key))


def _handoff(ws: Workspace, team: str, at: datetime, zone: str, key: str, *, exact: bool = True
             ) -> Callable[[], Message | None]:
    return lambda: digests.handoff(ws, team, at, zone, key, exact=exact)


def _json(message: Message) -> str:
    return json.dumps(message.to_dict(), default=str, ensure_ascii=False)


def _attempt(store: Store, channel: Channel, message: Message, attempts: int, now: datetime,
             send: Sender) -> SentMessage:
    try:
        send(channel, message)
    except (delivery.SendError, UserError) as exc:
        error = exc.message if isinstance(exc, UserError) else str(exc)
        gave_up = attempts >= channel.spec.max_attempts
        retry = None if gave_up else now + backoff(attempts)
        status = "gave_up" if gave_up else "failed"
        records.finish(store, channel.name, message.key, status=status, attempts=attempts, at=now,
                       next_attempt=retry, error=error)
        return SentMessage(channel.name, message.key, message.kind, message.team, status, attempts, error, retry)
    records.finish(store, channel.name, message.key, status="sent", attempts=attempts, at=now, next_attempt=None,
                   error=None)
    return SentMessage(channel.name, message.key, message.kind, message.team, "sent", attempts)


def deliver(store: Store, channel: Channel, message: Message, now: datetime, send: Sender = delivery.send
            ) -> SentMessage | None:
    """Record and send a new message; None when the channel already has it (sent, or another process's)."""
    row = {"channel": channel.name, "key": message.key, "kind": message.kind, "team": message.team,
           "status": "sending", "attempts": 0, "first_attempt": now, "last_attempt": now, "message": _json(message)}
    if not records.claim_new(store, row):
        return None
    return _attempt(store, channel, message, 1, now, send)


def retry_due(store: Store, channels: dict[str, Channel], now: datetime, send: Sender = delivery.send
              ) -> list[SentMessage]:
    """Send again what failed and is due (and what a stopped process left half-sent)."""
    out = []
    names = sorted(channels)
    rows = records.due_retries(store, now, names) + records.stale_sending(store, names, now - STALE)
    for row in rows:
        if records.claim_retry(store, row["channel"], row["key"], now, now - STALE):
            message = Message.from_dict(json.loads(row["message"]))
            out.append(_attempt(store, channels[row["channel"]], message, (row["attempts"] or 0) + 1, now, send))
    return out


def send_due(target: Workspace | Store, config: Config | None = None, now: datetime | None = None, *,
             send: Sender = delivery.send) -> list[SentMessage]:
    """Send every message due at `now` (default: the clock) on every `[notify.<name>]` channel, once each, and
    retry failed ones whose back-off has passed. Safe to call as often as wanted: the store remembers.

    `target`: a Workspace, or an open Store with its `config` (the server's; the store stays open)."""
    from ..workspace import Workspace

    if not isinstance(target, Workspace):
        if config is None:
            raise TypeError("send_due(store, config, now): a store needs its config")
        target = Workspace.over(target, config)
    ws = target
    now = (now or datetime.now(UTC)).astimezone(UTC)
    ws.set_now(now)
    channels = load(ws.config)
    if not channels:
        return []
    store = ws.store
    out = retry_due(store, channels, now, send)
    built: dict[str, Message | None] = {}  # channels carrying the same message build it once
    for channel in channels.values():
        try:
            found = candidates(ws, channel, now)
        except UserError as exc:  # one channel's trouble (an unreadable PTO calendar) stops no other channel
            out.append(SentMessage(channel.name, "", "", None, "error", 0, exc.message))
            continue
        done = records.recorded_keys(store, channel.name, [c.key for c in found])
        for candidate in found:
            if candidate.key in done:
                continue
            if candidate.key not in built:
                built[candidate.key] = candidate.build()
            message = built[candidate.key]
            if message is None:  # nothing to say (no overdue item): remembered, so it is not asked again
                records.claim_new(store, {"channel": channel.name, "key": candidate.key, "kind": candidate.kind,
                                          "team": candidate.team, "status": "empty", "attempts": 0,
                                          "first_attempt": now, "last_attempt": now})
                continue
            sent = deliver(store, channel, message, now, send)
            if sent is not None:
                out.append(sent)
    return out


def now_candidates(ws: Workspace, channel: Channel, kind: str, teams: list[str | None], *, forced: bool = False
                   ) -> list[Candidate]:
    """`fireline notify send`: a digest as of `ws.now()`, the handoff note at that instant, or the events of the
    channel's lookback. Teams that turned the message off on this channel are left out unless `forced`."""
    if kind not in MESSAGES:
        raise UserError(f"unknown message {kind!r}; choose one of {', '.join(MESSAGES)}", field="digest")
    now = ws.now()
    teams = [t for t in teams if forced or channel.switch(t, kind) is not False]
    if kind in SCHEDULED:
        return [_scheduled(ws, kind, team, now, channel.zone(ws.config, team)) for team in teams]
    if kind == "handoff":
        return [Candidate(_key(kind, team, now), kind, team,
                          _handoff(ws, team, now, channel.zone(ws.config, team), _key(kind, team, now),
                                   exact=False))
                for team in teams if team is not None and team in ws.config.rotations]
    return candidates(ws, channel, now, kinds=(kind,), teams=teams)
