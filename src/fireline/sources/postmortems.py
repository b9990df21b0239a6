"""Postmortem files: Markdown with a YAML front matter block, read into records with line numbers.

We compose YAML to nodes instead of `safe_load` so every key and every action item keeps
the line it was written on: a finding must point at it. Problems are returned as data,
never raised, so one broken file cannot hide the findings in the others. Checks that need
context (other files, the config's people, the store's incidents) live in
`fireline.postmortems.lint`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import registry, safe_load
from ..errors import UserError

SUFFIXES = (".md", ".markdown")
SKIPPED_NAMES = {"readme.md", "readme.markdown"}  # a folder's README explains the folder, it is no postmortem

POSTMORTEM_KEYS = ("id", "title", "date", "severity", "services", "incidents", "detected_by", "impact_start",
                   "impact_end", "status", "authors", "tags", "action_items")
REQUIRED_KEYS = ("id", "title", "date")
ACTION_KEYS = ("owner", "what", "due", "term", "dora_metric", "status", "done_on", "ticket")
DORA_METRICS = registry.POSTMORTEM_TARGETS
METRIC_CHOICES = (*DORA_METRICS, "none")
TERMS = ("short", "long")
ACTION_STATUSES = ("open", "done", "dropped")
STATUSES = ("draft", "review", "published")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_FENCE = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(---|\.\.\.)[ \t]*$")


@dataclass(frozen=True)
class Problem:
    check_id: str
    severity: str  # error | warning
    message: str
    line: int
    item: int | None = None  # the action item's position, when the problem is inside one


@dataclass
class ActionItemDoc:
    position: int  # 1-based, in file order
    line: int
    owner: str | None = None
    what: str | None = None
    due: date | None = None
    term: str = "short"
    dora_metric: str | None = None  # None for "none" or absent
    status: str = "open"
    done_on: date | None = None
    ticket: str | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass
class PostmortemDoc:
    path: Path
    id: str | None = None
    title: str | None = None
    date: date | None = None
    severity: str | None = None
    services: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    detected_by: str | None = None
    impact_start: datetime | None = None
    impact_end: datetime | None = None
    status: str | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    action_items: list[ActionItemDoc] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    has_front_matter: bool = False
    parsed: bool = False  # the front matter was a YAML mapping: later checks have something to look at

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; folders searched recursively for *.md (READMEs skipped), in a stable order.

    A file named twice (a folder and a file in it) is read once: twice would be a duplicate id with itself.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                              and f.name.lower() not in SKIPPED_NAMES))
        else:
            out.append(p)
    unique: dict[Path, Path] = {}
    for f in out:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _hint(word: str, choices: tuple[str, ...] | list[str], listed: bool = False) -> str:
    near = closest(word, choices)
    if near:
        return f" (did you mean {near!r}?)"
    return "" if listed else f" (valid: {', '.join(choices)})"


def split_front_matter(text: str) -> tuple[str, int] | None:
    """(YAML text, line number of its first line) when the file opens with a `---` block."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not _FENCE.match(lines[0]):
        return None
    for i, line in enumerate(lines[1:], 1):
        if _END.match(line):
            return "\n".join(lines[1:i]) + "\n", 2
    return None


def load_postmortem(path: Path, tz: str = "UTC") -> PostmortemDoc:
    doc = PostmortemDoc(path=path)
    if not path.exists():
        doc.problems.append(Problem("pm-file-unreadable", "error", "file not found", 1))
        return doc
    try:
        text = safe_load.read_text(path, what="postmortem")  # within the input size limit
    except UserError as exc:
        doc.problems.append(Problem("pm-file-unreadable", "error", f"cannot read file: {safe_load.reason(exc)}", 1))
        return doc
    return parse_postmortem(text, path, tz)


def parse_postmortem(text: str, path: Path, tz: str = "UTC") -> PostmortemDoc:
    doc = PostmortemDoc(path=path)
    split = split_front_matter(text)
    if split is None:
        opened = bool(text.lstrip("\ufeff").splitlines()[:1]) and bool(_FENCE.match(text.lstrip("\ufeff")
                                                                                   .splitlines()[0]))
        why = ("the front matter opened with `---` on line 1 is never closed by a `---` line" if opened else
               "no front matter: a postmortem starts with a `---` line, YAML keys (id, title, date, ...), "
               "and another `---` line")
        doc.problems.append(Problem("pm-front-matter-missing", "error", why, 1))
        return doc
    yaml_text, first_line = split
    doc.has_front_matter = True
    try:
        node = yaml.compose(yaml_text, Loader=safe_load.Loader)  # at most safe_load.MAX_DEPTH levels
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(s for s in (exc.context, exc.problem) if s)
        line = first_line + (mark.line if mark else 0)
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            # An unclosed bracket or quote is found where it ends; point at where it started too.
            reason += f" (the construct started on line {first_line + exc.context_mark.line})"
        what = "YAML" if isinstance(exc, safe_load.YAMLLimitError) else "YAML syntax error"
        doc.problems.append(Problem("pm-yaml-invalid", "error", f"{what} in the front matter: {reason}", line))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem("pm-yaml-invalid", "error", f"YAML error in the front matter: {exc}",
                                    first_line))
        return doc
    if node is None:
        doc.problems.append(Problem("pm-front-matter-missing", "error", "the front matter is empty", 1))
        return doc
    _Reader(doc, first_line - 1, ZoneInfo(tz)).postmortem(node)
    return doc


class _Reader:
    def __init__(self, doc: PostmortemDoc, offset: int, tz: ZoneInfo) -> None:
        self.doc = doc
        self.offset = offset
        self.tz = tz
        self.item: int | None = None
        self._constructor = safe_load.Constructor()

    def line(self, node: Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def problem(self, check_id: str, message: str, node: Node | int, severity: str = "error") -> None:
        line = node if isinstance(node, int) else self.line(node)
        self.doc.problems.append(Problem(check_id, severity, message, line, self.item))

    def source(self, node: Node) -> str:
        """The node as written (a `? [a, b]` key), for a message; its parser object means nothing to a user."""
        buffer = node.start_mark.buffer
        if buffer is None:
            return "a list or mapping"
        return " ".join(buffer[node.start_mark.index:node.end_mark.index].split()) or "a list or mapping"

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]] | None:
        if not isinstance(node, MappingNode):
            self.problem("pm-yaml-invalid", f"{what} must be a mapping of keys to values", node)
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            key = str(k.value) if isinstance(k, ScalarNode) else self.source(k)
            if key in out:
                self.problem("pm-yaml-invalid", f"{what}: key {key!r} is defined twice (first on line "
                             f"{self.line(out[key][0])})", k)
            out[key] = (k, v)
        return out

    def unknown_keys(self, fields: dict[str, tuple[Node, Node]], known: tuple[str, ...], what: str) -> None:
        for key, (k, _) in fields.items():
            if key not in known:
                self.problem("pm-unknown-key", f"{what}: unknown key {key!r}{_hint(key, known)}; it is ignored",
                             k, "warning")

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem("pm-invalid-value", f"{what} must be a single value, not a list or mapping", node)
            return None
        if node.tag.endswith(":null"):
            return None
        try:
            value: Any = self._constructor.construct_object(node)
        except ConstructorError as exc:
            self.problem("pm-invalid-value", f"{what}: {exc.problem}", node)
            return None
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    def text_list(self, node: Node, what: str) -> list[str]:
        if isinstance(node, ScalarNode):  # `services: purger` means a list of one
            value = self.text(node, what)
            return [value] if value else []
        if not isinstance(node, SequenceNode):
            self.problem("pm-invalid-value", f"{what} must be a list", node)
            return []
        return [v for item in node.value if (v := self.text(item, f"{what} item"))]

    def date(self, node: Node, what: str) -> date | None:
        # The raw text, not YAML's own date type: `2026-5-7` must be refused, not read as a string.
        raw = node.value.strip() if isinstance(node, ScalarNode) else None
        if raw is None:
            self.problem("pm-bad-date", f"{what} must be a date like 2026-05-16", node)
            return None
        if raw in ("", "~", "null"):
            return None
        if not _DATE.match(raw):
            self.problem("pm-bad-date", f"{what}: {raw!r} is not a date in the YYYY-MM-DD format (e.g. 2026-05-16)",
                         node)
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            self.problem("pm-bad-date", f"{what}: {raw!r} is not a real date ({exc})", node)
            return None

    def instant(self, node: Node, what: str) -> datetime | None:
        raw = node.value.strip() if isinstance(node, ScalarNode) else None
        if raw is None:
            self.problem("pm-bad-date", f"{what} must be a time like 2026-05-16T01:40:00+01:00, not a list or "
                         "mapping", node)
            return None
        if raw in ("", "~", "null"):
            return None
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is None or (len(raw) == 10 and _DATE.match(raw)):
            self.problem("pm-bad-date", f"{what}: {raw!r} is not an ISO 8601 time (e.g. 2026-05-16T01:40:00+01:00)",
                         node)
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.tz)  # a wall-clock time in the configured zone
            self._clock_change(when, raw, what, node)
        return when.astimezone(UTC)

    def _clock_change(self, when: datetime, raw: str, what: str, node: Node) -> None:
        """Warn when a clock change skips this wall time or repeats it: without an offset it is a guess."""
        first, second = when.replace(fold=0), when.replace(fold=1)
        if first.utcoffset() == second.utcoffset():
            return
        zone = str(self.tz.key)
        if first.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None) != when.replace(tzinfo=None):
            why = (f"{raw!r} does not exist in {zone} (the clocks went forward); it is read as "
                   f"{first.astimezone(UTC).astimezone(self.tz).isoformat(timespec='minutes')}")
        else:
            why = (f"{raw!r} happened twice in {zone} (the clocks went back); it is read as the first, "
                   f"{first.isoformat(timespec='minutes')}")
        self.problem("pm-invalid-value", f"{what}: {why}. Write the UTC offset to say which you mean.", node,
                     "warning")

    def choice(self, node: Node, what: str, choices: tuple[str, ...], check_id: str = "pm-invalid-value"
               ) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        norm = value.lower().replace("-", "_") if check_id == "pm-invalid-metric" else value.lower()
        if norm not in choices:
            hint = _hint(norm, choices, listed=True)
            self.problem(check_id, f"{what}: {value!r} is not one of {', '.join(choices)}{hint}", node)
            return None
        return norm

    def postmortem(self, node: Node) -> None:
        doc = self.doc
        fields = self.mapping(node, "front matter")
        if fields is None:
            return
        doc.parsed = True
        self.unknown_keys(fields, POSTMORTEM_KEYS, "front matter")
        doc.lines = {key: self.line(k) for key, (k, _) in fields.items()}
        for key in REQUIRED_KEYS:
            if key not in fields:
                self.problem("pm-missing-field", f"the front matter has no {key!r}", 1)
        for key, (_, v) in fields.items():
            if key in ("id", "title", "severity", "detected_by"):
                setattr(doc, key, self.text(v, key))
            elif key in ("services", "incidents", "authors", "tags"):
                setattr(doc, key, self.text_list(v, key))
            elif key == "date":
                doc.date = self.date(v, "date")
            elif key in ("impact_start", "impact_end"):
                setattr(doc, key, self.instant(v, key))
            elif key == "status":
                doc.status = self.choice(v, "status", STATUSES)
        for key in REQUIRED_KEYS:
            if key in fields and getattr(doc, key) is None and not any(
                    p.line == doc.lines[key] for p in doc.problems):
                self.problem("pm-missing-field", f"{key!r} is empty", doc.lines[key])
        if doc.impact_start and doc.impact_end and doc.impact_end < doc.impact_start:
            self.problem("pm-invalid-value", "impact_end is before impact_start", doc.lines["impact_end"])
        if "action_items" in fields:
            self.action_items(fields["action_items"][1])

    def action_items(self, node: Node) -> None:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return
        if not isinstance(node, SequenceNode):
            self.problem("pm-invalid-value", "action_items must be a list of items (each starting with `- `)", node)
            return
        for position, item_node in enumerate(node.value, 1):
            self.item = position
            self.action_item(position, item_node)
        self.item = None

    def action_item(self, position: int, node: Node) -> None:
        what_item = f"action item {position}"
        item = ActionItemDoc(position=position, line=self.line(node))
        self.doc.action_items.append(item)
        fields = self.mapping(node, what_item)
        if fields is None:
            return
        self.unknown_keys(fields, ACTION_KEYS, what_item)
        item.lines = {key: self.line(k) for key, (k, _) in fields.items()}
        for key, (_, v) in fields.items():
            if key in ("owner", "what", "ticket"):
                setattr(item, key, self.text(v, f"{what_item}: {key}"))
            elif key in ("due", "done_on"):
                setattr(item, key, self.date(v, f"{what_item}: {key}"))
            elif key == "term":
                item.term = self.choice(v, f"{what_item}: term", TERMS) or item.term
            elif key == "status":
                item.status = self.choice(v, f"{what_item}: status", ACTION_STATUSES) or item.status
            elif key == "dora_metric":
                metric = self.choice(v, f"{what_item}: dora_metric", METRIC_CHOICES, "pm-invalid-metric")
                item.dora_metric = None if metric in (None, "none") else metric
        missing = [label for key, label in (("owner", "WHO (owner)"), ("what", "WHAT (what)"), ("due", "WHEN (due)"))
                   if getattr(item, key) is None and not self._bad(fields, key)]
        if missing:
            self.problem("pm-action-incomplete", f"{what_item} has no {', no '.join(missing)}: every action item "
                         "says who does what by when", item.line)
        if item.status == "done" and item.done_on is None and not self._bad(fields, "done_on"):
            self.problem("pm-done-without-date", f"{what_item} is done but has no done_on date", item.line_of("status"))
        if item.done_on is not None and item.status != "done":
            self.problem("pm-invalid-value", f"{what_item} has done_on {item.done_on} but status {item.status!r} "
                         "(set status: done, or remove done_on)", item.line_of("done_on"), "warning")
        if item.term == "long" and item.dora_metric is None and not self._bad(fields, "dora_metric"):
            self.problem("pm-long-term-no-metric", f"{what_item} is long-term but aims at no DORA metric "
                         f"(dora_metric: one of {', '.join(DORA_METRICS)})", item.line_of("term"), "warning")
        if item.ticket and not _URL.match(item.ticket):
            self.problem("pm-invalid-value", f"{what_item}: ticket {item.ticket!r} is not an http(s) URL",
                         item.line_of("ticket"), "warning")

    def _bad(self, fields: dict[str, tuple[Node, Node]], key: str) -> bool:
        """Whether `key` is present but already reported as malformed (one finding per mistake)."""
        if key not in fields:
            return False
        line = self.line(fields[key][1])
        return any(p.line == line for p in self.doc.problems)
