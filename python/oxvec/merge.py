"""Upserts: ``tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()``."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _check, _data
from ._timeout import time_limit

if TYPE_CHECKING:
    from ._oxvec import Table as _Table

__all__ = ["MergeInsertBuilder", "MergeResult"]


class MergeResult(NamedTuple):
    """What a merge changed, and the version it committed (the old one if nothing changed).

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table("t", [{"id": 1, "x": 0}])
    >>> tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(
    ...     [{"id": 1, "x": 5}, {"id": 2, "x": 7}]
    ... )
    MergeResult(num_inserted_rows=1, num_updated_rows=1, num_deleted_rows=0, version=2)
    """

    num_inserted_rows: int
    num_updated_rows: int
    num_deleted_rows: int
    version: int


_FIELD_DOC = """{what}

Examples
--------
>>> import oxvec
>>> tbl = oxvec.connect("memory://").create_table("t", [{{"id": 1}}, {{"id": 3}}])
>>> res = (
...     tbl.merge_insert("id")
...     .when_matched_update_all()
...     .when_not_matched_insert_all()
...     .when_not_matched_by_source_delete()
...     .execute([{{"id": 1}}, {{"id": 2}}])
... )
>>> res.{name}
{value}
"""
for _name, _what, _value in (
    ("num_inserted_rows", "Source rows inserted.", 1),
    ("num_updated_rows", "Table rows replaced by their source row.", 1),
    ("num_deleted_rows", "Table rows deleted for having no source row.", 1),
    ("version", "The version committed.", 2),
):
    getattr(MergeResult, _name).__doc__ = _FIELD_DOC.format(what=_what, name=_name, value=_value)


class MergeInsertBuilder:
    """A merge being built; :meth:`execute` runs it as one atomic version.

    Source rows are matched to table rows by the key columns ``on``. Each source key may
    appear once. A null key matches nothing. Memory holds the source batch and its keys; the
    table is streamed.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> tbl = db.create_table("t", [{"id": i, "v": "old", "vector": [float(i)]} for i in range(3)])
    >>> new = [{"id": 2, "v": "new", "vector": [2.0]}, {"id": 3, "v": "new", "vector": [3.0]}]
    >>> (
    ...     tbl.merge_insert("id")
    ...     .when_matched_update_all()
    ...     .when_not_matched_insert_all()
    ...     .execute(new)
    ... )
    MergeResult(num_inserted_rows=1, num_updated_rows=1, num_deleted_rows=0, version=2)
    >>> sorted((r["id"], r["v"]) for r in tbl.to_arrow().select(["id", "v"]).to_pylist())
    [(0, 'old'), (1, 'old'), (2, 'new'), (3, 'new')]
    """

    __slots__ = (
        "_delete",
        "_delete_where",
        "_insert",
        "_on",
        "_prepare",
        "_table",
        "_update",
        "_update_where",
    )

    def __init__(
        self,
        table: _Table,
        on: str | Sequence[str],
        prepare: Callable[[Any], Any] = _data.to_stream,
    ) -> None:
        self._table = table
        self._prepare = prepare
        self._on = _check.names("on", on)
        self._update = False
        self._update_where: str | None = None
        self._insert = False
        self._delete = False
        self._delete_where: str | None = None

    def when_matched_update_all(self, where: str | None = None) -> MergeInsertBuilder:
        """Replace each matched table row with its source row. ``where`` limits this to
        pairs where a SQL condition holds; it may name ``target.<col>`` and ``source.<col>``
        (bare names are the table's), e.g. ``"source.updated_at > target.updated_at"``.

        Rows are replaced whole, so the source must have every column of the table: a source
        with only some columns raises :class:`~oxvec.SchemaError` (to change some
        columns of matching rows, use :meth:`Table.update`).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"id": 1, "v": 1}])
        >>> b = tbl.merge_insert("id").when_matched_update_all(where="source.v > target.v")
        >>> b.execute([{"id": 1, "v": 0}]).num_updated_rows
        0
        >>> tbl.merge_insert("id").when_matched_update_all().execute([{"id": 1, "v": 9}]).version
        2
        """
        self._update = True
        self._update_where = where
        return self

    def when_not_matched_insert_all(self) -> MergeInsertBuilder:
        """Insert source rows whose key is not in the table.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"id": 1}])
        >>> tbl.merge_insert("id").when_not_matched_insert_all().execute(
        ...     [{"id": 1}, {"id": 2}]
        ... ).num_inserted_rows
        1
        """
        self._insert = True
        return self

    def when_not_matched_by_source_delete(self, where: str | None = None) -> MergeInsertBuilder:
        """Delete table rows whose key is not in the source (only those matching ``where``,
        a condition over the table's columns, when given).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"id": i} for i in range(4)])
        >>> b = tbl.merge_insert("id").when_not_matched_by_source_delete(where="id > 1")
        >>> b.execute([{"id": 0}]).num_deleted_rows
        2
        """
        self._delete = True
        self._delete_where = where
        return self

    def execute(
        self,
        data: Any,
        params: Sequence[Any] | None = None,
        *,
        timeout: datetime.timedelta | float | None = None,
    ) -> MergeResult:
        """Runs the merge with ``data`` (anything ``Table.add`` accepts) as the source;
        ``params`` bind ``?`` placeholders in the ``where`` conditions.

        A merge still running after ``timeout`` (a ``timedelta`` or seconds) stops with
        :class:`~oxvec.TimedOutError` and commits nothing. A merge that loses a commit race
        to another writer is planned again on the newer version (``max_retries`` in
        :func:`oxvec.connect`).

        Raises
        ------
        InvalidInputError, SchemaError
            Unknown key column, a key repeated in the source, or source rows that do not
            fit the table (validated like ``add``). Nothing is written when raised.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"id": 1, "x": 0}])
        >>> b = tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
        >>> b.execute([{"id": 1, "x": 1}, {"id": 2, "x": 2}], timeout=60).version
        2
        >>> sorted(tbl.to_arrow().to_pylist(), key=lambda r: r["id"])
        [{'id': 1, 'x': 1}, {'id': 2, 'x': 2}]
        """
        source = self._prepare(data)
        with time_limit(timeout):
            inserted, updated, deleted, version = self._table.merge_insert(
                source,
                self._on,
                self._update,
                self._update_where,
                self._insert,
                self._delete,
                self._delete_where,
                list(params) if params is not None else None,
            )
        return MergeResult(inserted, updated, deleted, version)
