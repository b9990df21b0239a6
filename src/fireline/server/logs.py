"""uvicorn's logging, with secrets kept out of the access log.

The dashboard takes its read token once as `?token=…` (and trades it for a cookie), so the first
request line of every reader holds the token. The access log writes request lines verbatim; the
filter here replaces the value of any `token` parameter (however its name is percent-encoded)
before a handler sees the record.
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import unquote_plus

from uvicorn.config import LOGGING_CONFIG

SECRET_PARAMETERS = frozenset({"token", "access_token", "read_token"})
REDACTED = "[redacted]"


def redact_query(path: str) -> str:
    """`/x?token=abc&team=a` -> `/x?token=[redacted]&team=a`; everything else as it was."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    parts = []
    for part in query.split("&"):
        name, _eq, _value = part.partition("=")
        if unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            part = f"{name}={REDACTED}"
        parts.append(part)
    return base + sep + "&".join(parts)


class RedactTokens(logging.Filter):
    """For uvicorn.access, whose records carry (client, method, path?query, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) and "?" in a else a for a in args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging config with the token filter on the access log (a dict, so that
    worker processes configure the same)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": f"{__name__}.RedactTokens"}
    config["loggers"]["uvicorn.access"].setdefault("filters", []).append("redact_tokens")
    return config
