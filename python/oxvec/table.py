"""Tables: versioned sets of rows with vector search, filters and time travel."""

from __future__ import annotations

import datetime
import json
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from . import _check, _columns, _data, _progress, _results, fts
from ._blobs import BlobFile, blob_files
from ._dataset import ArrowDataset
from ._embedding import TableEmbeddings
from ._timeout import time_limit
from .exceptions import InvalidInputError
from .fts import FullTextQuery
from .hybrid import HybridQuery
from .maintenance import Tags, VerifyReport, as_seconds, utc
from .merge import MergeInsertBuilder
from .query import Query
from .writes import (
    AddColumnsResult,
    AddResult,
    AlterColumnsResult,
    DeleteResult,
    DropColumnsResult,
    UpdateResult,
)

if TYPE_CHECKING:
    import pandas
    import polars

    from ._oxvec import Table as _Table

__all__ = ["Table"]

#: Rows from which an ``add`` of known size draws a progress bar.
_PROGRESS_ROWS = 100_000

#: ``on_bad_vectors`` values.
_BAD_VECTORS = ("error", "drop", "fill")


def _bad_vectors(policy: Any) -> str:
    """``on_bad_vectors`` checked; ``"null"`` (LanceDB's) goes on to be refused with the
    reason by the engine."""
    return policy if policy == "null" else _check.choice("on_bad_vectors", policy, _BAD_VECTORS)


def _read(stream: Any) -> pa.Table:
    return _results.read(stream)


class Table(ArrowDataset):
    """A table of an oxvec database. Get one from ``Database.create_table`` or ``open_table``.

    Reads see the version the handle is on (``version``), which by default moves to the newest
    version before each read (``read_consistency_interval`` in :func:`oxvec.connect`); writes
    always go on top of the newest version and move the handle there. ``checkout(v)`` pins
    reads to an older version (or a tag) until ``checkout_latest()``.

    A table is also a ``pyarrow.dataset.Dataset``: DuckDB queries it by name
    (``duckdb.sql("select id from tbl where price > 10")``) reading only the columns and
    rows the query needs, and :meth:`scan` gives a Polars LazyFrame that does the same.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> tbl = db.create_table("t", [{"id": i, "vector": [float(i), 0.0]} for i in range(5)])
    >>> len(tbl), tbl.version
    (5, 1)
    >>> tbl.delete("id >= 3").num_deleted_rows
    2
    >>> tbl.search([0.9, 0.0]).limit(2).to_list()[0]["id"]
    1
    """

    __slots__ = ("_embeddings", "_inner", "_schema", "_schema_version")

    _inner: _Table

    @classmethod
    def _wrap(cls, inner: _Table) -> Table:
        t = cls.__new__(cls)
        t._inner = _check.native(inner)
        t._schema = None
        t._schema_version = -1
        t._embeddings = (-1, None)
        return t

    def _embedder(self) -> TableEmbeddings | None:
        """The table's embedding functions (read from the schema, kept per version)."""
        v = self._inner.version
        if self._embeddings[0] != v:
            old = self._embeddings[1]
            new = TableEmbeddings.of_schema(self.schema, self.name)
            if old is not None and new is not None and old.specs == new.specs:
                new = old  # keep the functions already made
            self._embeddings = (v, new)
        return self._embeddings[1]

    def _prepare(self, data: Any, progress: bool | None = False) -> Any:
        """``data`` as a stream, its vector columns embedded when the table says so, counted
        into a progress bar when it is large (100,000 rows or more, or a stream of unknown
        length) and a bar is wanted (see ``progress``)."""
        stream = _data.to_stream(data)
        emb = self._embedder()
        stream = stream if emb is None else emb.embed_stream(stream)
        total = stream.num_rows if isinstance(stream, pa.Table) else None
        if (total is None or total >= _PROGRESS_ROWS) and _progress.wanted(progress):
            reader = pa.RecordBatchReader.from_stream(stream)
            return _progress.counted(reader, f"adding to {self.name}", total, progress)
        return stream

    def __repr__(self) -> str:
        """The table's name, version, rows and columns.

        Examples
        --------
        >>> import oxvec
        >>> oxvec.connect("memory://").create_table("t", [{"id": 1, "vector": [0.5, 1.0]}])
        oxvec.Table('t', version=1, rows=1, columns=['id', 'vector'])
        """
        try:
            names = self.schema.names
            shown = names[:8] + (["..."] if len(names) > 8 else [])
            return (
                f"oxvec.Table({self.name!r}, version={self.version}, rows={len(self)}, "
                f"columns={shown})"
            )
        except Exception:  # a repr never raises (a dropped table, say)
            return f"oxvec.Table({self.name!r})"

    @property
    def name(self) -> str:
        """The table's name.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.name
        't'
        """
        return self._inner.name

    @property
    def version(self) -> int:
        """The version this handle reads.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.version, tbl.add([{'id': 3, 'vector': [3.0, 1.0]}]).version, tbl.version
        (1, 2, 2)
        """
        return self._inner.version

    @property
    def uri(self) -> str:
        """The absolute path of the table's directory.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.uri.endswith('t.oxvec')
        True
        """
        return self._inner.path

    def stats(self) -> dict[str, Any]:
        """What the version this handle reads holds, from its manifest alone.

        Returns
        -------
        dict
            ``num_rows``, ``num_deleted_rows`` (still in data files until compaction),
            ``num_indices``, ``total_bytes`` (``data_bytes`` + ``deletion_bytes`` +
            ``index_bytes``), ``fragment_stats`` (``num_fragments``,
            ``num_small_fragments``: under 16,384 rows, ``lengths``: rows per fragment,
            ``min``/``max``/``mean``/``p25``/``p50``/``p75``/``p99``), ``indices`` (name,
            type, kind, columns and bytes of each), ``version``.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(5)])
        >>> _ = tbl.delete("x < 2")
        >>> s = tbl.stats()
        >>> s["num_rows"], s["num_deleted_rows"], s["fragment_stats"]["num_fragments"]
        (3, 2, 1)
        """
        return json.loads(self._inner.stats())

    def take_offsets(
        self, offsets: Sequence[int], *, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """The rows at these positions among the version's rows (the order a scan returns
        them in, from 0), in the order given.

        Raises
        ------
        InvalidInputError
            An offset that is negative or past the last row.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(5)])
        >>> tbl.take_offsets([4, 0, 4])["x"].to_pylist()
        [4, 0, 4]
        """
        return self._take(offsets, "offset", columns)

    def take_row_ids(
        self, row_ids: Sequence[int], *, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """The rows with these ``_rowid`` values (as ``with_row_id()`` results carry them),
        in the order given. Row ids are stable within a version; compaction renumbers them.

        Raises
        ------
        InvalidInputError
            A row id that is not a live row of this version.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(5)])
        >>> ids = tbl.search().where("x >= 3").with_row_id().to_arrow()["_rowid"].to_pylist()
        >>> tbl.take_row_ids(ids[::-1], columns=["x"])["x"].to_pylist()
        [4, 3]
        """
        return self._take(row_ids, "row_id", columns)

    def take_blobs(self, row_ids: Sequence[int], column: str) -> list[BlobFile]:
        """File-like handles on the binary ``column`` of the rows ``row_ids`` (as
        ``with_row_id()`` results carry them), each read from the table when first used.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"pdf": b"%PDF-1.7 ..."}])
        >>> ids = tbl.search().with_row_id().to_arrow()["_rowid"].to_pylist()
        >>> tbl.take_blobs(ids, "pdf")[0].read(8)
        b'%PDF-1.7'
        """
        return blob_files(self, column, [int(r) for r in row_ids])

    def _take(self, rows: Sequence[int], by: str, columns: Sequence[str] | None) -> pa.Table:
        what = "offsets" if by == "offset" else "row_ids"
        try:
            wanted = np.asarray(rows)
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"{what} must be integers: {e}") from None
        if wanted.ndim != 1 or (wanted.size and wanted.dtype.kind not in "iu"):
            raise InvalidInputError(f"{what} must be a list of integers, got {rows!r:.80}")
        if wanted.size and wanted.dtype.kind == "i" and wanted.min() < 0:
            raise InvalidInputError(f"{what} must not be negative, got {int(wanted.min())}")
        cols = None if columns is None else _check.names("columns", columns)
        return _read(self._inner.take(wanted.astype(np.uint64).tolist(), by, cols))

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the current version.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.schema.names
        ['id', 'vector']
        """
        v = self._inner.version
        if self._schema is None or self._schema_version != v:
            self._schema = pa.RecordBatchReader.from_stream(self._inner.schema_stream()).schema
            self._schema_version = v
        return self._schema

    def __len__(self) -> int:
        return self._inner.count_rows()

    def count_rows(self, filter: str | None = None, params: Sequence[Any] | None = None) -> int:
        """Number of rows, or of rows matching ``filter``.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(10)])
        >>> tbl.count_rows("x % 2 = ?", [0])
        5
        """
        return self._inner.count_rows(filter, params)

    def add(
        self,
        data: Any,
        mode: Literal["append", "overwrite"] = "append",
        *,
        on_bad_vectors: Literal["error", "drop", "fill"] = "error",
        fill_value: float = 0.0,
        progress: bool | None = None,
    ) -> AddResult:
        """Adds rows as one new version (all of them, or none on error).

        Parameters
        ----------
        data
            The same data as ``Database.create_table`` takes; columns are matched by name and
            converted to the table's types. A nullable column the data lacks is null in the
            new rows; a missing non-nullable or vector column is an error.
        mode
            ``"append"`` adds the rows; ``"overwrite"`` replaces every row with them (the
            schema stays; indexes are dropped with the rows they covered).
        on_bad_vectors
            What to do with a row whose vector is null, has the wrong dimension or holds a
            null, NaN or infinity: ``"error"`` refuses the whole write naming the row,
            ``"drop"`` leaves the row out, ``"fill"`` stores ``fill_value`` in every position.
        fill_value
            The value of filled vectors' positions (finite).
        progress
            A tqdm bar of the rows written, for 100,000 rows or more (or a stream): by
            default when a terminal or notebook shows it and ``OXVEC_PROGRESS`` is not
            ``0``; ``False`` never, ``True`` always.

        Returns
        -------
        AddResult
            ``.version``: the version committed.

        Raises
        ------
        SchemaError, InvalidInputError
            Nothing is written when either is raised.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"vector": [1.0, 2.0]}])
        >>> rows = [{"vector": [3.0, 4.0]}, {"vector": [float("nan"), 0.0]}]
        >>> tbl.add(rows, on_bad_vectors="drop")
        AddResult(version=2)
        >>> tbl.add([{"vector": [5.0]}], on_bad_vectors="fill", fill_value=0.0).version
        3
        >>> tbl.to_arrow()["vector"].to_pylist()
        [[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]
        """
        version = self._inner.add(
            self._prepare(data, progress),
            _check.choice("mode", mode, ("append", "overwrite")),
            _bad_vectors(on_bad_vectors),
            _check.number("fill_value", fill_value),
        )
        return AddResult(version)

    def delete(self, where: str, params: Sequence[Any] | None = None) -> DeleteResult:
        """Deletes rows matching the SQL condition ``where`` as one new version.

        Pass user values as ``params`` bound to ``?`` placeholders, never by formatting them
        into the string: ``tbl.delete("id = ?", [user_id])``. ``where`` is required: to
        delete every row say so, ``tbl.delete("true")``. A delete that loses a race with
        another writer's commit is planned again on the newer version (``max_retries`` in
        :func:`oxvec.connect`).

        Returns
        -------
        DeleteResult
            The number of rows deleted (an ``int``) with ``.version``, the version committed.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(4)])
        >>> tbl.delete("x = ?", [1])
        DeleteResult(num_deleted_rows=1, version=2)
        >>> tbl.delete("true").num_deleted_rows
        3
        """
        if not isinstance(where, str):
            raise InvalidInputError(
                f'delete needs a SQL condition ("true" deletes every row), got {where!r:.80}'
            )
        rows, version = self._inner.delete(where, params)
        return DeleteResult(rows, version)

    def update(
        self,
        where: str | None = None,
        values: Mapping[str, Any] | None = None,
        values_sql: Mapping[str, str] | None = None,
        *,
        params: Sequence[Any] | None = None,
    ) -> UpdateResult:
        """Sets columns on the rows matching ``where`` (all rows if ``None``) as one version.

        Returns an :class:`~oxvec.writes.UpdateResult`: the number of rows changed (an
        ``int``) with ``.version``. Like ``delete``, an update that loses a race with another
        writer is planned again on the newer version.

        Parameters
        ----------
        where
            SQL condition; ``?`` placeholders are bound from ``params``.
        values
            Column -> new Python value.
        values_sql
            Column -> SQL expression over the row, e.g. ``{"price": "price * 1.1"}``.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"id": 1, "n": 1}])
        >>> tbl.update("id = 1", values_sql={"n": "n + 41"})
        UpdateResult(rows_updated=1, version=2)
        >>> tbl.to_arrow()["n"].to_pylist()
        [42]
        """
        emb = self._embedder()
        if emb is not None:
            values, values_sql = emb.update_values(values, values_sql)
        stream = None if values is None else _data.one_row(values)
        if values_sql is not None and not (
            isinstance(values_sql, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in values_sql.items())
        ):
            raise InvalidInputError(
                f"values_sql must map column names to SQL expressions, got {values_sql!r:.80}"
            )
        rows, version = self._inner.update(
            where, params, stream, dict(values_sql) if values_sql else None
        )
        return UpdateResult(rows, version)

    def add_columns(
        self, transforms: pa.Field | Sequence[pa.Field] | pa.Schema | Mapping[str, str] | Any
    ) -> AddColumnsResult:
        """Adds columns as one new version.

        Parameters
        ----------
        transforms
            A pyarrow field, a list of fields, or a schema: columns null in every existing
            row, added without rewriting any data file (each nullable, and not a vector
            column: vectors are never null). Or ``{"name": "sql expression"}``: columns
            computed from each row in the filter language (``"price * 1.2"``,
            ``"upper(title)"``). Or a function of a ``pyarrow.RecordBatch`` of every column
            returning the new columns (a Table, RecordBatch, dict of arrays or DataFrame);
            it also sees deleted rows, which older versions still hold. Computed columns
            rewrite every data file (rows keep their place, ids and indexes).

        Examples
        --------
        >>> import oxvec, pyarrow as pa, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"id": 1}])
        >>> tbl.add_columns(pa.field("note", pa.string()))
        AddColumnsResult(version=2)
        >>> tbl.to_arrow().to_pylist()
        [{'id': 1, 'note': None}]
        >>> tbl.add_columns({"double": "id * 2"}).version
        3
        >>> tbl.add_columns(lambda batch: {"neg": pa.compute.negate(batch["id"])}).version
        4
        >>> tbl.to_arrow().to_pylist()
        [{'id': 1, 'note': None, 'double': 2, 'neg': -1}]
        """
        sql = _columns.computed(transforms)
        if sql is not None:
            return AddColumnsResult(self._inner.rewrite_columns(sql))
        if callable(transforms):
            return AddColumnsResult(_columns.add_from_function(self, transforms))
        schema = _columns.added_schema(transforms)
        return AddColumnsResult(self._inner.alter_columns([], schema))

    def alter_columns(self, *alterations: Mapping[str, Any]) -> AlterColumnsResult:
        """Renames columns, lets them hold nulls, or changes their type, as one new version.
        A rename or nullability change rewrites no data file; indexes follow a renamed
        column.

        Parameters
        ----------
        *alterations
            Dicts with ``"path"`` (the column) and ``"rename"`` (its new name) and/or
            ``"nullable": True``, applied in order; or ``"data_type"``: every value cast to
            that pyarrow type (a vector column to ``pa.list_(pa.float16(), dim)`` halves
            its size), which rewrites the data files and drops indexes over the column; a
            type change goes in a call of its own. A column an embedding function reads or
            fills keeps its name.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"id": 1, "x": 2}])
        >>> tbl.alter_columns({"path": "x", "rename": "y"}).version
        2
        >>> tbl.schema.names
        ['id', 'y']
        >>> import pyarrow as pa
        >>> tbl.alter_columns({"path": "y", "data_type": pa.float32()}).version
        3
        >>> tbl.schema.field("y").type
        DataType(float)
        """
        steps, casts = _columns.alteration_steps(alterations, self.schema)
        self._refuse_embedded(steps)
        version = None
        if casts is not None:
            version = self._inner.rewrite_columns([], casts)
        if steps or version is None:
            version = self._inner.alter_columns(steps)
        return AlterColumnsResult(version)

    def drop_columns(self, columns: str | Sequence[str]) -> DropColumnsResult:
        """Removes columns from the table as one new version; their indexes go with them.

        The data files keep the values (older versions still read them) until compaction
        rewrites the files and cleanup removes the old ones.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"id": 1, "x": 2}])
        >>> tbl.drop_columns(["x"]).version
        2
        >>> tbl.to_arrow().to_pylist()
        [{'id': 1}]
        """
        steps = _columns.dropped(columns)
        self._refuse_embedded(steps)
        return DropColumnsResult(self._inner.alter_columns(steps))

    def _refuse_embedded(self, steps: list[tuple[str, str, str]]) -> None:
        emb = self._embedder()
        if emb is not None:
            _columns.refuse_embedded(steps, emb.specs)

    def head(self, n: int = 5) -> pa.Table:
        """The first ``n`` rows.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.head(2)['id'].to_pylist()
        [0, 1]
        """
        return _read(self._inner.scan(limit=_check.count("n", n, minimum=0)))

    def to_arrow(self) -> pa.Table:
        """Every row as a pyarrow Table.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.to_arrow().num_rows
        3
        """
        return _read(self._inner.scan())

    def to_pandas(self) -> pandas.DataFrame:
        """Every row as a pandas DataFrame.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.to_pandas()['id'].tolist()
        [0, 1, 2]
        """
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """Every row as a Polars DataFrame.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.to_polars()['id'].to_list()
        [0, 1, 2]
        """
        import polars as pl

        return pl.from_arrow(self.to_arrow())  # type: ignore[return-value]

    def to_batches(self, batch_size: int | None = None, **scan: Any) -> pa.RecordBatchReader:
        """Every row, streamed: see :meth:`Query.to_batches`. pyarrow's ``columns=`` and
        ``filter=`` (an Expression) are accepted too, as in :meth:`scanner`.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> [b.num_rows for b in tbl.to_batches(2)]
        [2, 1]
        """
        if scan:
            return self.scanner(batch_size=batch_size, **scan).to_reader()
        return self.search().to_batches(batch_size)

    def scan(self) -> polars.LazyFrame:
        """The table as a Polars LazyFrame, read by the Rust scan when collected.

        Polars pushes the columns a query uses, its filter and its row limit into the scan,
        which streams only those columns, and only the rows the filter can keep, in batches:
        ``tbl.scan().filter(pl.col("price") > 10).select("id", "price").collect()`` reads two
        columns, never the whole table. The frame has the table's schema as of this call and
        reads the version the handle is on when collected.

        Examples
        --------
        >>> import oxvec, tempfile, polars as pl
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table(
        ...     "t", [{"id": i, "price": i * 1.5, "vector": [float(i), 0.0]} for i in range(100)]
        ... )
        >>> tbl.scan().filter(pl.col("price") > 145).select("id").collect()["id"].to_list()
        [97, 98, 99]
        """
        from ._polars import lazy_frame

        return lazy_frame(self)

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Arrow PyCapsule export, so ``pl.DataFrame(tbl)`` or DuckDB can read the table.

        The rows stream: each batch is read from the data files when the consumer asks.
        """
        return self._inner.scan_stream().__arrow_c_stream__(requested_schema)

    def search(
        self,
        query: Any = None,
        query_type: str = "auto",
        *,
        vector_column: str | None = None,
        fts_columns: str | Sequence[str] | None = None,
        vector_column_name: str | None = None,
    ) -> Any:
        """Starts a query: nearest neighbours of a vector, a full-text search, a hybrid of
        both, or a filtered scan when ``query`` is ``None``.

        Parameters
        ----------
        query
            A vector (list or 1-D array), a 2-D array of many query vectors (the results
            then carry ``query_index``), a string, or a structured full-text query from
            :mod:`oxvec.fts`.
        query_type
            ``"auto"`` (a string is embedded and searched as a vector when the table has an
            embedding function, else searched as text; a full-text query object searches
            text; anything else is a vector), ``"vector"``, ``"fts"``, or ``"hybrid"`` (returns a
            :class:`~oxvec.hybrid.HybridQuery`: give its legs with ``.vector(v)`` and
            ``.text(t)``).
        vector_column
            The vector column, when the table has several (``vector_column_name`` is
            LanceDB's name for it, also accepted).
        fts_columns
            For a string query: the column(s) to search (default: every column of the
            table's full-text index).

        Returns
        -------
        Query or HybridQuery
            Chain ``.where()``, ``.select()``, ``.limit()``, ``.offset()`` and read with
            ``.to_arrow()``, ``.to_list()``, ... See :class:`oxvec.Query`.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [
        ...     {"id": 1, "text": "the quick brown fox", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "a lazy dog sleeps", "vector": [0.0, 1.0]},
        ...     {"id": 3, "text": "quick dogs and quicker foxes", "vector": [0.7, 0.7]},
        ... ])
        >>> tbl.create_fts_index("text")
        'text_idx'
        >>> [r["id"] for r in tbl.search("quick fox").select(["id"]).to_list()]
        [1, 3]
        >>> [r["id"] for r in tbl.search([1.0, 0.1]).limit(1).to_list()]
        [1]
        """
        vector_column = _check.alias(
            "vector_column", vector_column, "vector_column_name", vector_column_name
        )
        if query_type not in ("auto", "vector", "fts", "hybrid"):
            raise InvalidInputError(
                f"query_type must be 'auto', 'vector', 'fts' or 'hybrid', got {query_type!r:.80}"
            )
        textual = isinstance(query, (str, FullTextQuery))
        if query_type == "hybrid":
            cols = None if fts_columns is None else _check.names("fts_columns", fts_columns)
            hq = HybridQuery(self._inner, vector_column=vector_column, columns=cols)
            if query is None:
                return hq
            if not isinstance(query, str):
                raise InvalidInputError(
                    f"a hybrid search takes a string (embedded for the vector leg), got "
                    f"{query!r:.80}; or give the legs: search(query_type='hybrid')"
                    ".vector(v).text('...')"
                )
            emb = self._embedder()
            if emb is None:
                raise InvalidInputError(
                    "a hybrid search from one string needs an embedding function on the "
                    "table; give the legs instead: search(query_type='hybrid')"
                    ".vector(v).text('...')"
                )
            vec, column = emb.query_vector(query, vector_column)
            hq._vector_column = column
            return hq.vector(vec).text(query)
        # Only a string query asks for the embedder (reading it costs a schema read).
        embeds = isinstance(query, str) and query_type == "auto" and self._embedder() is not None
        if query_type == "fts" or (query_type == "auto" and textual and not embeds):
            if isinstance(query, FullTextQuery):
                if fts_columns is not None:
                    raise InvalidInputError(
                        "fts_columns applies to a string query; a structured query names its "
                        "own columns"
                    )
                return Query(self._inner, None, None, query)
            if not isinstance(query, str):
                raise InvalidInputError(
                    f"a full-text search takes a string or an oxvec.fts query, got {query!r:.80}"
                )
            cols = None if fts_columns is None else _check.names("fts_columns", fts_columns)
            return Query(self._inner, None, None, fts.plain(query, cols))
        if isinstance(query, str):
            emb = self._embedder()
            if emb is None:
                raise InvalidInputError(
                    "a string query searches text: the table has no embedding function to "
                    "turn it into a vector; pass a vector, or query_type='fts'"
                )
            vec, column = emb.query_vector(query, vector_column)
            return Query(self._inner, vec, column)
        if textual:
            raise InvalidInputError("a full-text query object needs query_type='fts' or 'auto'")
        if fts_columns is not None:
            raise InvalidInputError("fts_columns applies to a full-text search")
        return Query(self._inner, query, vector_column)

    def create_fts_index(
        self,
        column: str | Sequence[str],
        *,
        base_tokenizer: str = "simple",
        language: str = "english",
        stem: bool = True,
        remove_stop_words: bool = True,
        lower_case: bool = True,
        ascii_folding: bool = True,
        with_position: bool = True,
        max_token_length: int = 40,
        ngram_min_length: int = 3,
        ngram_max_length: int = 3,
        prefix_only: bool = False,
        replace: bool = True,
        name: str | None = None,
        progress: bool | None = None,
    ) -> str:
        """Builds a full-text (BM25) index over one or more string columns.

        Text is split into words, lower-cased, accents folded, stop words dropped and words
        stemmed (each step optional), the same way for rows and for queries. Rows added
        later are searchable at once (analysed at query time until :meth:`optimize` folds
        them in); deleted rows never come back.

        Parameters
        ----------
        column
            A string column, or several (searched together or one by one).
        base_tokenizer
            ``"simple"`` (words: runs of letters and digits), ``"whitespace"``, ``"raw"``
            (the whole value is one term) or ``"ngram"`` (character n-grams of each word,
            for substring and typo-tolerant matching).
        language
            Stemmer and stop-word list: a name or ISO code among arabic, danish, dutch,
            english, finnish, french, german, greek, hungarian, italian, norwegian,
            portuguese, romanian, russian, spanish, swedish, tamil, turkish. Text in
            languages written without spaces is segmented: ``"chinese"`` (``"zh"``) into
            dictionary words with jieba (each long word also indexed by the dictionary
            words inside it), ``"japanese"`` (``"ja"``), ``"korean"`` (``"ko"``) and
            ``"cjk"`` into overlapping character bigrams (no dictionary); Latin words in
            the same text are kept whole. These have no stemmer (``stem`` is ignored).
        stem, remove_stop_words, lower_case, ascii_folding
            The analysis steps (folding maps accented Latin letters to ASCII: "café" ->
            "cafe").
        with_position
            Keep word positions (phrase queries need them; the index is smaller without).
        max_token_length
            Longer words are dropped (a base64 blob is not a word).
        ngram_min_length, ngram_max_length, prefix_only
            N-gram sizes, and whether only each word's leading n-grams are kept.
        replace
            Rebuild an index of the same name (else that is an error).
        name
            The index's name; default ``<column>_idx`` (columns joined by ``_``).
        progress
            Draw a progress bar (tqdm: in a terminal or a notebook); default: when stderr is
            a terminal or in a notebook, unless the environment sets ``OXVEC_PROGRESS=0``.

        Returns
        -------
        str
            The index's name.

        Raises
        ------
        InvalidInputError
            A column that is missing, not a string column, or already in another full-text
            index; an unknown tokenizer or language.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"text": "Cafés in Paris"}, {"text": "Rust cafe"}])
        >>> tbl.create_fts_index("text")
        'text_idx'
        >>> len(tbl.search("cafe").to_list())
        2
        """
        columns = _check.names("column", column)
        started = time.perf_counter()
        with _progress.bar(f"full-text index on {', '.join(columns)}", progress) as cb:
            built = self._inner.create_fts_index(
                columns,
                base_tokenizer,
                language,
                stem,
                remove_stop_words,
                lower_case,
                ascii_folding,
                with_position,
                _check.count("max_token_length", max_token_length),
                _check.count("ngram_min_length", ngram_min_length),
                _check.count("ngram_max_length", ngram_max_length),
                prefix_only,
                replace,
                name,
                cb,
            )
        _progress.logger.info(
            "table %s: built full-text index %s in %.2f s",
            self.name,
            built,
            time.perf_counter() - started,
        )
        return built

    def list_versions(self) -> list[dict[str, Any]]:
        """Every version: ``version``, ``timestamp`` (UTC datetime), ``operation``, ``rows``.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> _ = tbl.delete('id = 0')
        >>> [v['version'] for v in tbl.list_versions()]
        [1, 2]
        """
        return [
            {
                "version": v,
                "timestamp": utc(ts),
                "operation": op,
                "rows": rows,
            }
            for v, ts, op, rows in self._inner.list_versions()
        ]

    def checkout(self, version: int | str) -> None:
        """Pins reads to ``version`` (a number or a tag name). Writes are refused until
        ``checkout_latest`` or ``restore``.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> _ = tbl.delete('id = 0')
        >>> tbl.checkout(1)
        >>> len(tbl)
        3
        >>> tbl.checkout_latest()
        >>> len(tbl)
        2
        """
        if isinstance(version, str):
            self._inner.checkout_tag(version)
        else:
            self._inner.checkout(_check.version(version))

    @property
    def tags(self) -> Tags:
        """Named versions: ``tbl.tags.create(name, version)``, ``.list()``, ``.delete(name)``.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.tags.create('start')
        >>> tbl.tags.get_version('start')
        1
        """
        return Tags(self._inner)

    def merge_insert(self, on: str | Sequence[str]) -> MergeInsertBuilder:
        """Starts an upsert keyed on ``on`` (one column or several); see
        :class:`~oxvec.merge.MergeInsertBuilder`.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> res = tbl.merge_insert('id').when_not_matched_insert_all().execute(
        ...     [{'id': 2, 'vector': [2.0, 1.0]}, {'id': 7, 'vector': [7.0, 1.0]}]
        ... )
        >>> res.num_inserted_rows, len(tbl)
        (1, 4)
        """
        return MergeInsertBuilder(self._inner, on, self._prepare)

    def cleanup_old_versions(
        self,
        older_than: datetime.timedelta | float = datetime.timedelta(days=7),
        *,
        delete_unverified: bool = False,
    ) -> dict[str, int]:
        """Removes versions older than ``older_than`` (a timedelta or seconds) and the files
        only they use. The newest version, tagged versions and the version this handle is on
        are always kept. Files no version ever referenced (left by a crashed writer) are
        removed once an hour old, or at once with ``delete_unverified=True`` (only safe when
        no other process is writing).

        Returns
        -------
        dict
            ``versions_removed``, ``files_removed``, ``bytes_removed``.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": 1, "vector": [0.0]}])
        >>> tbl.delete("id = 1")
        DeleteResult(num_deleted_rows=1, version=2)
        >>> tbl.cleanup_old_versions(older_than=0)["versions_removed"]
        1
        >>> [v["version"] for v in tbl.list_versions()]
        [2]
        """
        seconds = as_seconds(older_than, "older_than")
        versions, files, nbytes, bad_tags = self._inner.cleanup_old_versions(
            seconds, delete_unverified
        )
        if bad_tags:
            warnings.warn(
                f"table {self.name!r}: tag file(s) {bad_tags} cannot be read, so no version was "
                "removed (a damaged tag may protect any of them); delete or re-create those "
                "tags to let cleanup remove old versions again",
                stacklevel=2,
            )
        return {"versions_removed": versions, "files_removed": files, "bytes_removed": nbytes}

    def verify(self, deep: bool = False) -> VerifyReport:
        """Checks that every file each version references exists with its recorded size,
        and with ``deep=True`` that its checksum matches (reads every byte). Problems are
        reported, not raised.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": 1, "vector": [0.0]}])
        >>> report = tbl.verify(deep=True)
        >>> report.ok, report.versions_checked, report.files_checked
        (True, 1, 1)
        """
        versions, files, nbytes, problems = self._inner.verify(deep)
        return VerifyReport(versions, files, nbytes, problems)

    def checkout_latest(self) -> None:
        """Moves to the newest version (also picks up other writers' commits).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> _ = tbl.add([{'id': 3, 'vector': [3.0, 1.0]}])
        >>> tbl.checkout(1)
        >>> tbl.checkout_latest()
        >>> tbl.version
        2
        """
        self._inner.checkout_latest()

    def restore(self, version: int | str | None = None) -> int:
        """Makes ``version`` (a number or a tag name; default: the checked-out one) the
        newest version again, as a new commit; returns the new version number.

        Raises
        ------
        InvalidInputError
            No such version, or no tag of that name.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": 1}])
        >>> tbl.tags.create("first")
        >>> _ = tbl.add([{"x": 2}])
        >>> tbl.restore("first"), len(tbl)
        (3, 1)
        """
        if isinstance(version, str):
            tagged = {name: v for name, v, _ in self._inner.list_tags()}
            if version not in tagged:
                raise InvalidInputError(f"no tag named {version!r}")
            version = tagged[version]
        return self._inner.restore(None if version is None else _check.version(version))

    def create_index(
        self,
        column: str | None = None,
        *,
        index_type: str = "HNSW",
        metric: str = "cosine",
        replace: bool = True,
        progress: bool | None = None,
        calibration_queries: Any = None,
        name: str | None = None,
        vector_column_name: str | None = None,
        timeout: datetime.timedelta | float | None = None,
        **params: Any,
    ) -> str:
        """Builds an approximate nearest-neighbour index on a vector column.

        The build uses every core and releases the GIL; Ctrl-C stops it and leaves the table
        unchanged. At the end the index measures its own recall against exact search, so
        searches can ask for a recall (:meth:`Query.target_recall`); by default they get the
        setting calibrated for 0.99 recall@10. The measurement uses ``calibration_queries``
        when given, else rows sampled from the table and moved off the data: real queries
        from another distribution (questions searched against passages) can be harder, so
        pass some when you have them. ``index_stats(name)["calibration"]`` says what was
        measured on; a search whose target recall the curve never reached warns.

        Parameters
        ----------
        column
            The vector column; may be omitted when the table has exactly one
            (``vector_column_name``, LanceDB's name for it, is also accepted).
        index_type
            ``"HNSW"`` (graph over 8-bit scalar-quantized vectors, re-ranked with the full
            ones: the fastest), ``"IVF_PQ"`` (product-quantized partitions), or ``"IVF_RQ"``
            (RaBitQ 1-bit codes: about 1/20 of the vectors' memory, for tables larger than
            RAM).
        metric
            ``"cosine"``, ``"l2"`` or ``"dot"``; searches use it unless they set another.
        replace
            Rebuild an existing index on the column (else that is an error).
        progress
            Draw a progress bar (tqdm: in a terminal or a notebook); default: when stderr is
            a terminal or in a notebook, unless the environment sets ``OXVEC_PROGRESS=0``.
        calibration_queries
            Queries like the ones the index will serve (a 2-D array or list of vectors of the
            column's dimension; a few hundred are enough) to measure recall on.
        name
            The index's name (default ``<column>_idx``; letters, digits, ``_``, ``.``, ``-``).
            A column has one vector index: rebuilding it under another name means dropping
            it first.
        timeout
            A build still running after this long (a ``timedelta`` or seconds) stops with
            :class:`~oxvec.TimedOutError`, leaving the table unchanged.
        **params
            HNSW: ``m`` (16), ``ef_construction`` (150). IVF: ``num_partitions``
            (sqrt(rows)), IVF_PQ ``num_sub_vectors`` (dim/8), ``num_bits`` (8 for PQ, 1 for
            RQ).

        Returns
        -------
        str
            The index's name.

        Raises
        ------
        InvalidInputError
            Unknown index type, metric or parameter, or an empty table.

        Examples
        --------
        >>> import oxvec, numpy as np, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> vecs = np.random.default_rng(1).random((3000, 32), dtype="float32")
        >>> tbl = db.create_table("docs", [{"id": i, "vector": v} for i, v in enumerate(vecs)])
        >>> tbl.create_index(metric="l2", m=8)
        'vector_idx'
        >>> len(tbl.search(vecs[7]).limit(5).to_list())
        5
        >>> tbl.list_indices()[0]["index_type"]
        'HNSW'
        """
        allowed = {"m", "ef_construction", "num_partitions", "num_sub_vectors", "num_bits"}
        unknown = set(params) - allowed
        if unknown:
            raise InvalidInputError(
                f"unknown index parameter(s) {sorted(unknown)}; expected some of {sorted(allowed)}"
            )
        for k, v in params.items():
            params[k] = _check.count(k, v)
        queries = None
        if calibration_queries is not None:
            try:
                arr = np.asarray(calibration_queries, dtype=np.float32)
            except (TypeError, ValueError) as e:
                raise InvalidInputError(f"calibration_queries: {e}") from None
            if arr.ndim != 2 or arr.shape[0] == 0:
                raise InvalidInputError(
                    "calibration_queries must be a non-empty 2-D array of vectors, "
                    f"got shape {arr.shape}"
                )
            queries = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        started = time.perf_counter()
        with time_limit(timeout), _progress.bar(f"{index_type} index", progress) as cb:
            built = self._inner.create_index(
                _check.alias("column", column, "vector_column_name", vector_column_name),
                index_type,
                metric,
                replace,
                progress=cb,
                calibration_queries=queries,
                name=name,
                **{k: int(v) for k, v in params.items()},
            )
        _progress.logger.info(
            "table %s: built %s index %s in %.2f s",
            self.name,
            index_type,
            built,
            time.perf_counter() - started,
        )
        return built

    def create_scalar_index(
        self,
        column: str,
        *,
        index_type: str = "BTREE",
        replace: bool = True,
        name: str | None = None,
        progress: bool | None = None,
    ) -> str:
        """Builds an index over a column's values, so filters on it read only the rows that
        can match.

        ``=``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``, ``IN`` and ``IS NULL`` on the
        column (``array_has_any`` / ``array_has_all`` / ``array_has`` on a list column with
        a ``LABEL_LIST`` index), alone or joined by ``AND`` / ``OR``, are looked up in the
        index; the rest of the filter is evaluated on the rows found. Every filtered read
        uses it: searches, scans, ``count_rows``, ``delete`` and ``update``, and
        ``merge_insert`` keyed by the column alone finds the rows its keys match through
        it. Rows added later are filtered as usual until :meth:`optimize` folds them in.
        ``explain()`` shows when an index narrowed the filter.

        Parameters
        ----------
        column
            An integer, float, string, boolean, date or timestamp (microseconds, no time
            zone) column, or for ``LABEL_LIST`` a list of those.
        index_type
            ``"BTREE"`` (many distinct values, ranges) or ``"BITMAP"`` (few distinct
            values), which answer the comparisons above; ``"LABEL_LIST"`` (a list
            column's elements: tags, labels), which answers ``array_has_any`` and
            ``array_has_all``.
        replace
            Rebuild an index of the same name (else that is an error).
        name
            The index's name; default ``<column>_idx``.
        progress
            Draw a progress bar (tqdm: in a terminal or a notebook); default: when stderr is
            a terminal or in a notebook, unless the environment sets ``OXVEC_PROGRESS=0``.

        Returns
        -------
        str
            The index's name.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": i, "cat": f"c{i % 10}"} for i in range(1000)])
        >>> tbl.create_scalar_index("cat", index_type="BITMAP")
        'cat_idx'
        >>> tbl.count_rows("cat = 'c3' AND id < 500")
        50
        >>> rows = [{"id": 1, "tags": ["red", "big"]}, {"id": 2, "tags": ["red"]}]
        >>> tags = db.create_table("tags", rows)
        >>> tags.create_scalar_index("tags", index_type="LABEL_LIST")
        'tags_idx'
        >>> tags.count_rows("array_has_all(tags, ['red', 'big'])")
        1
        """
        if not isinstance(column, str):
            raise InvalidInputError(f"column must be a column name, got {column!r:.80}")
        if not isinstance(index_type, str):
            raise InvalidInputError(
                f"index_type must be 'BTREE', 'BITMAP' or 'LABEL_LIST', got {index_type!r:.80}"
            )
        with _progress.bar(f"{index_type} index on {column}", progress) as cb:
            return self._inner.create_scalar_index(column, index_type, replace, name, cb)

    def list_indices(self) -> list[dict[str, str]]:
        """The indexes of this version: ``name``, ``index_type`` (``FTS`` for full-text,
        ``BTREE`` / ``BITMAP`` / ``LABEL_LIST`` for scalar), ``column`` (the first, for a
        full-text index over several; ``index_stats`` lists them all), ``metric``
        (``bm25`` for full-text, the column's type for scalar).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.create_scalar_index('id')
        'id_idx'
        >>> [(i['name'], i['index_type']) for i in tbl.list_indices()]
        [('id_idx', 'BTREE')]
        """
        return [
            {"name": n, "index_type": t, "column": c, "metric": m}
            for n, t, c, m in self._inner.list_indices()
        ]

    def index_stats(self, name: str) -> dict[str, Any]:
        """What an index holds: type, parameters, indexed and unindexed rows, size on disk
        and in memory, build time, the process's peak resident memory while it was built
        (``build_peak_rss``, and ``build_peak_anon`` its heap part, in bytes; ``None`` off
        Linux), and the calibrated recall curve (``calibration["points"]``:
        ``[setting, recall@10]`` pairs; ``calibration["refine"]`` when calibration chose a
        deeper re-rank than the kind's default).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.create_scalar_index('id')
        'id_idx'
        >>> tbl.index_stats('id_idx')['index_type']
        'BTREE'
        """
        return json.loads(self._inner.index_stats(name))

    def drop_index(self, name: str) -> None:
        """Removes an index in a new version (older versions keep it).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.create_scalar_index('id')
        'id_idx'
        >>> tbl.drop_index('id_idx')
        >>> tbl.list_indices()
        []
        """
        self._inner.drop_index(name)

    def optimize(
        self,
        *,
        cleanup_older_than: datetime.timedelta | float | None = None,
        progress: bool | None = None,
    ) -> dict[str, int]:
        """Folds rows added since each index was built into it (no retraining), compacts
        small fragments and fragments with many deleted rows, and remaps the indexes onto
        the moved rows, as one new version (none when there is nothing to do).

        Rows not yet in an index are searchable before this (exactly); afterwards the index
        serves them. Deleted rows are dropped from compacted fragments for good, but stay
        readable in older versions until those are cleaned up: pass ``cleanup_older_than``
        to run :meth:`cleanup_old_versions` afterwards.

        Writes compact on their own once 64 small fragments pile up, and clean up versions
        older than 7 days every 100 versions; ``oxvec.connect`` sets both.

        Returns
        -------
        dict
            ``rows_indexed``, ``fragments_removed``, ``fragments_added`` (and with
            ``cleanup_older_than``, the keys of :meth:`cleanup_old_versions`).

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": 0, "vector": [0.0, 1.0]}])
        >>> for i in range(1, 4):
        ...     _ = tbl.add([{"id": i, "vector": [float(i), 1.0]}])
        >>> tbl.optimize()
        {'rows_indexed': 0, 'fragments_removed': 4, 'fragments_added': 1}
        >>> len(tbl), tbl.version
        (4, 5)
        """
        with _progress.bar("optimize", progress) as cb:
            rows, removed, added = self._inner.optimize(cb)
        out = {"rows_indexed": rows, "fragments_removed": removed, "fragments_added": added}
        _progress.logger.info(
            "table %s: optimize indexed %d rows, compacted %d data files into %d",
            self.name,
            rows,
            removed,
            added,
        )
        if cleanup_older_than is not None:
            out.update(self.cleanup_old_versions(cleanup_older_than))
        return out

    def compact_files(self) -> dict[str, int]:
        """Merges small data files into larger ones as one new version (LanceDB's name).

        The same work as :meth:`optimize` without a cleanup: small fragments are rewritten
        together, rows deleted from them are dropped for good, and the indexes are remapped
        (rows added since a build are folded in, too).

        Returns
        -------
        dict
            ``fragments_removed``, ``fragments_added``.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": 0}])
        >>> _ = tbl.add([{"x": 1}])
        >>> tbl.compact_files()
        {'fragments_removed': 2, 'fragments_added': 1}
        """
        out = self.optimize()
        return {k: out[k] for k in ("fragments_removed", "fragments_added")}
