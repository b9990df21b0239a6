"""Reading record files (CSV, NDJSON, JSON arrays) with errors that name file and line."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .. import safe_load
from ..errors import UserError


def read_records(path: Path) -> Iterator[tuple[str, dict]]:
    """Yield (where, record) from a CSV file, NDJSON, or a JSON array.

    `where` names the file and line (`deps.csv:4`), or the element of a JSON array
    (`deps.json: element 2`), since a parsed array has no line numbers. The file is read
    within the limits of `fireline.safe_load` (size, nesting, numbers, lone surrogates).
    """
    check_file(path)
    yield from records_from_text(path, safe_load.decode(safe_load.read_bytes(path), str(path)))


def records_from_text(path: Path, text: str) -> Iterator[tuple[str, dict]]:
    stripped = text.lstrip()
    if not stripped:
        raise UserError("file is empty", where=str(path))
    if stripped.startswith("["):
        yield from _json_array(path, text)
    elif stripped.startswith("{"):
        yield from _ndjson(path, text)
    else:
        yield from _csv(path, text)


def check_file(path: Path) -> None:
    if not path.exists():
        raise UserError("no such file", where=str(path))
    if path.is_dir():
        raise UserError("is a directory, expected a CSV, NDJSON or JSON file", where=str(path))


def _json_array(path: Path, text: str) -> Iterator[tuple[str, dict]]:
    data = safe_load.loads_json(text, str(path))
    # JSON arrays lose line numbers; report the element index (1-based) instead.
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise UserError("expected an object", where=f"{path}: element {index}")
        yield f"{path}: element {index}", item


def _ndjson(path: Path, text: str) -> Iterator[tuple[str, dict]]:
    for lineno, item in safe_load.json_lines(text, str(path)):
        if not isinstance(item, dict):
            raise UserError("expected a JSON object on each line", where=f"{path}:{lineno}")
        yield f"{path}:{lineno}", item


def _csv(path: Path, text: str) -> Iterator[tuple[str, dict]]:
    reader = csv.DictReader(text.splitlines())
    try:
        if not reader.fieldnames:
            raise UserError("no header row", where=str(path))
        for row in reader:
            lineno = reader.line_num
            if None in row:
                raise UserError("more fields than the header has", where=f"{path}:{lineno}")
            yield f"{path}:{lineno}", {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
    except csv.Error as exc:
        # The only one splitlines() leaves possible: a field longer than csv.field_size_limit().
        why = (f"a field longer than {csv.field_size_limit()} characters" if "field limit" in str(exc)
               else f"not CSV: {exc}")
        raise UserError(why, where=f"{path}:{reader.line_num + 1}") from None


def stable_id(prefix: str, record: dict) -> str:
    """An id for records that carry none, so ingesting the same file twice adds nothing."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


def parse_time(value: object, *, where: str, field: str, tz: str = "UTC", required: bool = True) -> datetime | None:
    """ISO 8601 time; a time without an offset is read in the configured zone."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise UserError(f"field {field!r} is missing", where=where)
        return None
    if not isinstance(value, str):
        raise UserError(f"field {field!r}: expected an ISO 8601 time, got {safe_load.clip(value)}", where=where)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"field {field!r}: not an ISO 8601 time: {safe_load.clip(value)}", where=where) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    try:
        when.astimezone(UTC)  # stored in UTC: 9999-12-31T23:00-05:00 is year 10000 there
    except OverflowError:
        raise UserError(f"field {field!r}: {safe_load.clip(value)} is out of range in UTC", where=where) from None
    return when


def require(record: dict, field: str, *, where: str) -> str:
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UserError(f"field {field!r} is missing", where=where)
    return str(value).strip()


def optional(record: dict, field: str) -> str | None:
    value = record.get(field)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


_REPO_URL = re.compile(r"/repos/[^/]+/([^/]+)")


def repo_name(record: dict) -> str | None:
    """The repository name in a GitHub API object's `repository_url` or `url`."""
    for key in ("repository_url", "url"):
        match = _REPO_URL.search(str(record.get(key) or ""))
        if match:
            return match.group(1)
    return None
