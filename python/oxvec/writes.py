"""What ``add``, ``delete`` and ``update`` return: the version they left and the rows changed.

``DeleteResult`` and ``UpdateResult`` are integers (the number of rows) with the version as an
attribute, so code that counts rows (``if tbl.delete(...):``) and code written for LanceDB's
result objects (``tbl.delete(...).version``) both work.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "AddColumnsResult",
    "AddResult",
    "AlterColumnsResult",
    "DeleteResult",
    "DropColumnsResult",
    "UpdateResult",
]


class AddResult(NamedTuple):
    """The version an ``add`` committed (the old one when there were no rows to add).

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
    >>> tbl.add([{"x": 2}])
    AddResult(version=2)
    """

    version: int


class AddColumnsResult(NamedTuple):
    """The version ``add_columns`` committed.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
    >>> tbl.add_columns({"y": "x + 1"})
    AddColumnsResult(version=2)
    """

    version: int


class AlterColumnsResult(NamedTuple):
    """The version ``alter_columns`` committed.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
    >>> tbl.alter_columns({"path": "x", "rename": "y"})
    AlterColumnsResult(version=2)
    """

    version: int


class DropColumnsResult(NamedTuple):
    """The version ``drop_columns`` committed.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1, "y": 2}])
    >>> tbl.drop_columns("y")
    DropColumnsResult(version=2)
    """

    version: int


_VERSION_DOC = """The version committed.

Examples
--------
>>> import oxvec
>>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
>>> tbl.add([{"x": 2}]).version
2
"""
for _result in (AddResult, AddColumnsResult, AlterColumnsResult, DropColumnsResult):
    _result.version.__doc__ = _VERSION_DOC  # type: ignore[attr-defined]


class _RowsAndVersion(int):
    """A row count that also carries the version the write left the table at."""

    version: int

    def __new__(cls, rows: int, version: int) -> _RowsAndVersion:
        self = super().__new__(cls, rows)
        self.version = version
        return self

    def __str__(self) -> str:
        # The count, as before: `f"{n} rows"` and `print(n)` show the number, the REPL the
        # whole result.
        return str(int(self))

    def __reduce__(self) -> tuple[type, tuple[int, int]]:
        return (type(self), (int(self), self.version))


class DeleteResult(_RowsAndVersion):
    """How many rows a ``delete`` removed (the int itself) and the version it committed.

    With no matching row nothing is committed and ``version`` is the version read.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(4)])
    >>> tbl.delete("x < 3")
    DeleteResult(num_deleted_rows=3, version=2)
    >>> tbl.delete("x > 9") == 0
    True
    """

    @property
    def num_deleted_rows(self) -> int:
        """Rows removed (the same as ``int(result)``).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": i} for i in range(4)])
        >>> tbl.delete("x < 2").num_deleted_rows
        2
        """
        return int(self)

    def __repr__(self) -> str:
        return f"DeleteResult(num_deleted_rows={int(self)}, version={self.version})"


class UpdateResult(_RowsAndVersion):
    """How many rows an ``update`` changed (the int itself) and the version it committed.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(4)])
    >>> res = tbl.update("x >= 2", values_sql={"x": "x * 10"})
    >>> res.rows_updated, res.version
    (2, 2)
    """

    @property
    def rows_updated(self) -> int:
        """Rows changed (the same as ``int(result)``).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": i} for i in range(4)])
        >>> tbl.update("x = 1", values={"x": 5}).rows_updated
        1
        """
        return int(self)

    def __repr__(self) -> str:
        return f"UpdateResult(rows_updated={int(self)}, version={self.version})"
