"""``select()`` with computed columns: ``{"alias": "sql expression"}``.

The engine reads the table columns the expressions name; the outputs are then computed in
Rust on each result batch, in the filter language (one parser, one evaluator), where the
search's own columns (``_distance``, ``_score``, ``_rowid``) can be named too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

import pyarrow as pa

from . import _check
from ._oxvec import project_stream, projection_columns
from .exceptions import InvalidInputError

__all__ = ["Selection", "selection"]

#: Columns a search adds to its results; selectable by name, kept after computed outputs.
ENGINE_COLUMNS = ("_distance", "_score", "_relevance_score", "_rowid", "query_index")
_ENGINE_FIELDS = (
    pa.field("_distance", pa.float32()),
    pa.field("_score", pa.float32()),
    pa.field("_relevance_score", pa.float32()),
    pa.field("_rowid", pa.uint64()),
    pa.field("query_index", pa.uint32()),
)

Outputs = list[tuple[str, Optional[str]]]


class Selection:
    """What ``select()`` asked: plain table columns, or outputs to compute."""

    __slots__ = ("names", "outputs")

    def __init__(self, names: list[str], outputs: Outputs | None) -> None:
        self.names = names
        self.outputs = outputs

    def __repr__(self) -> str:
        if self.outputs is None:
            return repr(self.names)
        return repr({name: sql or name for name, sql in self.outputs})

    def reads(self, schema: pa.Schema, added: Sequence[str]) -> list[str]:
        """Every column the outputs read: the table's (checked against ``schema``) and the
        ones the search adds (``added``)."""
        if self.outputs is None:
            return self.names
        fields = [f for f in _ENGINE_FIELDS if f.name in added and f.name not in schema.names]
        full = pa.schema([*schema, *fields])
        return projection_columns(self.outputs, full)

    def engine_columns(self, schema: pa.Schema, added: Sequence[str]) -> list[str]:
        """The table columns the engine reads for it."""
        return [c for c in self.reads(schema, added) if c not in ENGINE_COLUMNS]

    def apply(self, result: Any, row_id: bool = True) -> Any:
        """``result`` (an engine result or stream) with the outputs computed, then the
        search's own columns (``_rowid`` only with ``row_id``)."""
        if self.outputs is None:
            return result
        return result.project(self.outputs, _kept(row_id))

    def apply_table(self, table: pa.Table, row_id: bool = True) -> pa.Table:
        """A pyarrow table with the outputs computed."""
        if self.outputs is None:
            return table.select(self.names)
        stream = project_stream(table, self.outputs, _kept(row_id))
        return pa.RecordBatchReader.from_stream(stream).read_all()


def _kept(row_id: bool) -> list[str]:
    return [c for c in ENGINE_COLUMNS if row_id or c != "_rowid"]


def selection(columns: Sequence[str] | Mapping[str, str]) -> Selection:
    """``select()``'s argument checked: column names, or ``{"alias": "sql"}``."""
    if isinstance(columns, Mapping):
        outputs: Outputs = []
        for name, sql in columns.items():
            if not isinstance(name, str) or not isinstance(sql, str):
                raise InvalidInputError(
                    "select takes {'alias': 'sql expression'} with string keys and values, "
                    f"got {name!r:.80}: {sql!r:.80}"
                )
            outputs.append((name, sql))
        if not outputs:
            raise InvalidInputError("select needs at least one column or expression")
        return Selection([name for name, _ in outputs], outputs)
    names = _check.names("select", columns)
    if any(n in ENGINE_COLUMNS for n in names):
        return Selection(names, [(n, None) for n in names])
    return Selection(names, None)
