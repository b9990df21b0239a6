"""Validation errors as a user reads them: the file, the full key as written, the message."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import UserError


def format_validation(exc: ValidationError, source: str, prefix: str = "", data: Any = None) -> str:
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        if loc[:1] == ("people_options",):  # read from `[people]` (Config._people_settings)
            loc = ("people", *loc[1:])
        key = ".".join([prefix, *_key_path(loc, data)] if prefix else _key_path(loc, data))
        key = key or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{source}: {key}: {msg}")
    return "\n".join(lines)


def _key_path(loc: tuple[Any, ...], data: Any) -> list[str]:
    """The keys the user wrote, from an error location: union members name themselves in it (`str`,
    `MemberSpec`), which are no keys. A part the input has is a key (so a person named `Tom` stays);
    of the others, capitalised ones are taken for type names."""
    parts: list[str] = []
    node = data
    for p in loc:
        name = str(p)
        inside = (isinstance(node, dict) and p in node) or (isinstance(node, list) and isinstance(p, int)
                                                             and 0 <= p < len(node))
        if inside:
            parts.append(name)
            node = node[p]
        elif not (name[:1].isupper() or name in _TYPE_TAGS or "[" in name):
            parts.append(name)  # a key the input lacks (a required one)
            node = None
    return parts


_TYPE_TAGS = {"str", "int", "float", "bool", "date", "datetime", "list", "dict"}

_Section = TypeVar("_Section", bound=BaseModel)


def validate_section(model: type[_Section], data: Any, prefix: str, source: str | None = None) -> _Section:
    """Validate one free-form config section (`[alerts]`, `[postmortems]`, ...) with its own model.

    Errors name the file and the full key, e.g. `fireline.toml: postmortems.folder: unknown key`.
    """
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise UserError(format_validation(exc, source or "fireline.toml", prefix, data)) from None
