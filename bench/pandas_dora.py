"""The pandas baseline of the metrics benchmark lives with the tests (tests/reference_dora.py),
where it is also checked against the definitions; this keeps `import pandas_dora` working here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reference_dora import summarise

__all__ = ["summarise"]
