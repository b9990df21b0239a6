"""The progress reporter of long CLI steps: where its output goes and when it stays silent."""

from __future__ import annotations

import io

from fireline.cli.progress import reporter


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(steps) -> None:
    for i in range(4):
        steps("blaming files", i, 3)
    steps("report parts", 0, None)


def test_piped_stderr_gets_one_line_when_a_step_starts_and_one_when_it_ends():
    out = io.StringIO()
    with reporter(stream=out) as steps:
        _run(steps)
    lines = out.getvalue().splitlines()
    assert lines[0] == "blaming files (3) ..."
    assert lines[1].startswith("blaming files: done in ")
    assert lines[2] == "report parts ..."
    assert len(lines) == 3


def test_quiet_prints_nothing():
    out = _Terminal()
    with reporter(quiet=True, stream=out) as steps:
        _run(steps)
    assert out.getvalue() == ""


def test_a_terminal_gets_a_bar_named_after_the_step():
    out = _Terminal()
    with reporter(stream=out) as steps:
        _run(steps)
    assert "blaming files" in out.getvalue()
