"""The one checked conversion integer arguments cross before they reach the engine.

pyo3 would raise ``OverflowError`` for a negative or huge integer and ``TypeError`` for
another type; users get an :class:`~oxvec.InvalidInputError` naming the argument instead.
Counts above what the engine holds saturate (``limit(2**64)`` means "all").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import InvalidInputError

#: The largest integer the engine takes (i64::MAX; every count fits far below it).
MAX_INT = 2**63 - 1


def count(name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` of at least ``minimum``, saturated at :data:`MAX_INT`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InvalidInputError(f"{name} must be {kind}, got {value!r}")
    return min(int(value), MAX_INT)


def version(value: Any) -> int:
    """A table version number: a non-negative integer the engine can hold."""
    v = count("version", value, minimum=0)
    if v != value:
        raise InvalidInputError(f"no table has version {value!r}")
    return v
