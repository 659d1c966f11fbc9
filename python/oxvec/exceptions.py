"""The oxvec exception hierarchy.

Every error oxvec raises derives from :class:`OxvecError`, and each class also derives from the
builtin a Python programmer would reach for, so ``except KeyError`` or ``except ValueError``
keep working.
"""

from __future__ import annotations

__all__ = [
    "CommitConflictError",
    "CorruptFileError",
    "FilterError",
    "InternalError",
    "InvalidInputError",
    "OxvecError",
    "SchemaError",
    "StorageError",
    "TableExistsError",
    "TableNotFoundError",
    "TimedOutError",
]


class OxvecError(Exception):
    """Base class of every oxvec error."""


class TableNotFoundError(OxvecError, KeyError):
    """No table of that name exists."""

    def __str__(self) -> str:
        # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class TableExistsError(OxvecError, ValueError):
    """A table of that name already exists."""


class SchemaError(OxvecError, ValueError):
    """Data does not match the table schema, or a schema is unusable."""


class InvalidInputError(OxvecError, ValueError):
    """A value is invalid: NaN in a vector, wrong dimension, bad table name, ..."""


class FilterError(OxvecError, ValueError):
    """A filter or SQL expression is malformed or does not type-check."""


class CommitConflictError(OxvecError):
    """Another writer committed a conflicting change first.

    ``retryable`` says whether running the same operation again can succeed.
    """

    retryable: bool = True


class CorruptFileError(OxvecError):
    """A file failed its checksum or could not be decoded. ``path`` names it."""

    path: str = ""


class StorageError(OxvecError, OSError):
    """The operating system refused a file operation (disk full, permissions, ...)."""


class TimedOutError(OxvecError, TimeoutError):
    """An operation given a ``timeout`` did not finish within it; nothing was committed."""


class InternalError(OxvecError, RuntimeError):
    """A fault inside oxvec itself, never caused by the caller's input: a bug to report.

    Nothing was committed by the call that raised it.
    """
