"""Turning ``add_columns`` / ``alter_columns`` / ``drop_columns`` arguments into the engine's
column changes, checked (and named) before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from .exceptions import InvalidInputError

__all__ = ["added_schema", "alteration_steps", "dropped", "refuse_embedded"]

_ALTER_KEYS = {"path", "rename", "nullable", "data_type"}


def added_schema(transforms: Any) -> pa.Schema:
    """The all-null columns to add, from a pyarrow field, list of fields or schema."""
    if isinstance(transforms, pa.Field):
        return pa.schema([transforms])
    listed = isinstance(transforms, (list, tuple)) and all(
        isinstance(f, pa.Field) for f in transforms
    )
    if isinstance(transforms, pa.Schema) or listed:
        fields = list(transforms)
    elif isinstance(transforms, Mapping) or callable(transforms):
        raise InvalidInputError(
            "columns computed from SQL expressions or a function are not supported yet "
            "(they rewrite every data file); add the column all-null with a pyarrow field, "
            "then fill it with update(values_sql={...})"
        )
    else:
        raise InvalidInputError(
            "add_columns takes a pyarrow field, a list of fields or a schema (new columns, "
            f"null in existing rows), got {transforms!r:.80}"
        )
    if not fields:
        raise InvalidInputError("add_columns needs at least one column")
    for f in fields:
        if "\0" in f.name:
            raise InvalidInputError(f"column name {f.name!r:.80} holds a NUL character")
    return pa.schema(fields)


def alteration_steps(alterations: Sequence[Any], schema: pa.Schema) -> list[tuple[str, str, str]]:
    """``(kind, column, argument)`` steps from LanceDB-style alteration dicts."""
    if not alterations:
        raise InvalidInputError("alter_columns needs at least one alteration")
    steps: list[tuple[str, str, str]] = []
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
            if now is not None and alt["data_type"] != now:
                raise InvalidInputError(
                    f"changing the type of column {path!r} ({now} to {alt['data_type']}) is not "
                    "supported yet: it rewrites every data file"
                )
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
    return steps


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
