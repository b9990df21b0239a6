"""A long Rich table laid out by Rich, its rows drawn without Rich's per-cell machinery.

Rich spends about 1 ms a row on a seven-column table (measuring every cell twice, then padding,
wrapping and cropping each through several renderables): 20,000 postmortem action items took 35 s
to print, against 3 s for their JSON. The layout of a table depends on its rows only through each
column's widest cell and widest word, so Rich lays out a stand-in table holding just those rows
(the same column widths, exactly), and the rows are then drawn here: a cell that fits on one line is
padded, a longer one goes through Rich's own `Text.wrap`. The characters and their styles are the
ones `Console.print(table)` gives (tests/test_fast_table.py compares both on every shape they
handle); tables of other shapes are printed by Rich itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

__all__ = ["Cell", "print_table"]

# A cell: a Text, or a str taken literally (not markup) and unstyled: most cells, and the cheapest to draw.
Cell = Text | str
_TRAILING_SPACE = re.compile(r"\s+$")
_WORD = re.compile(r"\s*\S+\s*")  # a word and the blanks around it, as rich._wrap splits lines


def print_table(out: Console, table: Table, rows: Sequence[Sequence[Cell]]) -> None:
    """Print `table` (columns set, no rows yet) with `rows` as `out.print(table)` would, only faster."""
    if not _supported(table) or not all(len(r) == len(table.columns) and all(_plain_options(c) for c in r)
                                        for r in rows):
        for row in rows:
            table.add_row(*(Text(c) if isinstance(c, str) else c for c in row))
        out.print(table)
        return
    out.print(_Rows(table, rows))


def _plain_options(cell: Cell) -> bool:
    """A cell without its own justify, overflow or wrap (those would override the column's)."""
    return isinstance(cell, str) or (cell.justify is None and cell.overflow is None and cell.no_wrap is None)


def _supported(table: Table) -> bool:
    """The shapes drawn here: a SIMPLE_HEAD table without edges, left-aligned top-aligned columns that wrap or
    fold, collapsed padding of (0, 1), a header, no title, footer, row styles, lines or fixed widths."""
    plain_columns = all(c.justify == "left" and c.vertical == "top" and not c.style and c.width is None
                        and c.min_width is None and c.ratio is None and c.overflow in ("fold", "ellipsis", "crop")
                        and not c.header_style and not c.footer and isinstance(c.header, str | Text)
                        for c in table.columns)
    return (plain_columns and bool(table.columns) and table.box is box.SIMPLE_HEAD and not table.show_edge
            and not table.pad_edge and table.collapse_padding and tuple(table.padding) == (0, 1, 0, 1)
            and table.show_header and not table.show_footer and not table.title and not table.show_lines
            and not table.leading and not table.row_styles and table.style in (None, "", "none")
            and not table.border_style
            and not table.expand and table.width is None and table.min_width is None and not table.rows
            and hasattr(table, "_calculate_column_widths"))


def _measure(cell: Cell) -> tuple[int, int]:
    """Rich's Text measurement: (widest word, widest line)."""
    plain = cell if isinstance(cell, str) else cell.plain
    if plain.isascii() and plain.isprintable():  # one line, one cell a character
        return max(map(len, plain.split()), default=len(plain)), len(plain)
    lines = plain.splitlines()
    widest = max(cell_len(line) for line in lines) if lines else 0
    words = plain.split()
    return (max(cell_len(word) for word in words) if words else widest), widest


def _stand_in(table: Table, rows: Sequence[Sequence[Cell]]) -> Table:
    """A copy of `table` holding, per column, the row with its widest word and the row with its widest cell:
    Rich's column widths depend on nothing else, so this lays out exactly like the whole table."""
    keep: set[int] = set()
    for j in range(len(table.columns)):
        best_min = best_max = (-1, -1)
        for i, row in enumerate(rows):
            low, high = _measure(row[j])
            if low > best_min[0]:
                best_min = (low, i)
            if high > best_max[0]:
                best_max = (high, i)
        keep.update(i for _, i in (best_min, best_max) if i >= 0)
    stand_in = Table(caption=table.caption, header_style=table.header_style, box=table.box, pad_edge=False,
                     collapse_padding=True, show_edge=False, safe_box=table.safe_box)
    for column in table.columns:
        stand_in.add_column(column.header, overflow=column.overflow, no_wrap=column.no_wrap,
                            max_width=column.max_width)
    for i in sorted(keep):
        stand_in.add_row(*(Text(c) if isinstance(c, str) else c for c in rows[i]))
    return stand_in


class _Rows:
    def __init__(self, table: Table, rows: Sequence[Sequence[Cell]]) -> None:
        self.table, self.rows = table, rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table
        columns = table.columns
        last = len(columns) - 1
        extra_width = len(columns) - 1  # one divider between columns, no edges
        widths: list[int] = _stand_in(table, self.rows)._calculate_column_widths(
            console, options.update_width(options.max_width - extra_width))
        table_width = sum(widths) + extra_width
        render_options = options.update(width=table_width, highlight=table.highlight, height=None)
        # Collapsed padding without edges: no left padding, one space on the right except in the last column.
        rights = [0 if j == last else 1 for j in range(len(columns))]
        inner = [w - r for w, r in zip(widths, rights, strict=True)]
        no_wrap = [bool(c.no_wrap) for c in columns]
        overflow = [c.overflow for c in columns]

        header_style = console.get_style(table.header_style or "")
        headers = [console.render_str(c.header, highlight=False) if isinstance(c.header, str) else c.header
                   for c in columns if isinstance(c.header, str | Text)]
        yield from self._row(console, headers, inner, rights, no_wrap, overflow, header_style, bottom=True)
        safe_box = table.safe_box if table.safe_box is not None else console.safe_box
        rule = table.box.substitute(options, safe=safe_box) if table.box else None
        if rule is not None:
            yield Segment(rule.get_row(widths, "head", edge=False))
            yield Segment.line()
        null = Style.null()
        batch: list[str] = []  # unstyled rows, written as one segment a few hundred at a time
        # Without a colour system Rich writes no style at all (Style.render returns the bare text): a styled cell
        # then prints as its plain text, and the row can take the fast path.
        flatten = console.color_system is None
        for row in self.rows:
            text = _plain_row([c.plain if isinstance(c, Text) else c for c in row] if flatten else row, inner,
                              rights, no_wrap, overflow)
            if text is not None:
                batch.append(text)
                if len(batch) < 256:
                    continue
            if batch:
                yield Segment("".join(batch))
                batch = []
            if text is None:
                yield from self._row(console, row, inner, rights, no_wrap, overflow, null)
        if batch:
            yield Segment("".join(batch))
        if table.caption:
            caption = (console.render_str(table.caption, style=Style.pick_first(table.caption_style, "table.caption"),
                                          highlight=False) if isinstance(table.caption, str) else table.caption)
            yield from console.render(caption, options=render_options.update(justify=table.caption_justify))

    @staticmethod
    def _row(console: Console, cells: Iterable[Cell], inner: list[int], rights: list[int], no_wrap: list[bool],
             overflow: Sequence[str | None], base: Style, bottom: bool = False) -> Iterable[Segment]:
        """The lines of one row with styles: each cell's lines padded to its column, short cells filled with
        blank lines (above them in the header, which Rich aligns to the bottom)."""
        rendered: list[list[list[Segment]]] = []
        for j, cell in enumerate(cells):
            width, right = inner[j], " " * rights[j]
            if width < 1:  # Rich renders nothing into no room: the cell is blank lines
                rendered.append([])
                continue
            text = Text(cell) if isinstance(cell, str) else cell
            plain = text.plain
            if "\n" not in plain and "\t" not in plain and cell_len(plain) <= width:
                wrapped = [text]
                fill = width - cell_len(plain)
            else:
                tab_size = console.tab_size if text.tab_size is None else text.tab_size
                wrapped = list(text.wrap(console, width, justify="left", overflow=overflow[j] or "fold",  # type: ignore[arg-type]
                                         no_wrap=no_wrap[j], tab_size=tab_size))
                fill = 0
            # Rich pads a line inside the Text (so in its style), then adds the cell's right padding.
            fill_style = base + console.get_style(text.style) if text.style else base
            lines = []
            for line in wrapped:
                segments = _segments(console, line, base)
                pad = fill if line is text else width - line.cell_len
                if pad:
                    segments.append(Segment(" " * pad, fill_style or None))
                if right:
                    segments.append(Segment(right, base or None))
                lines.append(segments)
            rendered.append(lines)
        height = max(1, *(len(c) for c in rendered))
        for n in range(height):
            out: list[Segment] = []
            for j, column in enumerate(rendered):
                if j:
                    out.append(Segment(" "))
                k = n - (height - len(column)) if bottom else n
                out.extend(column[k] if 0 <= k < len(column)
                           else [Segment(" " * (inner[j] + rights[j]), base or None)])
            yield from _merged(out)
            yield Segment.line()


def _plain_row(cells: Sequence[Cell], inner: list[int], rights: list[int], no_wrap: list[bool],
               overflow: Sequence[str | None]) -> str | None:
    """The lines of a row of unstyled printable ASCII cells (one cell a character: len is the width), else None."""
    columns: list[list[str]] = []
    for j, cell in enumerate(cells):
        if not isinstance(cell, str) or not (cell.isascii() and cell.isprintable()) or inner[j] < 1:
            return None
        width = inner[j]
        if len(cell) <= width:
            columns.append([cell + " " * (width - len(cell) + rights[j])])
        else:
            right = " " * rights[j]
            columns.append([line + right for line in _wrap_ascii(cell, width, overflow[j] or "fold", no_wrap[j])])
    height = max(len(c) for c in columns)
    if height == 1:
        return " ".join(c[0] for c in columns) + "\n"
    blank = [" " * (inner[j] + rights[j]) for j in range(len(columns))]
    return "".join(" ".join(c[n] if n < len(c) else blank[j] for j, c in enumerate(columns)) + "\n"
                   for n in range(height))


def _wrap_ascii(plain: str, width: int, overflow: str, no_wrap: bool) -> list[str]:
    """`Text(plain).wrap(console, width, justify="left", overflow=overflow, no_wrap=no_wrap)` for one line of
    printable ASCII (every character one cell wide), on strings."""
    if no_wrap:
        pieces = [plain]
    else:
        offsets = divide_ascii(plain, width, fold=overflow == "fold")
        bounds = [0, *offsets, len(plain)]
        pieces = [plain[a:b] for a, b in pairwise(bounds)]
    lines = []
    for piece in pieces:
        if not no_wrap and len(piece) > width:  # rstrip_end: drop trailing blanks beyond the width
            blanks = _TRAILING_SPACE.search(piece)
            if blanks is not None:
                piece = piece[:len(piece) - min(len(blanks.group(0)), len(piece) - width)]
        if len(piece) > width:
            piece = piece[:width - 1] + "…" if overflow == "ellipsis" else piece[:width]
        lines.append(piece + " " * (width - len(piece)))
    return lines


def _segments(console: Console, text: Text, base: Style) -> list[Segment]:
    if not text.spans and not text.style:
        return [Segment(text.plain, base or None)] if text.plain else []
    # As Text.__rich_console__ does: joining makes the Text's own style a span under the others (render alone
    # would drop it).
    segments = list((Text("\n").join([text]) if text.style else text).render(console))
    if base:
        segments = list(Segment.apply_style(segments, base))
    return [s for s in segments if s.text]


def _merged(segments: list[Segment]) -> Iterable[Segment]:
    """Neighbours of the same style as one segment: the same characters and styles, far fewer writes."""
    text: list[str] = []
    style = None
    for segment in segments:
        if text and segment.style != style:
            yield Segment("".join(text), style)
            text = []
        style = segment.style
        text.append(segment.text)
    if text:
        yield Segment("".join(text), style)


def divide_ascii(text: str, width: int, fold: bool = True) -> list[int]:
    """`rich._wrap.divide_line` for printable ASCII (len is the width), without its per-word generator and cell
    measurements: where a line of `text` breaks to fit `width`. tests/test_fast_table.py checks both agree."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                chunks = [word[i:i + width] for i in range(0, len(word), width)]
                for chunk in chunks:
                    if start:
                        breaks.append(start)
                    start += len(chunk)
                offset = len(chunks[-1])
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks
