"""The store's one rule for text (docs/security.md).

NUL (PostgreSQL refuses it in text) and lone surrogates (a JSON escape such as "\\ud800",
which UTF-8 cannot carry) become U+FFFD, on every engine, so what the intake accepts is
always storable and both engines store the same text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with NUL and lone surrogates replaced by U+FFFD when it is text; anything else as it is."""
    if value.__class__ is not str:
        return value
    if value.isascii():
        return value.replace("\x00", REPLACEMENT) if "\x00" in value else value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def storable_strings(values: list, arrow_type: pa.DataType) -> pa.Array:
    """One text column as Arrow, cleaned by `storable` (fast path: Arrow's own UTF-8 check)."""
    import pyarrow as pa

    try:
        array = pa.array(values, type=arrow_type)
    except UnicodeEncodeError:
        array = pa.array([storable(v) for v in values], type=arrow_type)
    return without_nul(array)


def without_nul(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    import pyarrow.compute as pc

    if pc.any(pc.match_substring(array, "\x00")).as_py():
        return pc.replace_substring(array, "\x00", REPLACEMENT)
    return array
