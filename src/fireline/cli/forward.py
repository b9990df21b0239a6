"""A command on a DuckDB store that `fireline serve` holds is run by that server.

DuckDB lets one process write a file. While a server runs on the store, it leaves its address in
`serve.json` beside the store (server/address.py); a command that would open that store sends its
whole command line there instead (POST /cli, server/remote.py), then prints what the server's run
printed and exits with its code. The server runs it as this CLI would have: on the server's open
store, with the config this CLI found, relative paths read from this folder. The server runs on this
machine, so paths name the same files.

Without a server, or on PostgreSQL (which many processes share), nothing changes.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import UserError
from ..server import address as addresses

if TYPE_CHECKING:
    from ..workspace import Workspace

CONFIG_ENV = "FIRELINE_CONFIG"


_GONE = ("{who} stopped before the command finished ({why}). Nothing is half-written (each ingest is one "
         "transaction): run the command again")


class ServerGone(UserError):
    """The server stopped (or never answered) before the command's result came back."""

    exit_code = 3


def config_file(explicit: Path | None, cwd: Path) -> Path | None:
    """The config file this CLI would read (the order of config.load_config), as this CLI names it: the
    server runs the command in this folder, so a relative name reads the same file (and prints the same)."""
    given = explicit or os.environ.get(CONFIG_ENV)
    if given:
        return Path(given)
    for candidate in (cwd / "fireline.toml", cwd / "pyproject.toml"):
        if candidate.is_file():
            return candidate
    return None


def if_served(ws: Workspace, explicit_config: Path | None, argv: tuple[str, ...]) -> None:
    """Return when no server holds the workspace's store; else run the command line `argv` there and exit."""
    address = addresses.live(ws.url)
    if address is None or not argv:
        return
    cwd = Path.cwd()
    config = config_file(explicit_config, cwd)
    code = send(address, list(argv), cwd, config)
    raise typer.Exit(code)


def send(address: addresses.Address, argv: list[str], cwd: Path, config: Path | None) -> int:
    body = json.dumps({"argv": argv, "cwd": str(cwd), "config": str(config) if config else None}).encode()
    request = urllib.request.Request(f"{address.url}/cli", data=body, method="POST", headers={
        "content-type": "application/json", "authorization": f"Bearer {address.token}"})
    who = f"fireline serve (pid {address.pid}, {address.url})"
    try:
        with urllib.request.urlopen(request, timeout=None) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error") or exc.reason
        except (ValueError, AttributeError):
            reason = exc.reason
        raise UserError(f"{who} refused the command: {reason}", where=str(address.url)) from None
    except urllib.error.URLError as exc:
        if addresses.pid_alive(address.pid):
            raise ServerGone(f"{who} holds this store but does not answer: {exc.reason}") from None
        raise ServerGone(_GONE.format(who=who, why=exc.reason)) from None
    except (HTTPException, OSError, ValueError) as exc:  # the connection dropped mid-answer
        raise ServerGone(_GONE.format(who=who, why=type(exc).__name__)) from None
    sys.stdout.write(answer.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(answer.get("stderr", ""))
    sys.stderr.flush()
    return int(answer.get("exit_code", 1))
