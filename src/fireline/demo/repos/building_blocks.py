"""What every repository builder uses: the deploy record, source/test file pairs, the
initial import and the scripted commits the story relies on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..dates import WINDOW_START, wall_clock
from ..ordinary_work import Area
from ..people import Person
from ..workshop import Workshop


@dataclass
class Deploy:
    when: datetime
    zone: str  # the clock the deploy tool writes its timestamps in
    service: str
    repo: str
    mark: int
    environment: str = "production"
    status: str = "success"
    kind: str = ""
    key: str = ""


def file_pairs(template: str, test: str | None, names: str) -> tuple[tuple[str, str | None], ...]:
    """(source, test) paths; tests are named after the source's base name."""
    return tuple((template.format(n), test.format(n.rsplit("/", 1)[-1]) if test else None)
                 for n in names.split())


def initial_import(shop: Workshop, author: Person, areas: list[Area], extra: dict[str, str]) -> None:
    files = {path: shop.new_file(path) for a in areas for pair in a.pairs for path in pair if path}
    files.update(extra)
    when = wall_clock(WINDOW_START.date(), 10, 0, author.tz)
    shop.at(when, lambda: shop.git.commit("main", author, when, "Initial import\n", files))


def scripted(shop: Workshop, key: str, who: Person, when: datetime, msg: str,
              paths: list[str], extra: dict[str, list[str] | tuple[str, str]] | None = None
              ) -> None:
    """A commit the story needs: ``paths`` get random edits; ``extra`` appends lines to a
    file (a list) or replaces text in it (an (old, new) pair)."""
    def act() -> None:
        changes: dict[str, str | None] = dict(shop.edited("main", paths))
        for path, edit in (extra or {}).items():
            old = shop.git.files["main"].get(path) or shop.new_file(path, 2)
            if isinstance(edit, tuple):
                if edit[0] not in old:  # the story relies on this exact code being there
                    raise RuntimeError(f"{path} lost the lines {key} rewrites")
                changes[path] = old.replace(*edit)
            else:
                changes[path] = old + "\n".join(edit) + "\n"
        shop.marks[key] = shop.git.commit("main", who, when, msg, changes)
    shop.at(when, act)
