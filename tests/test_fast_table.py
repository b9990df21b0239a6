"""views.fast_table draws a long table exactly as Rich's Table would: the same characters without a colour
system (a pipe), the same characters in the same styles on a colour terminal, at every width."""

from __future__ import annotations

import io
import random

import pytest
from rich import box
from rich._wrap import divide_line
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from fireline.views.fast_table import Cell, divide_ascii, print_table

WORDS = ["a", "fix", "the", "purger", "export-pipeline", "überlänge", "日本語の文字", "x" * 37, "[bold]not markup[/]",
         "path/to/some/file.py:123", "🔥", "", "   ", "tab\tin", "two  spaces", ":fire:", "\\[escaped]"]


def _cell(rng: random.Random, styled: bool) -> Cell:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 9)))
    if rng.random() < 0.1:
        text = " " + text + "  "
    if not styled or rng.random() < 0.5:
        return text
    cell = Text(text, style=rng.choice(["", "red", "bold"]))
    if rng.random() < 0.5:
        cell.append(" ")
        cell.append("(" + rng.choice(WORDS) + ")", style="dim")
    if rng.random() < 0.1:
        cell.append("\nsecond line")
    if rng.random() < 0.2:
        cell.tab_size = rng.choice([2, 8])
    return cell


def _rows(seed: int, n: int, styled: bool) -> list[tuple[Cell, ...]]:
    rng = random.Random(seed)
    return [tuple(_cell(rng, styled) for _ in range(5)) for _ in range(n)]


def _table(caption: str | None = "as of today · overdue first · --json for all", where_width: int = 30) -> Table:
    table = Table(caption=caption, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                  show_edge=False)
    for name in ("Due", "Late", "What", "Postmortem", "Where"):
        table.add_column(name, overflow="fold", no_wrap=name in ("Due", "Late"),
                         max_width=where_width if name == "Where" else None)
    return table


def _console(width: int, colour: bool) -> Console:
    return Console(file=io.StringIO(), width=width, force_terminal=colour, color_system="truecolor" if colour else None,
                   highlight=False, soft_wrap=True, emoji=False)


def _by_rich(rows: list[tuple[Cell, ...]], console: Console, **kwargs) -> str:
    table = _table(**kwargs)
    for row in rows:
        table.add_row(*(Text(c) if isinstance(c, str) else c for c in row))
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _fast(rows: list[tuple[Cell, ...]], console: Console, **kwargs) -> str:
    print_table(console, _table(**kwargs), rows)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [12, 30, 57, 80, 131, 200])
@pytest.mark.parametrize("styled", [False, True])
def test_same_characters_as_rich_without_colour(width, styled):
    rows = _rows(width, 150, styled)
    assert _fast(rows, _console(width, False)) == _by_rich(rows, _console(width, False))


def test_same_characters_without_a_caption_and_with_a_narrow_last_column():
    rows = _rows(7, 60, True)
    for width in (25, 90):
        kwargs = {"caption": None, "where_width": 3}
        assert _fast(rows, _console(width, False), **kwargs) == _by_rich(rows, _console(width, False), **kwargs)


def _styled_chars(console: Console, renderable) -> list[tuple[str, str]]:
    return [(ch, str(seg.style or Style.null())) for seg in console.render(renderable) if not seg.control
            for ch in seg.text]


@pytest.mark.parametrize("width", [30, 80, 160])
def test_same_characters_in_the_same_styles_on_a_colour_terminal(width):
    from fireline.views.fast_table import _Rows

    rows = _rows(width + 1, 120, True)
    table = _table()
    for row in rows:
        table.add_row(*(Text(c) if isinstance(c, str) else c for c in row))
    console = _console(width, True)
    assert _styled_chars(console, _Rows(_table(), rows)) == _styled_chars(console, table)


def test_a_table_of_another_shape_is_printed_by_rich_itself():
    rows = _rows(3, 20, True)
    table = _table()
    table.box = box.ROUNDED
    console = _console(80, False)
    print_table(console, table, rows)
    assert "│" in console.file.getvalue()  # type: ignore[attr-defined]  # ROUNDED's dividers: drawn by Rich


def test_divide_ascii_breaks_where_rich_does():
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice("ab c  d-e.f/gh   ") for _ in range(rng.randint(0, 70)))
        for width in (1, 2, 3, 7, 16, 40):
            for fold in (True, False):
                assert divide_ascii(text, width, fold) == divide_line(text, width, fold), (text, width, fold)


def test_more_rows_than_one_batch():
    """Unstyled rows go out a few hundred lines to a segment: the lines are still Rich's."""
    rows = _rows(11, 600, False)
    assert _fast(rows, _console(100, False)) == _by_rich(rows, _console(100, False))


def test_a_header_that_wraps_sits_at_the_bottom_like_rich():
    from fireline.views.fast_table import _Rows

    rows: list[tuple[Cell, ...]] = [("2026-01-12", Text("3 d", style="red"), "word " * 12, "PM-1",
                                     "postmortems/a.md:3")] * 3
    for width in (34, 45):
        assert _fast(rows, _console(width, False)) == _by_rich(rows, _console(width, False))
        table = _table()
        for row in rows:
            table.add_row(*(Text(c) if isinstance(c, str) else c for c in row))
        console = _console(width, True)
        assert _styled_chars(console, _Rows(_table(), rows)) == _styled_chars(console, table)


def test_rows_of_text_and_strings_are_drawn_here_not_handed_to_rich():
    """The fallback adds the rows to the table and lets Rich print it: the actions view's cells must not need it."""
    rows: list[tuple[Cell, ...]] = [("2026-01-12", Text("3 d", style="red"),
                                     Text.assemble("Alert on the purger", " ", ("(change failure rate)", "dim")),
                                     "PM-1", "postmortems/a.md:3")] * 5
    table = _table()
    console = _console(80, False)
    print_table(console, table, rows)
    assert table.rows == []
    assert console.file.getvalue() == _by_rich(rows, _console(80, False))  # type: ignore[attr-defined]
