"""Turning ``add_columns`` / ``alter_columns`` / ``drop_columns`` arguments into the engine's
column changes, checked (and named) before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from .exceptions import InvalidInputError

__all__ = [
    "add_from_function",
    "added_schema",
    "alteration_steps",
    "computed",
    "dropped",
    "refuse_embedded",
]

_ALTER_KEYS = {"path", "rename", "nullable", "data_type"}


def computed(transforms: Any) -> list[tuple[str, str]] | None:
    """``[(name, sql)]`` when ``transforms`` maps new column names to SQL expressions."""
    if not isinstance(transforms, Mapping):
        return None
    if not transforms:
        raise InvalidInputError("add_columns needs at least one column")
    for name, sql in transforms.items():
        if not isinstance(name, str) or not isinstance(sql, str):
            raise InvalidInputError(
                "add_columns takes {'name': 'sql expression'} with string keys and values, "
                f"got {name!r:.80}: {sql!r:.80}"
            )
        if "\0" in name:
            raise InvalidInputError(f"column name {name!r:.80} holds a NUL character")
    return list(transforms.items())


def _as_table(out: Any) -> pa.Table:
    """A column function's result (a pyarrow Table or RecordBatch, a dict of arrays, a
    pandas DataFrame, anything with ``__arrow_c_stream__``) as a pyarrow Table."""
    if isinstance(out, pa.Table):
        return out
    if isinstance(out, pa.RecordBatch):
        return pa.Table.from_batches([out])
    try:
        return pa.table(out)
    except (TypeError, ValueError, pa.ArrowException) as e:
        raise InvalidInputError(
            "a column function returns a pyarrow Table or RecordBatch, a dict of arrays or a "
            f"DataFrame of the new columns, got {type(out).__name__}: {e}"
        ) from e


def add_from_function(table: Any, fn: Any) -> int:
    """Adds the columns ``fn`` makes from each batch of rows (a ``pyarrow.RecordBatch`` of
    every column, deleted rows included); returns the new version. Their types are those
    ``fn`` gives the table's first row (or an empty batch)."""
    sample = table.head(1)
    made = _as_table(fn(pa.RecordBatch.from_pylist(sample.to_pylist(), sample.schema)))
    if not made.column_names:
        raise InvalidInputError("the column function made no columns")
    schema = pa.schema([pa.field(f.name, f.type, True) for f in made.schema])

    def call(stream: Any) -> pa.Table:
        batch = pa.RecordBatchReader.from_stream(stream).read_all().combine_chunks()
        rows = (
            batch.to_batches()[0]
            if batch.num_rows
            else pa.RecordBatch.from_pylist([], batch.schema)
        )
        out = _as_table(fn(rows))
        return out.select(schema.names).cast(schema)

    return int(table._inner.rewrite_columns([], None, call, schema))


def added_schema(transforms: Any) -> pa.Schema:
    """The all-null columns to add, from a pyarrow field, list of fields or schema."""
    if isinstance(transforms, pa.Field):
        return pa.schema([transforms])
    listed = isinstance(transforms, (list, tuple)) and all(
        isinstance(f, pa.Field) for f in transforms
    )
    if isinstance(transforms, pa.Schema) or listed:
        fields = list(transforms)
    else:
        raise InvalidInputError(
            "add_columns takes {'name': 'sql expression'}, a function of a batch, or a pyarrow "
            f"field, list of fields or schema (new columns, null in existing rows), got "
            f"{transforms!r:.80}"
        )
    if not fields:
        raise InvalidInputError("add_columns needs at least one column")
    for f in fields:
        if "\0" in f.name:
            raise InvalidInputError(f"column name {f.name!r:.80} holds a NUL character")
    return pa.schema(fields)


def alteration_steps(
    alterations: Sequence[Any], schema: pa.Schema
) -> tuple[list[tuple[str, str, str]], pa.Schema | None]:
    """``(kind, column, argument)`` steps from LanceDB-style alteration dicts, and the
    columns whose type changes (a schema of their new types; ``None``: none), which are
    cast first, under their names before any rename."""
    if not alterations:
        raise InvalidInputError("alter_columns needs at least one alteration")
    steps: list[tuple[str, str, str]] = []
    casts: list[pa.Field] = []
    names = list(schema.names)
    for alt in alterations:
        if not isinstance(alt, Mapping) or not isinstance(alt.get("path"), str):
            raise InvalidInputError(
                'each alteration is a dict with a "path" (the column) and "rename", '
                f'"nullable" or "data_type", got {alt!r:.80}'
            )
        unknown = set(alt) - _ALTER_KEYS
        if unknown:
            raise InvalidInputError(
                f"unknown alteration key(s) {sorted(unknown)}; expected {sorted(_ALTER_KEYS)}"
            )
        path = alt["path"]
        if "." in path and path not in names:
            raise InvalidInputError(
                f"column {path!r}: altering a nested field is not supported; name a "
                "top-level column"
            )
        if len(alt) == 1:
            raise InvalidInputError(f"alteration of {path!r} says nothing to change: {alt!r:.80}")
        if "data_type" in alt:
            now = schema.field(path).type if path in names else None
            if not isinstance(alt["data_type"], pa.DataType):
                raise InvalidInputError(
                    f"data_type of {path!r} must be a pyarrow DataType, "
                    f"got {alt['data_type']!r:.80}"
                )
            if path not in schema.names:
                raise InvalidInputError(
                    f"data_type of {path!r}: name the column as it is before any rename in "
                    "the same call (the type changes first)"
                )
            if now is not None and alt["data_type"] != now:
                casts.append(pa.field(path, alt["data_type"]))
        if "nullable" in alt:
            if not isinstance(alt["nullable"], bool):
                raise InvalidInputError(
                    f"nullable of {path!r} must be True or False, got {alt['nullable']!r:.80}"
                )
            steps.append(("nullable", path, "true" if alt["nullable"] else "false"))
        if "rename" in alt:
            if not isinstance(alt["rename"], str):
                raise InvalidInputError(
                    f"rename of {path!r} must be a string, got {alt['rename']!r:.80}"
                )
            steps.append(("rename", path, alt["rename"]))
            names = [alt["rename"] if n == path else n for n in names]
    if casts and steps:
        raise InvalidInputError(
            "change a column's type in an alter_columns call of its own (a type change "
            "rewrites the data files; renames and nullability do not)"
        )
    return steps, (pa.schema(casts) if casts else None)


def dropped(columns: Any) -> list[tuple[str, str, str]]:
    """``drop`` steps for one column name or a list of them."""
    cols = [columns] if isinstance(columns, str) else columns
    if not isinstance(cols, (list, tuple)) or not cols or not all(isinstance(c, str) for c in cols):
        raise InvalidInputError(
            f"drop_columns takes a column name or a non-empty list of them, got {columns!r:.80}"
        )
    return [("drop", c, "") for c in cols]


def refuse_embedded(steps: list[tuple[str, str, str]], specs: list[dict[str, Any]]) -> None:
    """Refuses renaming or dropping a column an embedding function reads or fills."""
    used = {s.get(k) for s in specs for k in ("source_column", "vector_column")}
    for kind, column, _ in steps:
        if kind in ("rename", "drop") and column in used:
            raise InvalidInputError(
                f"column {column!r} is read or filled by the table's embedding function; "
                f"it cannot be {'renamed' if kind == 'rename' else 'dropped'}"
            )
