"""`serve.json`: where a running `fireline serve` can be reached, written beside its DuckDB store.

A DuckDB file has one writer process. While `fireline serve` holds it, the CLI finds this file
next to the store, and sends its command to the server instead of opening the file (cli/forward.py).
The file holds the URL, the pid, the store's absolute path, the start time and a token made for
this run: only who can read the store's folder can read it (mode 0600), as only they could have
opened the store. It is written atomically once the server listens, removed when it stops, and
ignored (and removed) when its pid is gone: a server killed with SIGKILL leaves it behind.

Light on purpose: the CLI imports it on every command that opens a store.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

NAME = "serve.json"


@dataclass(frozen=True)
class Address:
    url: str  # what the CLI calls, e.g. http://127.0.0.1:8080
    pid: int
    store: str  # the store's absolute path
    started: str  # ISO time, UTC
    token: str  # bearer token of this run for /cli (the ingest token works too)

    @classmethod
    def new(cls, url: str, store: str) -> Address:
        return cls(url=url, pid=os.getpid(), store=store, started=datetime.now(UTC).isoformat(timespec="seconds"),
                   token=secrets.token_urlsafe(32))


def duckdb_path(store_url: str) -> Path | None:
    """The absolute path of a DuckDB store URL; None for PostgreSQL and other engines (no address file:
    many processes share those)."""
    scheme = urlparse(store_url).scheme
    if scheme not in ("", "duckdb", "file") and len(scheme) != 1:
        return None
    return Path(store_url.split("://", 1)[1] if "://" in store_url else store_url).expanduser().resolve()


def file_for(store_url: str) -> Path | None:
    """Where the address of a server on this store is kept: `serve.json` in the store's folder."""
    path = duckdb_path(store_url)
    return path.parent / NAME if path is not None else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    # A zombie (killed, not yet reaped by its parent) is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _parse(path: Path) -> Address | None:
    try:
        data = json.loads(path.read_text())
        return Address(url=str(data["url"]), pid=int(data["pid"]), store=str(data["store"]),
                       started=str(data["started"]), token=str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live(store_url: str) -> Address | None:
    """The server running on this DuckDB store, if one is; a stale file (dead pid) is removed."""
    path = file_for(store_url)
    if path is None or not path.exists():
        return None
    address = _parse(path)
    if address is None:
        return None  # unreadable or half-written by hand: not ours to judge; the server rewrites it
    if not pid_alive(address.pid):
        remove(path, address.pid)
        return None
    if Path(address.store) != duckdb_path(store_url):
        return None  # another store in the same folder
    return address


def other_server(store_url: str) -> Address | None:
    """A live server that keeps its address in this store's folder (for this store or another one)."""
    path = file_for(store_url)
    if path is None or not path.exists():
        return None
    address = _parse(path)
    if address is None:
        return None
    if not pid_alive(address.pid):
        remove(path, address.pid)
        return None
    return address if address.pid != os.getpid() else None


def write(path: Path, address: Address) -> None:
    """Atomically: a reader sees the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(address), f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove(path: Path, pid: int) -> None:
    """Remove the file if it still names `pid` (a newer server may have replaced it)."""
    current = _parse(path)
    if current is not None and current.pid != pid:
        return
    path.unlink(missing_ok=True)


def client_url(host: str, port: int) -> str:
    """The URL a CLI on this machine calls: a wildcard address is reached on loopback."""
    name = host.strip().strip("[]")
    if name in ("", "0.0.0.0"):
        name = "127.0.0.1"
    elif name == "::":
        name = "::1"
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def address_fields(path: Path) -> set[str]:
    """The keys a serve.json holds (for checks and docs)."""
    return set(json.loads(path.read_text()))
