"""JSON from outside, parsed with limits: UTF-8 only, nesting at most MAX_DEPTH deep, numbers finite
and of a sane length. Every refusal is a `JSONRefused` (a ValueError) whose message says what is
wrong and where, so an intake answers 400 and a file reader names the file.

The standard parser alone turns hostile input into crashes far from the cause: nesting a few
thousand deep raises RecursionError (in the parser, or later in whatever walks the result), an
integer literal over 4,300 digits raises a bare ValueError, and `NaN`, `Infinity` or `1e999` are
accepted although they are not JSON and cannot be written back as JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

MAX_DEPTH = 64  # webhook payloads from GitHub, GitLab, Alertmanager and PagerDuty stay under 12
MAX_NUMBER_CHARS = 100  # an id or a count fits in 20; the standard parser refuses ints over 4,300 digits


class JSONRefused(ValueError):
    """The text is not JSON Fireline will read; the message says why and where."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        self.reason = message
        super().__init__(f"{where}: {message}" if where else message)


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_CHARS:
        raise JSONRefused(f"a number of {len(text.lstrip('-'))} digits (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONRefused(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"the number {text} is out of range")
    return value


def _constant(name: str) -> Any:
    raise JSONRefused(f"{name} is not a JSON number")


def depth(value: Any) -> int:
    """How deep containers nest in a parsed value (a scalar is 0, `[]` is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def decode(data: bytes | str, *, where: str | None = None) -> str:
    """The text of a JSON document: UTF-8 (RFC 8259), with no byte-order mark."""
    if isinstance(data, str):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONRefused(f"not UTF-8 text (byte {exc.start})", where=where) from None
    if text.startswith("\ufeff"):
        raise JSONRefused("starts with a byte-order mark; send UTF-8 without one", where=where)
    return text


def loads(data: bytes | str, *, where: str | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from outside; raise JSONRefused (naming `where`) when it breaks a limit or is not JSON."""
    text = decode(data, where=where)
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except JSONRefused as exc:
        raise JSONRefused(exc.reason, where=where) from None
    except RecursionError:  # the C parser stops at the interpreter's recursion limit
        raise JSONRefused(f"nested more than {max_depth} deep", where=where) from None
    except ValueError as exc:
        raise JSONRefused(f"malformed JSON: {exc}", where=where) from None
    # What parsed under the recursion limit can still be too deep for the code that walks it.
    if depth(value) > max_depth:
        raise JSONRefused(f"nested more than {max_depth} deep", where=where)
    return value
