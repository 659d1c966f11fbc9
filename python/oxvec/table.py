"""Tables: versioned sets of rows with vector search, filters and time travel."""

from __future__ import annotations

import datetime
import json
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import _check, _data, _results
from .exceptions import InvalidInputError
from .maintenance import Tags, VerifyReport, as_seconds
from .merge import MergeInsertBuilder
from .query import Query

if TYPE_CHECKING:
    import pandas
    import polars

    from ._oxvec import Table as _Table

__all__ = ["Table"]


def _read(stream: Any) -> pa.Table:
    return _results.read(stream)


class Table:
    """A table of an oxvec database. Get one from ``Database.create_table`` or ``open_table``.

    Reads see the version the handle is on (``version``), which by default moves to the newest
    version before each read (``read_consistency_interval`` in :func:`oxvec.connect`); writes
    always go on top of the newest version and move the handle there. ``checkout(v)`` pins
    reads to an older version (or a tag) until ``checkout_latest()``.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> tbl = db.create_table("t", [{"id": i, "vector": [float(i), 0.0]} for i in range(5)])
    >>> len(tbl), tbl.version
    (5, 1)
    >>> tbl.delete("id >= 3")
    2
    >>> tbl.search([0.9, 0.0]).limit(2).to_list()[0]["id"]
    1
    """

    __slots__ = ("_inner", "_schema", "_schema_version")

    _inner: _Table

    @classmethod
    def _wrap(cls, inner: _Table) -> Table:
        t = object.__new__(cls)
        t._inner = _check.native(inner)
        t._schema = None
        t._schema_version = -1
        return t

    def __repr__(self) -> str:
        return f"oxvec.Table({self.name!r}, version={self.version})"

    @property
    def name(self) -> str:
        """The table's name."""
        return self._inner.name

    @property
    def version(self) -> int:
        """The version this handle reads."""
        return self._inner.version

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the current version."""
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

    def add(self, data: Any) -> None:
        """Appends rows as one new version (all of them, or none on error).

        Accepts the same data as ``Database.create_table``; columns are matched by name and
        converted to the table's types.

        Raises
        ------
        SchemaError, InvalidInputError
            Nothing is written when either is raised.
        """
        self._inner.add(_data.to_stream(data))

    def delete(self, where: str, params: Sequence[Any] | None = None) -> int:
        """Deletes rows matching the SQL condition ``where``; returns how many.

        Pass user values as ``params`` bound to ``?`` placeholders, never by formatting them
        into the string: ``tbl.delete("id = ?", [user_id])``.
        """
        return self._inner.delete(where, params)

    def update(
        self,
        where: str | None = None,
        values: Mapping[str, Any] | None = None,
        values_sql: Mapping[str, str] | None = None,
        *,
        params: Sequence[Any] | None = None,
    ) -> int:
        """Sets columns on the rows matching ``where`` (all rows if ``None``); returns how many.

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
        1
        >>> tbl.to_arrow()["n"].to_pylist()
        [42]
        """
        stream = None if values is None else _data.one_row(values)
        if values_sql is not None and not (
            isinstance(values_sql, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in values_sql.items())
        ):
            raise InvalidInputError(
                f"values_sql must map column names to SQL expressions, got {values_sql!r:.80}"
            )
        return self._inner.update(where, params, stream, dict(values_sql) if values_sql else None)

    def head(self, n: int = 5) -> pa.Table:
        """The first ``n`` rows."""
        return _read(self._inner.scan(limit=_check.count("n", n, minimum=0)))

    def to_arrow(self) -> pa.Table:
        """Every row as a pyarrow Table."""
        return _read(self._inner.scan())

    def to_pandas(self) -> pandas.DataFrame:
        """Every row as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """Every row as a Polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())  # type: ignore[return-value]

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Arrow PyCapsule export, so ``pl.DataFrame(tbl)`` or DuckDB can read the table."""
        return self._inner.scan().__arrow_c_stream__(requested_schema)

    def search(self, vector: Any = None, *, vector_column: str | None = None) -> Query:
        """Starts a query: nearest neighbours of ``vector``, or a filtered scan if ``None``.

        ``vector`` may be one vector (list or 1-D array) or a 2-D array of many queries; the
        results then carry ``query_index``. See :class:`oxvec.Query`.
        """
        return Query(self._inner, vector, vector_column)

    def list_versions(self) -> list[dict[str, Any]]:
        """Every version: ``version``, ``timestamp`` (UTC datetime), ``operation``, ``rows``."""
        return [
            {
                "version": v,
                "timestamp": datetime.datetime.fromtimestamp(ts / 1e6, tz=datetime.timezone.utc),
                "operation": op,
                "rows": rows,
            }
            for v, ts, op, rows in self._inner.list_versions()
        ]

    def checkout(self, version: int | str) -> None:
        """Pins reads to ``version`` (a number or a tag name). Writes are refused until
        ``checkout_latest`` or ``restore``."""
        if isinstance(version, str):
            self._inner.checkout_tag(version)
        else:
            self._inner.checkout(_check.version(version))

    @property
    def tags(self) -> Tags:
        """Named versions: ``tbl.tags.create(name, version)``, ``.list()``, ``.delete(name)``."""
        return Tags(self._inner)

    def merge_insert(self, on: str | Sequence[str]) -> MergeInsertBuilder:
        """Starts an upsert keyed on ``on`` (one column or several); see
        :class:`~oxvec.merge.MergeInsertBuilder`."""
        return MergeInsertBuilder(self._inner, on)

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
        1
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
        """Moves to the newest version (also picks up other writers' commits)."""
        self._inner.checkout_latest()

    def restore(self, version: int | None = None) -> int:
        """Makes ``version`` (default: the checked-out one) the newest version again, as a new
        commit; returns the new version number."""
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
            The vector column; may be omitted when the table has exactly one.
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
            Draw a progress bar on stderr; default: when stderr is a terminal.
        calibration_queries
            Queries like the ones the index will serve (a 2-D array or list of vectors of the
            column's dimension; a few hundred are enough) to measure recall on.
        **params
            HNSW: ``m`` (16), ``ef_construction`` (150). IVF: ``num_partitions``
            (sqrt(rows)), IVF_PQ ``num_sub_vectors`` (dim/8), ``num_bits`` (8 for PQ, 1 for
            RQ).

        Returns
        -------
        str
            The index's name, ``<column>_idx``.

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
        if progress is None:
            progress = sys.stderr.isatty()
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
        return self._inner.create_index(
            column,
            index_type,
            metric,
            replace,
            progress=bool(progress),
            calibration_queries=queries,
            **{k: int(v) for k, v in params.items()},
        )

    def list_indices(self) -> list[dict[str, str]]:
        """The vector indexes of this version: ``name``, ``index_type``, ``column``,
        ``metric``."""
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
        deeper re-rank than the kind's default)."""
        return json.loads(self._inner.index_stats(name))

    def drop_index(self, name: str) -> None:
        """Removes an index in a new version (older versions keep it)."""
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
        ...     tbl.add([{"id": i, "vector": [float(i), 1.0]}])
        >>> tbl.optimize()
        {'rows_indexed': 0, 'fragments_removed': 4, 'fragments_added': 1}
        >>> len(tbl), tbl.version
        (4, 5)
        """
        if progress is None:
            progress = sys.stderr.isatty()
        rows, removed, added = self._inner.optimize(bool(progress))
        out = {"rows_indexed": rows, "fragments_removed": removed, "fragments_added": added}
        if cleanup_older_than is not None:
            out.update(self.cleanup_old_versions(cleanup_older_than))
        return out
