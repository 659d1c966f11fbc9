"""The one checked conversion arguments cross before they reach the engine.

Counts, versions, column names and fractions are checked here, and every call into the
compiled module goes through :func:`native`, so pyo3's own conversion errors
(``OverflowError`` for a huge integer, ``TypeError`` for another type, ``UnicodeError``
for a lone surrogate) reach users as :class:`~oxvec.InvalidInputError` naming the
argument. Counts above what the engine holds saturate (``limit(2**64)`` means "all").
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import numpy as np

from .exceptions import InvalidInputError

T = TypeVar("T")

#: The largest integer the engine takes (i64::MAX; every count fits far below it).
MAX_INT = 2**63 - 1
#: The most results one search returns (``limit`` plus ``offset``), as the engine caps it.
MAX_RESULTS = 1 << 20


def count(name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` of at least ``minimum``, saturated at :data:`MAX_INT`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InvalidInputError(f"{name} must be {kind}, got {value!r}")
    return min(int(value), MAX_INT)


def flag(name: str, value: Any) -> bool:
    """``value`` as a ``bool``; anything else (``1``, ``"no"``, ``None``) is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be True or False, got {value!r:.80}")
    return bool(value)


def version(value: Any) -> int:
    """A table version number: a non-negative integer the engine can hold."""
    v = count("version", value, minimum=0)
    if v != value:
        raise InvalidInputError(f"no table has version {value!r}")
    return v


def names(name: str, value: Any) -> list[str]:
    """One column name or a sequence of them, as a list of ``str``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidInputError(
        f"{name} must be a column name or a list of column names, got {value!r:.80}"
    )


def alias(name: str, value: Any, other_name: str, other: Any) -> Any:
    """The one of two spellings of an argument that was given (LanceDB's name beside ours)."""
    if other is None:
        return value
    if value is not None and value != other:
        raise InvalidInputError(
            f"{name}={value!r:.80} and {other_name}={other!r:.80} name the same thing; pass one"
        )
    return other


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    """``value`` when it is one of ``options``, else an error listing them."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise InvalidInputError(f"{name} must be one of {listed}, got {value!r:.80}")
    return value


def number(name: str, value: Any) -> float:
    """A real number (not a bool) as a ``float``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok:
        raise InvalidInputError(f"{name} must be a number, got {value!r:.80}")
    try:
        return float(value)
    except OverflowError:
        raise InvalidInputError(f"{name} is too large: {value!r:.80}") from None


def fraction(name: str, value: Any) -> float:
    """A number in ``(0, 1]``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not 0.0 < float(value) <= 1.0:
        raise InvalidInputError(f"{name} must be a number in (0, 1], got {value!r:.80}")
    return float(value)


#: Compiled types whose methods take user input (an Arrow stream's do not).
_HANDLES = frozenset({"Database", "Table"})


class _Native:
    """A compiled object whose calls turn argument-conversion errors into InvalidInputError.

    The engine raises only ``OxvecError`` subclasses (every error crosses
    ``crates/oxvec-py/src/error.rs``), so a ``TypeError`` or ``OverflowError`` out of a
    native call is pyo3 refusing an argument (a ``str`` where a ``bool`` goes, an integer
    past 64 bits): the user's mistake, named with the method and the argument.
    """

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        # Only reached on the first use of a name: the wrapper is then stored on the
        # instance, where later lookups find it without a Python-level call.
        attr = getattr(self._obj, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            # A str that cannot be UTF-8 (a lone surrogate from a non-UTF-8 file name) is
            # a UnicodeError, also the caller's.
            except (TypeError, OverflowError, UnicodeError) as e:
                raise InvalidInputError(f"{name}: {e}") from None
            return native(result) if type(result).__name__ in _HANDLES else result

        self.__dict__[name] = call
        return call


def native(obj: T) -> T:
    """``obj`` (a compiled Database or Table) behind :class:`_Native` (once)."""
    return obj if isinstance(obj, _Native) else cast(T, _Native(obj))
