"""The demo's optional parts, in the order they run (the report last: it shows the others)."""

from __future__ import annotations

from . import debt, postmortems, report, rotations

PARTS = (postmortems, rotations, debt, report)
