"""The demo's optional parts, in the order they run (the report last: it shows the others)."""

from __future__ import annotations

from . import debt, postmortems, pull_requests, report, rotations

PARTS = (postmortems, rotations, debt, pull_requests, report)
