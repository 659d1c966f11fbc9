"""Reading engine results into pyarrow.

A result is an object with ``__arrow_c_stream__``. Most results are one small batch (a k-NN
answer), where pyarrow's stream reader and schema parsing cost more than the search: such a
batch is imported as one C array against a pyarrow schema cached by the result schema's hash.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["read"]

#: Result schemas seen, by the engine's hash of them.
_SCHEMAS: dict[int, pa.Schema] = {}
_MAX_SCHEMAS = 256
#: The fast import, where pyarrow has it.
_IMPORT_BATCH = getattr(pa.RecordBatch, "_import_from_c", None)


def read(result: Any) -> pa.Table:
    """``result`` (an engine result) as a pyarrow Table."""
    exported = result.export_batch() if _IMPORT_BATCH is not None else None
    if exported is not None:
        key, address = exported
        schema = _SCHEMAS.get(key)
        if schema is not None:
            return pa.Table.from_batches([_IMPORT_BATCH(address, schema)], schema)
    table = pa.RecordBatchReader.from_stream(result).read_all()
    if exported is not None:
        if len(_SCHEMAS) >= _MAX_SCHEMAS:
            _SCHEMAS.clear()
        _SCHEMAS[exported[0]] = table.schema
    return table
