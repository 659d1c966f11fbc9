"""Turning whatever the user hands us into an Arrow stream for the engine.

Objects that speak the Arrow PyCapsule interface (pyarrow, Polars, DuckDB, ...) pass through
untouched, so no copy is made. Everything else (pandas, lists of dicts, Pydantic models,
iterables of record batches) is converted with pyarrow. Vector columns are recognised in Rust.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from .exceptions import InvalidInputError

__all__ = ["to_stream", "to_schema", "one_row"]


def _is_pydantic_model(obj: Any) -> bool:
    return hasattr(obj, "model_dump") and hasattr(type(obj), "model_fields")


#: What pyarrow raises for Python values it cannot convert (an int past 64 bits is an
#: OverflowError, a mixed list a TypeError or ValueError).
_CONVERSION_ERRORS = (pa.ArrowException, OverflowError, TypeError, ValueError)


def _from_rows(rows: list[Any]) -> pa.Table:
    if rows and _is_pydantic_model(rows[0]):
        from .pydantic import plain

        rows = [plain(r.model_dump()) for r in rows]
    if rows and not isinstance(rows[0], Mapping):
        raise InvalidInputError(
            f"expected a list of dicts or Pydantic models, got a list of {type(rows[0]).__name__}"
        )
    # Types are inferred, never forced to the table schema here: a schema would silently drop
    # unknown keys and fill missing ones. The engine converts to the table's types and names
    # the column and row of anything that does not fit.
    try:
        return pa.Table.from_pylist(rows)
    except _CONVERSION_ERRORS as e:
        raise InvalidInputError(f"cannot convert rows to Arrow: {e}") from e


def to_schema(schema: Any) -> pa.Schema | None:
    """A pyarrow schema from a pyarrow schema or a Pydantic model class."""
    if schema is None:
        return None
    if isinstance(schema, pa.Schema):
        _plain_names(schema)
        return schema
    if isinstance(schema, type) and hasattr(schema, "model_fields"):
        from .pydantic import to_arrow_schema

        return to_arrow_schema(schema)
    if hasattr(schema, "__arrow_c_schema__"):
        return pa.schema(schema)
    raise InvalidInputError(
        f"schema must be a pyarrow.Schema or a Pydantic model class, not {schema!r:.80}"
    )


def _plain_names(schema: pa.Schema) -> None:
    """Refuses column names with a NUL character: Arrow's C interface would cut them short
    (``"a\\0b"`` arriving as ``"a"``), silently renaming the column."""
    for name in schema.names:
        if "\0" in name:
            raise InvalidInputError(f"column name {name!r:.80} holds a NUL character")


def to_stream(data: Any) -> Any:
    """Any accepted data as an object with ``__arrow_c_stream__``."""
    stream = _to_stream(data)
    schema = getattr(stream, "schema", None)
    if isinstance(schema, pa.Schema):
        _plain_names(schema)
    return stream


def _to_stream(data: Any) -> Any:
    if isinstance(data, (pa.Table, pa.RecordBatchReader)):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    mod = type(data).__module__
    # Before the generic stream branch: pandas also exposes `__arrow_c_stream__`, which
    # would drop a named index and raise pyarrow's own errors. A named index (`set_index`)
    # becomes a column; an unnamed one (a range, or what a row filter left) does not.
    if mod.startswith("pandas") and hasattr(data, "columns"):
        named = any(n is not None for n in getattr(data.index, "names", [None]))
        try:
            return pa.Table.from_pandas(data, preserve_index=named)
        except _CONVERSION_ERRORS as e:
            raise InvalidInputError(f"cannot convert the DataFrame to Arrow: {e}") from e
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if isinstance(data, dict):
        raise InvalidInputError("pass a list of dicts (one per row), not a single dict")
    if _is_pydantic_model(data):
        return _from_rows([data])
    if isinstance(data, (list, tuple)):
        if data and isinstance(data[0], pa.RecordBatch):
            return pa.Table.from_batches(list(data))
        return _from_rows(list(data))
    if isinstance(data, Iterable):
        it = iter(data)
        first = next(it, None)
        if first is None:
            raise InvalidInputError("the iterable of record batches is empty")
        if not isinstance(first, pa.RecordBatch):
            raise InvalidInputError(
                f"an iterable must yield pyarrow.RecordBatch, got {type(first).__name__}"
            )

        def chained() -> Iterable[pa.RecordBatch]:
            yield first
            yield from it

        return pa.RecordBatchReader.from_batches(first.schema, chained())
    raise InvalidInputError(
        f"unsupported data type {type(data).__name__}: pass a pyarrow Table/RecordBatch/"
        "RecordBatchReader, an Arrow stream, a pandas or Polars DataFrame, a list of dicts or "
        "Pydantic models, or an iterable of record batches"
    )


def one_row(values: Mapping[str, Any]) -> pa.Table:
    """A one-row table of new values for ``update``."""
    if not isinstance(values, Mapping) or not values:
        raise InvalidInputError("values must be a non-empty dict of column -> new value")
    try:
        # Arrow scalars keep their type; pyarrow's row conversion cannot take them.
        cols = {
            k: pa.array([v.as_py()], v.type)
            if isinstance(v, pa.Scalar)
            else pa.Table.from_pylist([{k: v}]).column(0)
            for k, v in values.items()
        }
        return pa.table(cols)
    except _CONVERSION_ERRORS as e:
        raise InvalidInputError(f"cannot convert update values: {e}") from e
