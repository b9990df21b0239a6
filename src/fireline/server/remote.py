"""POST /cli: run a `fireline` command for a CLI on this machine, on the server's open store.

A DuckDB file has one writer process, and while `fireline serve` runs that is the server. The CLI
finds the server's address beside the store (address.py) and sends its command line here
(cli/forward.py): `{"argv": [...], "cwd": "/abs/folder", "config": "/abs/fireline.toml" | null}`.
The answer is `{"stdout": ..., "stderr": ..., "exit_code": n}`: what the command would have printed
and its exit code, so a script sees the same JSON with or without a server.

- Only commands on the allow-list (COMMANDS) run; `serve` and `demo` never do.
- Only from a loopback peer, with the bearer token of serve.json or the ingest token: the paths in a
  command are read on this machine, relative ones from the CLI's folder (`cwd`, where the command
  runs: one command at a time, as the working folder is the process's).
- Commands that write (ingest, rebuild, events retry) hold the intake's and the normaliser's locks
  for their whole run, so they never interleave with a webhook batch or a normalisation round; an
  ingest is one transaction, so a server killed mid-way leaves the store as it was.
- Reads run beside the intake on their own connection (DuckDB reads a consistent snapshot), without
  holding its locks.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .auth import is_loopback

log = logging.getLogger("fireline.server")
MAX_BODY = 1024 * 1024

# The commands a CLI may send (the ones that open a store), and whether they write to it.
READS = {"dora", "explain", "report", "actions", "followup", "debt", "budget", "plan", "testing", "knowledge",
         "alerts report", "alerts suggest", "events failed", "postmortem lint", "postmortem repeats",
         "postmortem new", "oncall now", "oncall next", "oncall schedule", "oncall gaps", "oncall load",
         "oncall handoff"}
WRITES = {"ingest git", "ingest deployments", "ingest incidents", "ingest alerts", "ingest postmortems",
          "ingest flags", "rebuild", "events retry"}
GROUPS = {"ingest", "alerts", "events", "postmortem", "oncall"}
ROOT_OPTIONS = {"--db", "--config"}


def command_of(argv: list[str]) -> str | None:
    """The command an argv names (`ingest git`), past the root options; None when there is none."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ROOT_OPTIONS:
            if not rest:
                return None
            rest.pop(0)
        elif option.split("=", 1)[0] not in ROOT_OPTIONS:
            return None
    if not rest:
        return None
    if rest[0] in GROUPS:
        return f"{rest[0]} {rest[1]}" if len(rest) > 1 else None
    return rest[0]


class _Streams(io.TextIOBase):
    """sys.stdout or sys.stderr: what a thread running a command writes goes to that command's buffer,
    everything else to the real stream."""

    def __init__(self, real: Any, local: threading.local, name: str) -> None:
        self._real, self._local, self._name = real, local, name

    def _buffer(self) -> io.StringIO | None:
        return getattr(self._local, self._name, None)

    def write(self, text: str) -> int:
        buffer = self._buffer()
        return (buffer if buffer is not None else self._real).write(text)

    def flush(self) -> None:
        if self._buffer() is None:
            self._real.flush()

    def isatty(self) -> bool:
        return False if self._buffer() is not None else self._real.isatty()

    def fileno(self) -> int:
        if self._buffer() is not None:
            raise io.UnsupportedOperation("a captured stream has no file descriptor")
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8" if self._buffer() is not None else getattr(self._real, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


_LOCAL = threading.local()
_INSTALL = threading.Lock()


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """A warning a library raises while a command runs goes to the server's log, not into the command's
    output. Deprecation warnings are hidden by default, but `warnings.catch_warnings()` (pandas enters
    it around `np.dtype`) changes the filters of the whole process for a moment, so a command thread
    could show one in another thread's moment and a CLI would print it."""
    stderr = sys.stderr
    if file is None and isinstance(stderr, _Streams) and stderr._buffer() is not None:
        stderr._real.write(warnings.formatwarning(message, category, filename, lineno, line))
        return
    _shown_before(message, category, filename, lineno, file, line)


_shown_before = warnings.showwarning


@contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What this thread prints, in two buffers (other threads keep printing where they did)."""
    with _INSTALL:
        if not isinstance(sys.stdout, _Streams):
            sys.stdout = _Streams(sys.stdout, _LOCAL, "out")
        if not isinstance(sys.stderr, _Streams):
            sys.stderr = _Streams(sys.stderr, _LOCAL, "err")
        if warnings.showwarning is not _show_warning:  # catch_warnings() puts back what it found
            global _shown_before
            _shown_before, warnings.showwarning = warnings.showwarning, _show_warning
    out, err = io.StringIO(), io.StringIO()
    _LOCAL.out, _LOCAL.err = out, err
    try:
        yield out, err
    finally:
        _LOCAL.out = _LOCAL.err = None


# A command reads relative paths from the CLI's folder and prints them as given: it runs in that folder.
# The working folder is the process's, so commands sent by CLIs run one at a time (the server's own
# threads use absolute paths only).
_FOLDER = threading.Lock()


@contextmanager
def _in_folder(cwd: Path) -> Iterator[None]:
    with _FOLDER:
        before = os.getcwd()
        os.chdir(cwd)
        try:
            yield
        finally:
            os.chdir(before)


def run(argv: list[str], store_url: str, cwd: Path, config: Path | None) -> tuple[str, str, int]:
    """Run `fireline argv` in this thread as the CLI would: stdout, stderr and the exit code."""
    from ..cli.common import SERVED, Served

    token = SERVED.set(Served(store_url=store_url, cwd=cwd, config=config))
    try:
        return _run_in(cwd, argv)
    except OSError as exc:  # the folder is gone, or the server's user may not enter it
        return "", f"error: {cwd}: fireline serve cannot work in this folder ({exc.strerror or exc})\n", 2
    finally:
        SERVED.reset(token)


def _run_in(cwd: Path, argv: list[str]) -> tuple[str, str, int]:
    from .. import cli

    code = 0
    with _in_folder(cwd), captured() as (out, err):
        try:
            cli.main_with(argv, prog_name="fireline")
        except SystemExit as exc:
            if isinstance(exc.code, str):
                err.write(exc.code + "\n")
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:
            log.exception("command %s sent by a CLI failed", command_of(argv))
            err.write("error: the command failed inside fireline serve; its log has the details\n")
            code = 1
    return out.getvalue(), err.getvalue(), code


def router(store_url: Callable[[], str], exclusive: Callable[[], AbstractContextManager[Any]],
           tokens: Callable[[], list[str]]) -> APIRouter:
    """`tokens()`: the bearer tokens accepted (serve.json's, the ingest token)."""
    routes = APIRouter()

    @routes.post("/cli", include_in_schema=False)
    async def cli_endpoint(request: Request) -> JSONResponse:
        peer = request.client.host if request.client else ""
        if not peer or not is_loopback(peer):
            return JSONResponse({"error": "commands are taken from this machine only"}, status_code=403)
        auth = request.headers.get("authorization") or ""
        given = auth[7:].strip().encode() if auth.lower().startswith("bearer ") else b""
        if not given or not any(hmac.compare_digest(given, t.encode()) for t in tokens() if t):
            return JSONResponse({"error": "bad or missing bearer token (serve.json's token or the ingest token)"},
                                status_code=401)
        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise ValueError("the request is too large")
            data = json.loads(body)
            argv, cwd, config = data["argv"], Path(data["cwd"]), data.get("config")
            if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)) or not cwd.is_absolute():
                raise ValueError("argv must be a list of strings and cwd an absolute folder")
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
        name = command_of(argv)
        if name not in READS and name not in WRITES:
            return JSONResponse({"error": f"`fireline {name or ' '.join(argv)}` is not run by the server"},
                                status_code=403)
        url = store_url()

        def work() -> tuple[str, str, int]:
            if name in WRITES:
                with exclusive():
                    return run(argv, url, cwd, Path(config) if config else None)
            return run(argv, url, cwd, Path(config) if config else None)

        from starlette.concurrency import run_in_threadpool

        stdout, stderr, code = await run_in_threadpool(work)
        return JSONResponse({"stdout": stdout, "stderr": stderr, "exit_code": code})

    return routes
