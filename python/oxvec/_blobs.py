"""Large binary values (images, audio, PDFs) read lazily, as file-like handles.

A :class:`BlobFile` names one value of a binary column by its row id; the bytes are read
from the table (only that column's bytes of that row) the first time the handle is read,
sought or sized. A query that returns handles loads no blob at all. Row ids are stable
within a version and renumbered by compaction: read handles before ``optimize()``.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa

from .exceptions import InvalidInputError

__all__ = ["BlobFile"]


class BlobFile(io.RawIOBase):
    """A read-only file over one binary value of a table, read when first used.

    Examples
    --------
    >>> import oxvec
    >>> tbl = oxvec.connect("memory://").create_table(
    ...     "files", [{"name": "a.txt", "data": b"hello blob"}, {"name": "b.txt", "data": b"x"}]
    ... )
    >>> (f,) = tbl.search().where("name = 'a.txt'").to_blobs("data")
    >>> f.read(5), f.read(), f.size
    (b'hello', b' blob', 10)
    """

    def __init__(self, table: Any, column: str, row_id: int) -> None:
        super().__init__()
        self._table = table
        self._column = column
        self.row_id = row_id
        self._reader: pa.BufferReader | None = None

    def __repr__(self) -> str:
        return f"oxvec.BlobFile(column={self._column!r}, row_id={self.row_id})"

    def _open(self) -> pa.BufferReader:
        if self._reader is None:
            got = self._table.take_row_ids([self.row_id], columns=[self._column])
            value = got[self._column][0]
            buf = value.as_buffer() if value.is_valid else None
            self._reader = pa.BufferReader(buf if buf is not None else b"")
        return self._reader

    @property
    def size(self) -> int:
        """The value's length in bytes (reads it).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"12345"}])
        >>> tbl.search().to_blobs("b")[0].size
        5
        """
        return int(self._open().size())

    def readable(self) -> bool:
        """Always true: a handle reads.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"x"}])
        >>> tbl.search().to_blobs("b")[0].readable()
        True
        """
        return True

    def seekable(self) -> bool:
        """Always true: a handle seeks anywhere in its value.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"x"}])
        >>> tbl.search().to_blobs("b")[0].seekable()
        True
        """
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left with ``-1``).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"abcdef"}])
        >>> h = tbl.search().to_blobs("b")[0]
        >>> h.read(2), h.read()
        (b'ab', b'cdef')
        """
        self._check_open()
        r = self._open()
        return r.read() if size is None or size < 0 else r.read(size)

    def readinto(self, b: Any) -> int:
        """Reads into the writable buffer ``b``; returns the bytes read.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"abc"}])
        >>> buf = bytearray(2)
        >>> tbl.search().to_blobs("b")[0].readinto(buf), bytes(buf)
        (2, b'ab')
        """
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Moves to ``offset`` (from the start, the current position or the end, as
        ``whence`` says); returns the new position.

        Examples
        --------
        >>> import io, oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"abcdef"}])
        >>> h = tbl.search().to_blobs("b")[0]
        >>> h.seek(-2, io.SEEK_END), h.read()
        (4, b'ef')
        """
        self._check_open()
        return int(self._open().seek(offset, whence))

    def tell(self) -> int:
        """The current position.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"b": b"abcdef"}])
        >>> h = tbl.search().to_blobs("b")[0]
        >>> _ = h.read(3)
        >>> h.tell()
        3
        """
        self._check_open()
        return int(self._open().tell())

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on a closed BlobFile")


def blob_files(table: Any, column: str, row_ids: list[int]) -> list[BlobFile]:
    """Handles on ``column`` of the rows ``row_ids``, checked to be a binary column."""
    field = table.schema.field(column) if column in table.schema.names else None
    if field is None:
        raise InvalidInputError(f"unknown column '{column}'; the table has {table.schema.names}")
    if not (pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)):
        raise InvalidInputError(f"column '{column}' holds {field.type}, not binary values")
    return [BlobFile(table, column, int(r)) for r in row_ids]
