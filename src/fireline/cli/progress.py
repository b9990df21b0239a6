"""Progress of long steps on stderr: a Rich bar per step on a terminal, one plain line per step otherwise.

Never on stdout (so `--json` output stays a single document), and nothing at all with `--quiet`.
Library code reports through a `fireline.steps.Steps` callback; `reporter()` makes one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from ..steps import Steps, quietly

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


@contextmanager
def reporter(quiet: bool = False, stream: TextIO | None = None) -> Iterator[Steps]:
    """Yields the `steps` callback to hand to library code for the length of the `with` block."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        yield quietly
    elif stream.isatty():
        bars = _Bars(stream)
        with bars.progress:
            yield bars.update
    else:
        yield _Lines(stream).update


class _Bars:
    """One transient bar per step label, so nested steps (report parts, then blame inside one) show together."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=stream, highlight=False, emoji=False)
        self.progress: Progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                           TimeElapsedColumn(), console=console, transient=True)
        self.tasks: dict[str, TaskID] = {}

    def update(self, label: str, done: int, total: int | None) -> None:
        task = self.tasks.get(label)
        if task is None:
            task = self.tasks[label] = self.progress.add_task(label, total=total)
        self.progress.update(task, completed=done, total=total)


class _Lines:
    """A piped stderr (CI logs, cron mail) gets one line when a step starts and one when it ends, not a bar
    redrawn hundreds of times."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started: dict[str, float | None] = {}

    def update(self, label: str, done: int, total: int | None) -> None:
        if label not in self.started:
            self.started[label] = time.monotonic()
            of = f" ({total:,})" if total else ""
            print(f"{label}{of} ...", file=self.stream, flush=True)
        began = self.started[label]
        if total is not None and done >= total and began is not None:
            self.started[label] = None  # ended: nothing more is printed for it
            seconds = time.monotonic() - began
            print(f"{label}: done in {seconds:.1f} s", file=self.stream, flush=True)
