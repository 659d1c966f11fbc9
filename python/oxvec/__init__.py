"""oxvec: an embedded vector database with a Rust core.

A database is a directory; a table is a versioned set of Arrow files with exact vector
search, SQL filters and time travel.

>>> import oxvec, tempfile
>>> db = oxvec.connect(tempfile.mkdtemp())
>>> tbl = db.create_table("docs", [{"id": 1, "text": "hi", "vector": [1.0, 0.0]}])
>>> tbl.search([1.0, 0.0]).limit(1).to_list()[0]["text"]
'hi'
"""

from __future__ import annotations

from ._blobs import BlobFile
from ._oxvec import __version__, simd_kernels
from .aio import connect_async
from .db import Database, connect
from .exceptions import (
    CommitConflictError,
    CorruptFileError,
    FilterError,
    InternalError,
    InvalidInputError,
    OxvecError,
    SchemaError,
    StorageError,
    TableExistsError,
    TableNotFoundError,
    TimedOutError,
)
from .hybrid import HybridQuery
from .maintenance import Tags, VerifyReport
from .merge import MergeInsertBuilder, MergeResult
from .query import Query
from .table import Table
from .writes import (
    AddColumnsResult,
    AddResult,
    AlterColumnsResult,
    DeleteResult,
    DropColumnsResult,
    UpdateResult,
)

__all__ = [
    "BlobFile",
    "AddColumnsResult",
    "AddResult",
    "AlterColumnsResult",
    "CommitConflictError",
    "CorruptFileError",
    "Database",
    "DeleteResult",
    "DropColumnsResult",
    "FilterError",
    "HybridQuery",
    "InternalError",
    "InvalidInputError",
    "MergeInsertBuilder",
    "MergeResult",
    "OxvecError",
    "Query",
    "SchemaError",
    "StorageError",
    "Table",
    "TableExistsError",
    "TableNotFoundError",
    "Tags",
    "TimedOutError",
    "UpdateResult",
    "Vector",
    "VerifyReport",
    "__version__",
    "connect",
    "connect_async",
    "simd_kernels",
]


def __getattr__(name: str) -> object:
    # Lazy so that `import oxvec` does not import the Pydantic integration module.
    if name == "Vector":
        from .pydantic import Vector

        return Vector
    raise AttributeError(f"module 'oxvec' has no attribute {name!r}")
