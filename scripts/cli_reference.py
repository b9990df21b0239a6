"""Write docs/cli.md from the commands' own help and docs/schema.md from the store's tables, so
neither reference can drift from the code.

    python scripts/cli_reference.py          # rewrite docs/cli.md and docs/schema.md
    python scripts/cli_reference.py --check  # exit 1 when either is out of date (the test suite runs it)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import typer

from fireline.cli import app
from fireline.store.export import schema_markdown

TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
SCHEMA = TARGET.with_name("schema.md")


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
    outputs = {TARGET: render(), SCHEMA: schema_markdown() + "\n"}
    if "--check" in sys.argv:
        stale = [path for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path} is out of date: run python scripts/cli_reference.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
