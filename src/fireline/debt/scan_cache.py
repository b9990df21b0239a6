"""Marker scans kept between runs, in the store: `fireline debt` with unchanged HEADs reads no git
history at all, and after new commits only the files they changed are read and blamed again.

One row per (repository, working copy): the latest scan, the settings it was made with and, per file,
the blob id it saw (markers.ScanResult.seen). A scan made with other settings (marker words, size
limit, generated globs) is not reused. Nothing here is a record of the team's: losing the table
costs one cold scan.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from .markers import Marker, ScanResult

# 2: merges follow git blame's whole-file rule and files moved twice keep their authors; scans kept by
# format 1 may name the wrong commit for such lines, so they are not reused (one cold scan).
FORMAT = 2
log = logging.getLogger(__name__)


def settings_key(words: list[str], max_bytes: int, generated: list[str] | None) -> str:
    return json.dumps({"format": FORMAT, "words": list(words), "max_bytes": max_bytes,
                       "generated": list(generated or ())}, sort_keys=True)


def dump(result: ScanResult) -> str:
    def epoch(t: datetime | None) -> float | None:
        return t.timestamp() if t is not None else None

    return json.dumps({
        "repo": result.repo, "path": result.path, "head": result.head, "files": result.files,
        "scanned": result.scanned, "skipped": result.skipped, "generated": sorted(result.generated),
        "tracked": sorted(result.tracked), "blame_passes": result.blame_passes,
        "blame_fallback_files": result.blame_fallback_files, "seen": result.seen,
        "markers": [[m.path, m.line, m.word, m.text, m.sha, m.author, m.email, epoch(m.time)]
                    for m in result.markers],
    }, ensure_ascii=False, separators=(",", ":"))


def load(text: str) -> ScanResult | None:
    """The scan stored as `text`, or None when it cannot be read (then the repository is scanned afresh)."""
    try:
        data: dict[str, Any] = json.loads(text)
        result = ScanResult(repo=data["repo"], path=data["path"], head=data["head"], files=data["files"],
                            scanned=data["scanned"], skipped=dict(data["skipped"]),
                            generated=set(data["generated"]), tracked=set(data["tracked"]),
                            blame_passes=data["blame_passes"], blame_fallback_files=data["blame_fallback_files"],
                            seen={p: (b, k) for p, (b, k) in data["seen"].items()})
        result.markers = [Marker(result.repo, p, line, word, text_, sha, author, email,
                                 datetime.fromtimestamp(t, UTC) if t is not None else None)
                          for p, line, word, text_, sha, author, email, t in data["markers"]]
        return result
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("a stored marker scan could not be read (%s); scanning afresh", exc)
        return None
