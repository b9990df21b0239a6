"""A module imported when its first name is read, for the faces' start-up: `fireline --help` must not load Ibis,
pyarrow or DuckDB, and `fireline dora` not the ingestion, alerting or on-call code.

    if TYPE_CHECKING:
        from .app import oncall
    else:
        oncall = lazy("fireline.app.oncall")

The real import under TYPE_CHECKING keeps the dependency visible to type checkers and to the layer contracts
(.importlinter), which a name in a string would hide.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["lazy"]


class _Lazy:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """Stands for the module `name` (absolute) and imports it on the first attribute read."""
    return _Lazy(name)
