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
    """Base class of every oxvec error.

    Examples
    --------
    >>> import oxvec
    >>> try:
    ...     oxvec.connect("memory://").open_table("nope")
    ... except oxvec.OxvecError as e:
    ...     print(type(e).__name__)
    TableNotFoundError
    """


class TableNotFoundError(OxvecError, KeyError):
    """No table of that name exists (also a ``KeyError``: ``db[name]`` raises it).

    Examples
    --------
    >>> import oxvec
    >>> db = oxvec.connect("memory://")
    >>> try:
    ...     db["missing"]
    ... except KeyError as e:
    ...     print(e)
    Table 'missing' was not found
    """

    def __str__(self) -> str:
        # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class TableExistsError(OxvecError, ValueError):
    """A table of that name already exists.

    Examples
    --------
    >>> import oxvec
    >>> db = oxvec.connect("memory://")
    >>> _ = db.create_table("t", [{"x": 1}])
    >>> try:
    ...     db.create_table("t", [{"x": 2}])
    ... except oxvec.TableExistsError:
    ...     print("exists")
    exists
    """


class SchemaError(OxvecError, ValueError):
    """Data does not match the table schema, or a schema is unusable.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
    >>> try:
    ...     tbl.add([{"y": 2}])
    ... except oxvec.SchemaError:
    ...     print("refused")
    refused
    """


class InvalidInputError(OxvecError, ValueError):
    """A value is invalid: NaN in a vector, wrong dimension, bad table name, ...

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"vector": [1.0, 2.0]}])
    >>> try:
    ...     tbl.add([{"vector": [float("nan"), 0.0]}])
    ... except oxvec.InvalidInputError:
    ...     print("refused, nothing written:", len(tbl))
    refused, nothing written: 1
    """


class FilterError(OxvecError, ValueError):
    """A filter or SQL expression is malformed or does not type-check.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
    >>> try:
    ...     tbl.count_rows("nope > 1")
    ... except oxvec.FilterError as e:
    ...     print("unknown column 'nope'" in str(e))
    True
    """


class CommitConflictError(OxvecError):
    """Another writer committed a conflicting change first.

    ``retryable`` says whether running the same operation again can succeed. Deletes,
    updates and upserts retry by themselves (``max_retries`` in :func:`oxvec.connect`).

    Examples
    --------
    >>> import oxvec
    >>> issubclass(oxvec.CommitConflictError, oxvec.OxvecError)
    True
    """

    retryable: bool = True


class CorruptFileError(OxvecError):
    """A file failed its checksum or could not be decoded. ``path`` names it.

    Examples
    --------
    >>> import oxvec, pathlib, tempfile
    >>> root = tempfile.mkdtemp()
    >>> _ = oxvec.connect(root).create_table("t", [{"x": 1}])
    >>> (f,) = pathlib.Path(root, "t.oxvec", "data").iterdir()
    >>> _ = f.write_bytes(b"damaged" + f.read_bytes()[7:])
    >>> try:
    ...     oxvec.connect(root)["t"].to_arrow()
    ... except oxvec.CorruptFileError as e:
    ...     print("data" in e.path)
    True
    """

    path: str = ""


class StorageError(OxvecError, OSError):
    """The operating system refused a file operation (disk full, permissions, ...).

    Examples
    --------
    >>> import oxvec
    >>> issubclass(oxvec.StorageError, OSError)
    True
    """


class TimedOutError(OxvecError, TimeoutError):
    """An operation given a ``timeout`` did not finish within it; nothing was committed.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": i} for i in range(10)])
    >>> tbl.search().where("x > 5").to_arrow(timeout=60).num_rows
    4
    >>> issubclass(oxvec.TimedOutError, TimeoutError)
    True
    """


class InternalError(OxvecError, RuntimeError):
    """A fault inside oxvec itself, never caused by the caller's input: a bug to report.

    Nothing was committed by the call that raised it.

    Examples
    --------
    >>> import oxvec
    >>> issubclass(oxvec.InternalError, RuntimeError)
    True
    """
