"""Reading input files within limits: a size limit, one nesting depth limit, and errors naming file and line.

Every file a user hands to Fireline (deployments, incidents, alerts and flag files, rule files,
postmortem front matter, fireline.toml, PTO calendars) is read through here, so one malformed or
hostile file gets a clear `UserError` (exit code 2) instead of a traceback, a crash or a machine
out of memory:

- size: at most `max_input_bytes()` bytes (512 MiB, or `$FIRELINE_MAX_INPUT_BYTES`); a stream
  such as /dev/zero is read to the limit plus one byte, never whole;
- nesting: JSON, YAML, TOML and iCalendar nest at most `MAX_DEPTH` levels, checked before or
  while parsing (the parsers recurse, so checking the parsed result would be too late);
- numbers: an integer with more digits than Python converts (4300) names its line;
- text: a lone surrogate (`"\\ud800"` in JSON or YAML) is refused, naming the field.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import tomllib
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from .errors import UserError
from .safe_json import MAX_DEPTH  # one nesting limit for files and webhook bodies: arrays/objects (JSON),

# collections (YAML), arrays/inline tables (TOML), components (iCalendar)
MAX_INPUT_ENV = "FIRELINE_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 512 * 1024 * 1024
MAX_ZONE_NAME = 255  # the longest file name; an IANA zone name is far shorter
_UNITS = {"": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_CHUNK = 1024 * 1024
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# A high surrogate escape not followed by a low one, or a low one not after a high one.
_LONE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                          r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def clip(value: object, limit: int = 80) -> str:
    """repr() of a value for a message, shortened: a 10 MB field must not become a 10 MB error."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(str(value))} characters)"


def max_input_bytes() -> int:
    """The size limit for one input file: $FIRELINE_MAX_INPUT_BYTES (bytes, or e.g. 64MiB), else 512 MiB."""
    raw = os.environ.get(MAX_INPUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_MAX_INPUT_BYTES
    m = _SIZE.match(raw)
    if not m or m.group(2).lower() not in _UNITS or int(m.group(1)) == 0:
        raise UserError(f"not a size: {clip(raw)} (bytes, or a number with KiB, MiB or GiB)", where=MAX_INPUT_ENV)
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def read_bytes(path: str | Path, *, what: str = "file") -> bytes:
    """The file's bytes, refusing more than `max_input_bytes()`; reads at most the limit plus one byte."""
    path = Path(path)
    limit = max_input_bytes()
    too_big = UserError(f"{what} is larger than the input limit of {_size(limit)}; set {MAX_INPUT_ENV} "
                        "to read larger files", where=str(path))
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise UserError(f"is a directory, expected a {what}", where=str(path))
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise too_big  # no need to read it to know
            chunks, total = [], 0
            while total <= limit:
                chunk = handle.read(min(_CHUNK, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except FileNotFoundError:
        raise UserError("no such file", where=str(path)) from None
    except IsADirectoryError:
        raise UserError(f"is a directory, expected a {what}", where=str(path)) from None
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    if total > limit:
        raise too_big
    return b"".join(chunks)


def decode(data: bytes, where: str) -> str:
    """UTF-8 text (a byte order mark is dropped); an invalid byte names its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"not UTF-8 text (byte {exc.start})", where=f"{where}:{line}") from None


def read_text(path: str | Path, *, what: str = "file") -> str:
    return decode(read_bytes(path, what=what), str(path))


def _line_of(text: str, pos: int, first_line: int = 1) -> int:
    return first_line + text.count("\n", 0, pos)


# ---- JSON ---------------------------------------------------------------------------------------

# Strings never span lines in JSON, so an unterminated one stops at the end of its line.
_JSON_TOKENS = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[\[\]{}]')


def _at(where: str, line: int | None) -> str:
    return where if line is None else f"{where}:{line}"


def too_deep_at(text: str, tokens: re.Pattern[str], opens: str = "[{", closes: str = "]}") -> int | None:
    """Where brackets (`opens`/`closes`, matched by `tokens` beside the strings and comments it skips)
    first nest deeper than MAX_DEPTH, or None. Iterative, so any depth is safe to look at."""
    if sum(text.count(c) for c in opens) <= MAX_DEPTH:
        return None  # cannot nest deeper than the number of openings
    depth = 0
    for m in tokens.finditer(text):
        token = m.group()
        if token in opens:
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif token in closes:
            depth = max(depth - 1, 0)
    return None


def _check_depth(text: str, tokens: re.Pattern[str], where: str, first_line: int | None) -> None:
    at = too_deep_at(text, tokens)
    if at is not None:
        line = None if first_line is None else _line_of(text, at, first_line)
        raise UserError(f"nested deeper than {MAX_DEPTH} levels", where=_at(where, line))


_JSON_STRING = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _json_deep(text: str) -> bool:
    """Whether brackets outside strings may nest deeper than MAX_DEPTH: one pass at C speed (strings and
    everything but brackets removed by regex, depth by accumulate). Unmatched closers only lower the
    count, and JSON parsers stop at the first of them anyway."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # cannot nest deeper than the number of openings
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, skeleton)), default=0) > MAX_DEPTH


def check_json_depth(text: str, where: str, first_line: int | None = 1) -> None:
    if _json_deep(text):
        _check_depth(text, _JSON_TOKENS, where, first_line)  # exact, with the line: only for deep text


def json_lines(text: str, where: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of NDJSON, within the limits. Cheap on ordinary
    lines: a line is scanned for depth only when it has more openings than the limit, and for lone
    surrogates only when the file holds a surrogate escape at all."""
    surrogates = bool(_SURROGATE_ESCAPE.search(text))
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.count("[") + line.count("{") > MAX_DEPTH:
            check_json_depth(line, where, lineno)
        yield lineno, _loads(line, where, lineno, surrogates)


def _big_number(text: str, where: str, first_line: int | None) -> UserError | None:
    digits = sys.get_int_max_str_digits()
    m = re.search(rf"\d{{{digits + 1},}}", text) if digits else None
    if m is None:
        return None
    line = None if first_line is None else _line_of(text, m.start(), first_line)
    return UserError(f"a number with more than {digits} digits", where=_at(where, line))


def loads_json(text: str, where: str, first_line: int | None = 1) -> Any:
    """json.loads within the limits. Errors are `where:line`, counting from `first_line` (the line the
    text starts on), or just `where` when first_line is None (text from inside a field)."""
    check_json_depth(text, where, first_line)
    return _loads(text, where, first_line, bool(_SURROGATE_ESCAPE.search(text)))


def _loads(text: str, where: str, first_line: int | None, surrogates: bool) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        at = where if first_line is None else f"{where}:{first_line + exc.lineno - 1}:{exc.colno}"
        raise UserError(f"invalid JSON: {exc.msg}", where=at) from None
    except ValueError:  # int() refusing a number with too many digits
        raise (_big_number(text, where, first_line) or UserError("invalid JSON number", where=where)) from None
    except RecursionError:  # cannot happen below MAX_DEPTH; a last guard
        raise UserError(f"nested deeper than {MAX_DEPTH} levels", where=where) from None
    if surrogates and _SURROGATE_ESCAPE.search(text):
        try:
            check_text(value, "")
        except UserError as exc:
            line = None
            if first_line is not None:
                m = _LONE_ESCAPE.search(text)
                line = _line_of(text, m.start(), first_line) if m else first_line
            raise UserError(str(exc), where=_at(where, line)) from None
    return value


def check_text(value: Any, where: str) -> None:
    """Refuse a lone surrogate in any string of a parsed value (it cannot be encoded, stored or printed)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        field, item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                what = f"field {field!r}: " if field else ""
                raise UserError(f"{what}a lone surrogate (\\u{ord(found.group()):04x}) is not a character",
                                where=where or None)
        elif isinstance(item, dict):
            for key, sub in item.items():
                name = f"{field}.{key}" if field else str(key)
                stack.append((name, key))
                stack.append((name, sub))
        elif isinstance(item, list):
            stack.extend((f"{field}[{i}]", sub) for i, sub in enumerate(item))


def reason(exc: UserError) -> str:
    """A UserError's message without its `where:` prefix."""
    return str(exc).removeprefix(f"{exc.where}: ") if exc.where else str(exc)


# ---- TOML ---------------------------------------------------------------------------------------

_TOML_TOKENS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\n]*\''
                          r'|#[^\n]*|[\[\]{}]')
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def loads_toml(text: str, where: str) -> dict[str, Any]:
    """tomllib.loads within the limits; errors are `where:line`."""
    _check_depth(text, _TOML_TOKENS, where, 1)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))  # the message keeps "(at line 3, column 5)": the column helps
        raise UserError(f"invalid TOML: {exc}", where=f"{where}:{m.group(1)}" if m else where) from None
    except ValueError:  # int() refusing a number with too many digits
        raise (_big_number(text, where, 1) or UserError("invalid TOML number", where=where)) from None
    except RecursionError:
        raise UserError(f"nested deeper than {MAX_DEPTH} levels", where=where) from None


# ---- YAML ---------------------------------------------------------------------------------------

class YAMLLimitError(yaml.MarkedYAMLError):
    """A YAML document beyond the limits; a MarkedYAMLError, so callers report it at its line."""


class Loader(yaml.SafeLoader):
    """SafeLoader that stops composing at MAX_DEPTH nested collections.

    PyYAML's composer recurses once per level, so 100,000 `[` would exhaust the stack: the
    check runs while composing, before the next level is entered.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            if self._depth >= MAX_DEPTH:
                raise YAMLLimitError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                     self.peek_event().start_mark)
            self._depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.ScalarNode) and _SURROGATE.search(node.value):
            raise YAMLLimitError(None, None, "a lone surrogate (e.g. \\ud800) is not a character", node.start_mark)
        return node


class Constructor(SafeConstructor):
    """SafeConstructor whose integers beyond Python's digit limit are a ConstructorError, not a ValueError."""

    def construct_yaml_int(self, node: Any) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise ConstructorError(None, None, f"a number with more than {sys.get_int_max_str_digits()} digits",
                                   node.start_mark) from None


Constructor.add_constructor("tag:yaml.org,2002:int", Constructor.construct_yaml_int)


# ---- iCalendar ----------------------------------------------------------------------------------

_ICAL_COMPONENT = re.compile(rb"^(BEGIN|END):", re.IGNORECASE | re.MULTILINE)


def check_ical_depth(data: bytes, where: str) -> None:
    """Components nest at most MAX_DEPTH levels (icalendar walks them recursively)."""
    if data.upper().count(b"BEGIN:") <= MAX_DEPTH:
        return
    depth = 0
    for m in _ICAL_COMPONENT.finditer(data):
        if m.group(1).upper() == b"BEGIN":
            depth += 1
            if depth > MAX_DEPTH:
                line = data.count(b"\n", 0, m.start()) + 1
                raise UserError(f"components nested deeper than {MAX_DEPTH} levels", where=f"{where}:{line}")
        else:
            depth = max(depth - 1, 0)


# ---- time zones ---------------------------------------------------------------------------------

def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError with a short message for anything else (also a 10 MB name,
    which zoneinfo would try to open as a file)."""
    if not isinstance(name, str) or not name or len(name) > MAX_ZONE_NAME or "\0" in name:
        raise ValueError(f"unknown time zone {clip(name)} (use an IANA name such as Europe/London)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {clip(name)} (use an IANA name such as Europe/London)") from None
