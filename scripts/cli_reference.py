"""Write docs/cli.md from the commands' own help, so the reference cannot drift from the CLI.

    python scripts/cli_reference.py          # rewrite docs/cli.md
    python scripts/cli_reference.py --check  # exit 1 when docs/cli.md is out of date (the test suite runs it)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import typer

from fireline.cli import app

TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _section(command: click.Command, path: list[str], out: list[str]) -> None:
    if getattr(command, "hidden", False):
        return
    name = " ".join(path)
    out += ["#" * min(len(path), 4) + f" `{name}`", "", _clean(command.help), ""]
    params = [p for p in command.params if not getattr(p, "hidden", False) and p.name != "help"]
    if params:
        out += ["| argument or option | meaning |", "|---|---|"]
        for p in params:
            if p.param_type_name == "argument":
                label = f"`{p.name.upper()}`" + ("" if p.required else " (optional)")
                meaning = _clean(getattr(p, "help", None))
            else:
                label = ", ".join(f"`{o}`" for o in p.opts)
                meaning = _clean(p.help)
            out.append(f"| {label} | {meaning.replace('|', '/')} |")
        out.append("")
    if isinstance(command, click.Group):
        for sub in sorted(command.commands):
            _section(command.commands[sub], [*path, sub], out)


def render() -> str:
    root = typer.main.get_command(app)
    out = ["# Command reference", "",
           "Generated from the commands' own `--help` by `python scripts/cli_reference.py`; the test suite",
           "fails when it is out of date. Exit codes: 0 success, 1 findings, 2 bad input.", ""]
    for name in root.commands:  # the order of `fireline --help`
        _section(root.commands[name], ["fireline", name], out)
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
