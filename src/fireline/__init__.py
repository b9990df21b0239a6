"""Fireline: DORA baselines and the other 90% of incident work, as a library.

    import fireline

    with fireline.Workspace() as ws:          # the CLI's store and fireline.toml
        summary = ws.dora(team="Data", since="2026-01-01")
        summary.to_dict()                     # what `fireline dora --json` prints
        summary.to_arrow().to_pandas()        # one row per group and metric

See docs/library.md. Names are loaded on first use, so `import fireline` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Workspace": ".workspace",
    "Scope": ".metrics.scope",
    "Summary": ".metrics.summary_types",
    "MetricValue": ".metrics.summary_types",
    "Explained": ".app.dora",
    "IngestResult": ".ingest",
    "FailedEvent": ".failures",
    "RetryOutcome": ".failures",
    "Config": ".config",
    "UserError": ".errors",
    "load_config": ".app.settings",
}

__all__ = ["Config", "Explained", "FailedEvent", "IngestResult", "MetricValue", "RetryOutcome", "Scope", "Summary",
           "UserError", "Workspace", "__version__", "load_config"]
assert set(__all__) == {"__version__", *_EXPORTS}

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    __version__: str
    from .app.dora import Explained
    from .app.settings import load_config
    from .config import Config
    from .errors import UserError
    from .failures import FailedEvent, RetryOutcome
    from .ingest import IngestResult
    from .metrics.scope import Scope
    from .metrics.summary_types import MetricValue, Summary
    from .workspace import Workspace


def _version() -> str:
    # Read on first use: importlib.metadata costs ~30 ms, a tenth of the `fireline --help` budget.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fireline")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
        globals()[name] = value
        return value
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fireline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
