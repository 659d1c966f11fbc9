"""``tbl.scan()``: a Polars LazyFrame over a table, read by the Rust scan as Polars asks.

Polars hands the scan the columns a query uses, its filter and a row limit. The columns and
the translatable part of the filter (see ``_pushdown``) go to the Rust scan, which streams
batches of only those columns and rows; Polars' own filter then runs on each batch, so the
answer is Polars' whatever the translation covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _pushdown
from .exceptions import FilterError

if TYPE_CHECKING:
    import polars

__all__ = ["lazy_frame"]

_BATCH = 65536


def lazy_frame(table: Any) -> polars.LazyFrame:
    """A LazyFrame reading ``table`` (its schema as of now) through the Rust scan."""
    import polars as pl
    from polars.io.plugins import register_io_source

    schema = table.schema
    names = schema.names

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        cols = names if with_columns is None else list(with_columns)
        if predicate is None:
            sql, params, exact, used = None, [], True, []
        else:
            sql, params, exact = _pushdown.from_polars(predicate, schema)
            used = predicate.meta.root_names()
        need = cols + [c for c in used if c not in cols]
        limit = n_rows if exact else None
        size = batch_size or _BATCH
        try:
            stream = table._inner.scan_stream(sql, params, need, limit, 0, False, size)
        except FilterError:
            # Polars accepted what oxvec's SQL refuses (a comparison across types): let
            # Polars filter every row.
            stream = table._inner.scan_stream(None, None, need, None, 0, False, size)
        left = n_rows
        for batch in pa.RecordBatchReader.from_stream(stream):
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            if predicate is not None:
                df = df.filter(predicate)
            df = df.select(cols)
            if left is not None:
                df = df.head(left)
                left -= df.height
            yield df
            if left == 0:
                return

    empty = pl.from_arrow(schema.empty_table())
    assert isinstance(empty, pl.DataFrame)
    try:
        return register_io_source(
            source, schema=empty.schema, explain_name="oxvec", explain_detail=table.name
        )
    except TypeError:  # a Polars without plan labels for plugins
        return register_io_source(source, schema=empty.schema)
