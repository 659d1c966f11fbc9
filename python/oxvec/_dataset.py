"""pyarrow's Dataset protocol over an oxvec table, so DuckDB scans it with pushdown.

DuckDB reads a pyarrow ``Dataset`` by calling ``scanner(columns=..., filter=...)`` and then
``to_reader()``: the columns a query uses and its filter reach the scan, instead of the whole
table being exported first. A :class:`~oxvec.Table` is such a dataset, so
``duckdb.sql("select a, b from tbl where c > 5")`` reads only columns ``a``, ``b`` and ``c``,
and the rows the filter keeps: the filter is translated into oxvec's SQL where it can be
(see ``_pushdown``) and run by the Rust scan, then applied by pyarrow to what it returns.

pyarrow's own ``Dataset`` methods would read the native dataset this object does not have, so
every one of them is defined here: in terms of the table, or as a clear error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from . import _pushdown
from .exceptions import InvalidInputError

__all__ = ["ArrowDataset", "TableScanner"]

_BATCH = 65536


class TableScanner:
    """A scan of a table's ``columns`` with a pyarrow ``filter``, read when asked.

    Examples
    --------
    >>> import oxvec, tempfile, pyarrow.dataset as ds
    >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table(
    ...     "t", [{"id": i, "x": i * 10} for i in range(5)]
    ... )
    >>> tbl.scanner(columns=["id"], filter=ds.field("x") > 20).to_table().to_pydict()
    {'id': [3, 4]}
    """

    def __init__(
        self, table: Any, columns: Sequence[str] | None, filter: Any, batch_size: int
    ) -> None:
        schema = table.schema
        names = schema.names
        if columns is not None and not isinstance(columns, (list, tuple)):
            raise InvalidInputError(
                f"an oxvec scanner takes a list of column names, got {columns!r:.80}"
            )
        cols = names if columns is None else list(columns)
        unknown = [c for c in cols if c not in names]
        if unknown:
            raise InvalidInputError(f"unknown column '{unknown[0]}'; the table has {names}")
        if filter is not None and not isinstance(filter, ds.Expression):
            raise InvalidInputError(
                f"filter must be a pyarrow.dataset.Expression, got {type(filter).__name__}"
            )
        self._table = table
        self._columns = cols
        self._filter = filter
        self._batch_size = batch_size
        self.projected_schema = pa.schema([schema.field(c) for c in cols])

    def to_reader(self) -> pa.RecordBatchReader:
        """The rows as a stream of record batches, read from the table as consumed."""
        cols, expr = self._columns, self._filter
        if expr is None:
            stream = self._table._inner.scan_stream(
                None, None, cols, None, 0, False, self._batch_size
            )
            return pa.RecordBatchReader.from_stream(stream)
        names = self._table.schema.names
        sql, params, _exact = _pushdown.from_arrow(expr, names)
        need = cols + [c for c in _pushdown.referenced_columns(expr, names) if c not in cols]
        stream = self._table._inner.scan_stream(sql, params, need, None, 0, False, self._batch_size)
        reader = pa.RecordBatchReader.from_stream(stream)
        return pa.RecordBatchReader.from_batches(
            self.projected_schema, _filtered(reader, expr, cols)
        )

    def to_batches(self) -> Iterator[pa.RecordBatch]:
        """The rows as record batches."""
        return iter(self.to_reader())

    def to_table(self) -> pa.Table:
        """The rows as a pyarrow Table."""
        return self.to_reader().read_all()

    def count_rows(self) -> int:
        """How many rows the scan returns."""
        return sum(b.num_rows for b in self.to_reader())

    def head(self, num_rows: int) -> pa.Table:
        """The first ``num_rows`` rows."""
        out, left = [], num_rows
        for b in self.to_reader():
            if left <= 0:
                break
            out.append(b.slice(0, left))
            left -= out[-1].num_rows
        return pa.Table.from_batches(out, self.projected_schema)


def _filtered(
    reader: pa.RecordBatchReader, expr: Any, columns: list[str]
) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        kept = pa.Table.from_batches([batch]).filter(expr).select(columns)
        yield from kept.to_batches()


class ArrowDataset(ds.Dataset):
    """The pyarrow ``Dataset`` methods of a table (a mixin of :class:`~oxvec.Table`)."""

    __slots__ = ()

    def __init__(self) -> None:  # pragma: no cover - tables are made by Table._wrap
        raise TypeError("open a table with db.open_table(name)")

    def scanner(
        self,
        columns: Sequence[str] | None = None,
        filter: Any = None,
        batch_size: int | None = None,
        **_options: Any,
    ) -> TableScanner:
        """A scan of ``columns`` (all by default) keeping the rows where the pyarrow
        ``filter`` expression holds; other pyarrow scan options are accepted and ignored."""
        return TableScanner(self, columns, filter, batch_size or _BATCH)

    def to_table(
        self, columns: Sequence[str] | None = None, filter: Any = None, **_: Any
    ) -> pa.Table:
        """Rows as a pyarrow Table, as pyarrow's ``Dataset.to_table`` (see :meth:`scanner`)."""
        return self.scanner(columns, filter).to_table()

    def take(self, indices: Any, columns: Sequence[str] | None = None, **_: Any) -> pa.Table:
        """Rows by position, as :meth:`~oxvec.Table.take_offsets`."""
        return self.take_offsets(list(indices), columns=columns)  # type: ignore[attr-defined]

    def __reduce__(self) -> Any:
        raise TypeError("an oxvec Table cannot be pickled; pass its database uri and name")


def _unsupported(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"pyarrow's Dataset.{name} is not available on an oxvec Table; read it with "
            f"tbl.to_arrow() or tbl.scanner(...).to_table() first"
        )

    method.__name__ = name
    method.__doc__ = f"Not available: pyarrow's ``Dataset.{name}`` (raises NotImplementedError)."
    return method


for _name in (
    "filter",
    "get_fragments",
    "_get_fragments",
    "join",
    "join_asof",
    "replace_schema",
    "sort_by",
    "_scan_options",
    "_scanner_options",
    "__setstate__",
):
    setattr(ArrowDataset, _name, _unsupported(_name))
ArrowDataset.partition_expression = property(_unsupported("partition_expression"))  # type: ignore[assignment]
