"""The query builder: ``tbl.search(vec).where(...).select(...).limit(k).to_arrow()``."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa

from . import _check, _results
from ._blobs import BlobFile, blob_files
from ._oxvec import project_stream
from ._select import ENGINE_COLUMNS, Selection, selection
from ._timeout import time_limit
from .exceptions import FilterError, InvalidInputError, TimedOutError
from .fts import FullTextQuery

if TYPE_CHECKING:
    import pandas
    import polars

    from ._oxvec import Table as _Table

__all__ = ["Query"]

ModelT = TypeVar("ModelT")

_DEFAULT_K = 10


def _describe_vector(vector: Any) -> str:
    """A query vector's shape for a repr (a 1,536-value vector is not spelled out)."""
    try:
        shape = np.shape(vector)
    except (TypeError, ValueError):
        return f"<{type(vector).__name__}>"
    if len(shape) == 1:
        return f"<{shape[0]} values>"
    if len(shape) == 2:
        return f"<{shape[0]} vectors of {shape[1]} values>"
    return f"<{type(vector).__name__}>"


class Query:
    """A search being built. Each method returns the query, so calls chain.

    Results of a vector search carry ``_distance`` (ascending; squared L2, ``1 - cosine``
    or ``1 - dot``), plus ``query_index`` when several query vectors were given. Results
    of a full-text search carry ``_score`` (BM25, descending). With no query, the query is
    a filtered scan.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> rows = [
    ...     {"id": i, "kind": "a" if i % 2 else "b", "vector": [float(i), 1.0]} for i in range(6)
    ... ]
    >>> tbl = db.create_table("t", rows)
    >>> hits = tbl.search([4.2, 1.0]).where("kind = ?", ["a"]).select(["id"]).limit(2).to_list()
    >>> [(h["id"], round(h["_distance"], 2)) for h in hits]
    [(5, 0.64), (3, 1.44)]
    >>> tbl.search().where("id < 2").to_arrow().num_rows
    2
    >>> [r["id"] for r in tbl.search().select(["id"]).offset(2).limit(2).to_list()]
    [2, 3]
    """

    __slots__ = (
        "_all",
        "_bm25",
        "_bypass",
        "_ef",
        "_filter",
        "_k",
        "_metric",
        "_nprobes",
        "_offset",
        "_params",
        "_range",
        "_refine",
        "_row_id",
        "_selection",
        "_table",
        "_target_recall",
        "_text",
        "_vector",
        "_vector_column",
    )

    def __init__(
        self,
        table: _Table,
        vector: Any,
        vector_column: str | None,
        text: FullTextQuery | None = None,
    ) -> None:
        self._table = table
        self._vector = vector
        self._vector_column = vector_column
        self._text = text
        self._offset = 0
        self._bm25 = (1.2, 0.75)
        self._metric: str | None = None
        self._ef: int | None = None
        self._nprobes: int | None = None
        self._refine: int | None = None
        self._target_recall: float | None = None
        self._bypass = False
        self._filter: str | None = None
        self._params: Sequence[Any] | None = None
        self._selection: Selection | None = None
        self._k: int | None = None
        self._all = False
        self._row_id = False
        self._range: tuple[float | None, float | None] | None = None

    def __repr__(self) -> str:
        """What the query asks, as set so far.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": 1, "vector": [0.5, 1.0]}])
        >>> tbl.search([0.5, 1.0]).where("id > 0").select(["id"]).limit(3)
        oxvec.Query('t', vector=<2 values>, where='id > 0', select=['id'], limit=3)
        >>> tbl.search()
        oxvec.Query('t')
        """
        parts = [repr(self._table.name)]
        if self._vector is not None:
            parts.append(f"vector={_describe_vector(self._vector)}")
        asked = [
            ("vector_column", self._vector_column),
            ("text", self._text),
            ("where", self._filter),
            ("select", self._selection),
            ("limit", self._k),
            ("offset", self._offset or None),
            ("metric", self._metric),
        ]
        parts += [f"{name}={value!r}" for name, value in asked if value is not None]
        if self._all:
            parts.append("limit=None")
        return f"oxvec.Query({', '.join(parts)})"

    def metric(self, metric: str) -> Query:
        """``"l2"``, ``"cosine"`` or ``"dot"``. Default: the index's metric when the column
        has an index, else ``"l2"``. A metric other than the index's searches exactly.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search([2.0, 1.0]).metric("cosine").limit(1).to_list()[0]["id"]
        2
        """
        self._metric = metric
        return self

    def ef(self, ef: int) -> Query:
        """HNSW search breadth: more is slower and more accurate. Default: calibrated at
        build time to reach recall@10 of 0.99 on sampled queries (held-out queries on the
        benchmark sets: 0.98-0.99).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search([2.0, 1.0]).ef(64).limit(1).to_list()[0]["id"]
        2
        """
        self._ef = _check.count("ef", ef)
        return self

    def nprobes(self, nprobes: int) -> Query:
        """IVF partitions scanned per query. Default: calibrated like :meth:`ef`.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search([2.0, 1.0]).nprobes(4).limit(1).to_list()[0]["id"]
        2
        """
        self._nprobes = _check.count("nprobes", nprobes)
        return self

    def refine_factor(self, factor: int) -> Query:
        """Re-rank ``limit * factor`` index candidates with the full vectors. Defaults: HNSW
        re-ranks its whole beam, IVF_PQ 10, IVF_RQ 20, or the deeper factor the index's
        calibration chose when those capped its recall (``index_stats()["calibration"]``).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search([2.0, 1.0]).refine_factor(4).limit(1).to_list()[0]["id"]
        2
        """
        self._refine = _check.count("refine_factor", factor)
        return self

    def target_recall(self, recall: float) -> Query:
        """Ask for a recall@10 instead of a knob: the index picks the smallest ``ef`` /
        ``nprobes`` its build-time calibration measured to reach ``recall``.

        Examples
        --------
        >>> import oxvec, numpy as np, tempfile
        >>> rng = np.random.default_rng(0)
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"vector": v} for v in rng.random((2000, 16))])
        >>> tbl.create_index(index_type="HNSW", metric="l2")
        'vector_idx'
        >>> len(tbl.search(rng.random(16)).target_recall(0.99).limit(5).to_list())
        5
        """
        self._target_recall = _check.fraction("target_recall", recall)
        return self

    def bypass_vector_index(self) -> Query:
        """Search exactly even when the column has an index (the ground truth).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search([2.0, 1.0]).bypass_vector_index().limit(1).to_list()[0]["id"]
        2
        """
        self._bypass = True
        return self

    distance_type = metric

    def where(
        self, sql: str, params: Sequence[Any] | None = None, *, prefilter: bool = True
    ) -> Query:
        """Keeps rows for which the SQL condition holds; ``?`` placeholders bind ``params``.

        The filter always applies before the nearest neighbours are chosen, so a search
        returns its ``limit`` of matching rows when that many exist. ``prefilter`` is
        accepted for code written for LanceDB, where ``prefilter=False`` filters the
        nearest neighbours after choosing them (and may return fewer); here it changes
        nothing.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> [r["id"] for r in tbl.search([0.0, 1.0]).where("id >= ?", [3]).limit(2).to_list()]
        [3, 4]
        """
        _check.flag("prefilter", prefilter)
        self._filter = sql
        self._params = params
        return self

    def select(self, columns: Sequence[str] | Mapping[str, str]) -> Query:
        """Returns only these columns, or columns computed by SQL expressions.

        ``columns`` is a list of column names, or a dict from output name to an
        expression in the filter language (``"upper(title)"``, ``"price * 1.2"``,
        ``"meta.lang"``, ``"_distance < 0.5"``). The search's own columns (``_distance``,
        ``_score``, ``_rowid``) can be named in either form; left out, they follow the
        selected ones.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table(
        ...     "t", [{"id": i, "name": n, "vector": [float(i), 0.0]}
        ...           for i, n in enumerate(["ann", "bob", "cy"])]
        ... )
        >>> tbl.search().select({"id": "id", "shout": "upper(name) || '!'"}).to_list()[0]
        {'id': 0, 'shout': 'ANN!'}
        >>> hit = tbl.search([1.0, 0.0]).select({"who": "name"}).limit(1).to_list()[0]
        >>> hit
        {'who': 'bob', '_distance': 0.0}
        >>> tbl.search([1.0, 0.0]).select(["_distance", "id"]).limit(1).to_list()
        [{'_distance': 0.0, 'id': 1}]
        """
        self._selection = selection(columns)
        return self

    def _reads(self) -> list[str] | None:
        """Every column the selection reads, the search's own included (``None``: all)."""
        if self._selection is None:
            return None
        if self._selection.outputs is None:
            return self._selection.names
        schema = pa.RecordBatchReader.from_stream(self._table.schema_stream()).schema
        if self._text is not None:
            added = ["_score", "_rowid"]
        elif self._vector is not None:
            added = ["_distance", "_rowid", "query_index"]
        else:
            added = ["_rowid"]
        return self._selection.reads(schema, added)

    def _columns(self) -> list[str] | None:
        """The table columns the engine returns for the selection (``None``: all)."""
        reads = self._reads()
        return None if reads is None else [c for c in reads if c not in ENGINE_COLUMNS]

    def _row_ids(self) -> bool:
        """Whether the engine adds ``_rowid``: asked, or named by the selection."""
        return self._row_id or "_rowid" in (self._reads() or [])

    def _project(self, result: Any) -> Any:
        if self._selection is None:
            return result
        return self._selection.apply(result, row_id=self._row_id)

    def limit(self, k: int | None) -> Query:
        """At most ``k`` results (per query vector). Default 10 for vector search, all rows
        for a scan. ``None`` asks for every result: all matching rows, nearest first (a
        vector or full-text search returns at most 1,048,576 rows).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> len(tbl.search([0.0, 1.0]).limit(2).to_list()), len(tbl.search().limit(None).to_list())
        (2, 5)
        """
        self._all = k is None
        self._k = None if k is None else _check.count("limit", k)
        return self

    def _limit(self) -> int:
        """The ``k`` a search asks the engine for: the limit set, the default, or with
        ``limit(None)`` enough for every matching row."""
        if not self._all:
            return self._k or _DEFAULT_K
        n = self._table.count_rows()
        if n + self._offset > _check.MAX_RESULTS and self._filter is not None:
            n = self._table.count_rows(self._filter, self._params)
        if n + self._offset > _check.MAX_RESULTS:
            raise InvalidInputError(
                f"limit(None) would return {n:,} rows; a vector or full-text search returns "
                f"at most {_check.MAX_RESULTS:,}: narrow it with where(), or read a scan"
            )
        return max(n, 1)

    def distance_range(
        self, lower_bound: float | None = None, upper_bound: float | None = None
    ) -> Query:
        """Keeps vector-search results with ``lower_bound <= _distance < upper_bound``
        (either bound may be ``None``): the ``limit`` nearest rows within the range, so rows
        nearer than ``lower_bound`` do not use up the limit.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "vector": [float(i), 0.0]} for i in range(10)]
        ... )
        >>> hits = tbl.search([0.0, 0.0]).distance_range(4.0, 30.0).limit(3).to_list()
        >>> [(h["id"], h["_distance"]) for h in hits]
        [(2, 4.0), (3, 9.0), (4, 16.0)]
        """
        bounds = []
        for name, v in (("lower_bound", lower_bound), ("upper_bound", upper_bound)):
            if v is None:
                bounds.append(None)
                continue
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            if not ok or not np.isfinite(v):
                raise InvalidInputError(f"{name} must be a finite number or None, got {v!r:.80}")
            bounds.append(float(v))
        lo, hi = bounds
        if lo is not None and hi is not None and lo >= hi:
            raise InvalidInputError(f"lower_bound {lo} must be below upper_bound {hi}")
        self._range = None if lo is None and hi is None else (lo, hi)
        return self

    def _ranged(self) -> Any:
        """A vector search kept to ``distance_range``: asks the engine for more neighbours
        until ``limit`` of them are in range, or none can be."""
        lo, hi = self._range or (None, None)
        if np.ndim(self._vector) == 2 and np.shape(self._vector)[0] > 1:
            raise InvalidInputError("distance_range takes one query vector")
        k = self._limit()
        fetch = k
        while True:
            table = _results.read(self._table.search(*self._search_args(fetch)))
            d = table["_distance"].to_numpy(zero_copy_only=False)
            keep = np.ones(len(d), dtype=bool)
            if lo is not None:
                keep &= d >= lo
            if hi is not None:
                keep &= d < hi
            kept = table.filter(pa.array(keep))
            exhausted = table.num_rows < fetch or fetch >= _check.MAX_RESULTS
            past = hi is not None and len(d) > 0 and d[-1] >= hi
            if kept.num_rows >= k or exhausted or past:
                out = kept.slice(0, k)
                names = [(c, None) for c in out.column_names]
                return project_stream(out, names, [])
            fetch = min(_check.MAX_RESULTS, 2 * fetch + int((~keep).sum()))

    def offset(self, n: int) -> Query:
        """Skips the first ``n`` results (pagination of scans and full-text searches): with
        ``limit(k)``, results ``n`` to ``n + k - 1``.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> [r["id"] for r in tbl.search().offset(1).limit(2).to_list()]
        [1, 2]
        """
        self._offset = _check.count("offset", n, minimum=0)
        return self

    def bm25(self, k1: float = 1.2, b: float = 0.75) -> Query:
        """BM25's knobs for a full-text search: ``k1`` (term-frequency saturation, >= 0)
        and ``b`` (length normalisation, 0 to 1). Defaults 1.2 and 0.75, as in Lucene.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.create_fts_index("text")
        'text_idx'
        >>> len(tbl.search("doc", query_type="fts").bm25(k1=1.5, b=0.5).to_list())
        5
        """
        self._bm25 = _bm25_knobs(k1, b)
        return self

    def with_row_id(self, enabled: bool = True) -> Query:
        """Adds ``_rowid``, a stable id of each row within its version.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search().with_row_id().limit(1).to_arrow().column_names[-1]
        '_rowid'
        """
        self._row_id = enabled
        return self

    def _execute(self, timeout: datetime.timedelta | float | None = None) -> Any:
        with time_limit(timeout):
            return self._run()

    def _run(self) -> Any:
        if self._range is not None and self._vector is None:
            raise InvalidInputError("distance_range applies to a vector search")
        if self._text is not None:
            return self._project(self._table.search_text(*self._text_args()))
        if self._vector is None:
            return self._project(
                self._table.scan(
                    self._filter,
                    self._params,
                    self._columns(),
                    self._k,
                    self._offset,
                    self._row_ids(),
                )
            )
        if self._range is not None:
            return self._project(self._ranged())
        return self._project(self._table.search(*self._search_args()))

    def _text_args(self) -> tuple[Any, ...]:
        assert self._text is not None
        knobs = {
            "metric": self._metric,
            "ef": self._ef,
            "nprobes": self._nprobes,
            "refine_factor": self._refine,
            "target_recall": self._target_recall,
        }
        set_knobs = [k for k, v in knobs.items() if v is not None] + (
            ["bypass_vector_index"] if self._bypass else []
        )
        if set_knobs:
            raise InvalidInputError(
                f"{', '.join(set_knobs)} applies to vector search, not to a full-text search"
            )
        k1, b = self._bm25
        return (
            self._text._json(),
            self._limit(),
            self._offset,
            self._filter,
            self._params,
            self._columns(),
            self._row_ids(),
            k1,
            b,
        )

    def explain(self) -> str:
        """How the query will run, as text: the version it reads, the path (which index and
        search knob, or exact search and why), the filter strategy with the number of
        matching rows, and an estimate of the rows scanned. Runs no search.

        Examples
        --------
        >>> import oxvec, numpy as np, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": i, "vector": [float(i), 1.0]} for i in range(100)])
        >>> print(tbl.search([3.0, 1.0]).where("id < 50").limit(3).explain())
        vector search on version 1: column 'vector' (2-d), metric l2 (default), k=3, 1 query
          path: exact search (the column has no vector index)
          filter: id < 50 (50 of 100 live rows match, 50.0%)
          filter strategy: evaluated first; only matching rows are searched
          estimated rows scanned: 50
          output: id, vector, _distance
        """
        if self._text is not None:
            return self._table.explain_text(*self._text_args())
        if self._vector is None:
            raise InvalidInputError(
                "explain() describes a vector or full-text search; give a query"
            )
        return self._table.explain(*self._search_args())

    def _search_args(self, k: int | None = None) -> tuple[Any, ...]:
        if self._offset:
            raise InvalidInputError(
                "offset() pages scans and full-text searches; for a vector search, raise "
                "limit() and skip the first rows"
            )
        try:
            q = np.asarray(self._vector, dtype="<f4")
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"query vector must be numeric: {e}") from e
        if q.ndim == 1:
            nq = 1
        elif q.ndim == 2:
            nq = q.shape[0]
        else:
            raise InvalidInputError(f"query must be 1-D or 2-D, got shape {q.shape}")
        if q.size == 0:
            raise InvalidInputError("query vector is empty")
        return (
            np.ascontiguousarray(q).tobytes(),
            nq,
            self._vector_column,
            self._metric,
            self._limit() if k is None else k,
            self._filter,
            self._params,
            self._columns(),
            self._row_ids(),
            self._ef,
            self._nprobes,
            self._refine,
            self._target_recall,
            self._bypass,
        )

    def to_arrow(self, *, timeout: datetime.timedelta | float | None = None) -> pa.Table:
        """Runs the query; results as a pyarrow Table.

        ``timeout`` (a ``timedelta`` or seconds; every ``to_*`` method takes it) stops a
        query still running after that long with :class:`~oxvec.TimedOutError`.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search([1.0, 1.0]).limit(2).to_arrow(timeout=60).column_names
        ['id', 'text', 'vector', '_distance']
        """
        return _results.read(self._execute(timeout))

    def to_batches(
        self,
        batch_size: int | None = None,
        *,
        timeout: datetime.timedelta | float | None = None,
    ) -> pa.RecordBatchReader:
        """Runs the query; results as a stream of record batches of at most ``batch_size``
        rows (default 16,384).

        A scan (no query vector or text) streams: each batch is read from the data files
        when it is asked for, so memory stays around one batch however large the table
        (even larger than RAM); the stream reads the version current when it started. A
        vector or full-text search returns at most its ``limit``, which is computed first
        (within ``timeout``, if given) and then handed out in batches. A streamed scan's
        ``timeout`` runs from this call until the stream is read out.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", [{"x": i} for i in range(10)])
        >>> reader = tbl.search().where("x >= 3").to_batches(4)
        >>> [b.num_rows for b in reader]
        [4, 3]
        """
        size = 16384 if batch_size is None else _check.count("batch_size", batch_size)
        if self._text is None and self._vector is None:
            with time_limit(timeout):
                stream = self._table.scan_stream(
                    self._filter,
                    self._params,
                    self._columns(),
                    self._k,
                    self._offset,
                    self._row_ids(),
                    size,
                )
                stream = self._project(stream)
            reader = pa.RecordBatchReader.from_stream(stream)
            return _typed_errors(reader)
        result = self.to_arrow(timeout=timeout)
        return pa.RecordBatchReader.from_batches(
            result.schema, result.to_batches(max_chunksize=size)
        )

    def output_schema(self) -> pa.Schema:
        """The schema of the results, without running the query.

        The selected columns (all by default), then ``_distance`` (vector search) or
        ``_score`` (full-text search), ``_rowid`` when asked, and ``query_index`` for
        several query vectors. Only the selected column names are checked here: a filter
        or a query vector that does not fit the table fails when the query runs.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table(
        ...     "t", [{"id": 1, "text": "hi", "vector": [0.5, 1.0]}]
        ... )
        >>> tbl.search([0.5, 1.0]).select(["id"]).with_row_id().output_schema().names
        ['id', '_distance', '_rowid']
        """
        table = pa.RecordBatchReader.from_stream(self._table.schema_stream()).schema
        columns = self._columns()
        names = table.names if columns is None else columns
        unknown = [c for c in names if c not in table.names]
        if unknown:
            raise InvalidInputError(
                f"unknown column '{unknown[0]}' in select; the table has {table.names}"
            )
        fields = [table.field(c) for c in names]
        if self._text is not None:
            fields.append(pa.field("_score", pa.float32(), nullable=False))
        elif self._vector is not None:
            fields.append(pa.field("_distance", pa.float32(), nullable=False))
        if self._row_ids():
            fields.append(pa.field("_rowid", pa.uint64(), nullable=False))
        several = np.ndim(self._vector) == 2 and np.shape(self._vector)[0] > 1
        if self._text is None and self._vector is not None and several:
            fields.append(pa.field("query_index", pa.uint32(), nullable=False))
        schema = pa.schema(fields)
        if self._selection is not None and self._selection.outputs is not None:
            return self._selection.apply_table(schema.empty_table(), row_id=self._row_id).schema
        return schema

    def to_pydantic(
        self, model: type[ModelT], *, timeout: datetime.timedelta | float | None = None
    ) -> list[ModelT]:
        """Runs the query; each result as an instance of the Pydantic ``model``.

        Each row fills the model's fields by name; other columns (``_distance`` among
        them: Pydantic keeps names starting with ``_`` private) are left out.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> from pydantic import BaseModel
        >>> class Hit(BaseModel):
        ...     id: int
        >>> tbl = oxvec.connect(tempfile.mkdtemp()).create_table(
        ...     "t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)]
        ... )
        >>> tbl.search([2.0, 1.0]).limit(1).to_pydantic(Hit)
        [Hit(id=2)]
        """
        fields = getattr(model, "model_fields", None)
        if fields is None:
            raise InvalidInputError(f"to_pydantic takes a Pydantic model class, got {model!r:.80}")
        rows = self.to_list(timeout=timeout)
        return [model(**{k: v for k, v in r.items() if k in fields}) for r in rows]

    def to_numpy(
        self, *, timeout: datetime.timedelta | float | None = None
    ) -> dict[str, np.ndarray]:
        """Runs the query; each result column as a NumPy array, by name.

        Number columns without nulls and vector columns (as 2-D ``(rows, dim)`` arrays) come
        straight from the engine, which makes this the fastest way to read a small result:
        a k-NN query answered this way skips pyarrow entirely. Other columns are converted by
        pyarrow (strings and nested values as object arrays; nulls as ``NaN`` or ``None``).
        Arrays are writable and owned by the caller.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": i, "vector": [float(i), 0.0]} for i in range(5)])
        >>> hits = tbl.search([3.1, 0.0]).select(["id", "vector"]).limit(2).to_numpy()
        >>> hits["id"], hits["vector"].shape
        (array([3, 4]), (2, 2))
        """
        result = self._execute(timeout)
        table: pa.Table | None = None
        out: dict[str, np.ndarray] = {}
        for name, payload in result.numpy_columns():
            if payload is None:
                if table is None:
                    table = _results.read(result)
                out[name] = table[name].to_numpy()
            else:
                dtype, data, width = payload
                values = np.frombuffer(data, dtype=dtype)
                out[name] = values.reshape(-1, width) if width else values
        return out

    def to_pandas(self, *, timeout: datetime.timedelta | float | None = None) -> pandas.DataFrame:
        """Runs the query; results as a pandas DataFrame.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search().where("id < 2").to_pandas()["id"].tolist()
        [0, 1]
        """
        return self.to_arrow(timeout=timeout).to_pandas()

    def to_polars(self, *, timeout: datetime.timedelta | float | None = None) -> polars.DataFrame:
        """Runs the query; results as a Polars DataFrame.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search().where("id < 2").to_polars()["id"].to_list()
        [0, 1]
        """
        import polars as pl

        return pl.from_arrow(self.to_arrow(timeout=timeout))  # type: ignore[return-value]

    def to_list(self, *, timeout: datetime.timedelta | float | None = None) -> list[dict[str, Any]]:
        """Runs the query; results as a list of dicts.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(5)]
        ... )
        >>> tbl.search().where("id = 3").select(["id", "text"]).to_list()
        [{'id': 3, 'text': 'doc 3'}]
        """
        return self.to_arrow(timeout=timeout).to_pylist()

    def to_blobs(
        self, column: str, *, timeout: datetime.timedelta | float | None = None
    ) -> list[BlobFile]:
        """Runs the query; each result's value of the binary ``column`` as a file-like
        :class:`~oxvec.BlobFile`, in result order, whose bytes are read only when the handle
        is first read (the query itself reads none of them).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table(
        ...     "t", [{"id": i, "image": bytes([i]) * 1000} for i in range(3)]
        ... )
        >>> handles = tbl.search().where("id > 0").to_blobs("image")
        >>> [len(h.read()) for h in handles]
        [1000, 1000]
        """
        ids = self._for_blobs().to_arrow(timeout=timeout)["_rowid"].to_pylist()
        table = self._table_handle()
        return blob_files(table, column, ids)

    def _for_blobs(self) -> Query:
        """This query returning row ids alone."""
        q = Query.__new__(Query)
        for name in Query.__slots__:
            setattr(q, name, getattr(self, name))
        q._row_id = True
        q._selection = Selection([], [("_rowid", None)])
        return q

    def _table_handle(self) -> Any:
        from .table import Table

        return Table._wrap(self._table)

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Runs the query and exports the result through the Arrow PyCapsule interface."""
        return self._execute().__arrow_c_stream__(requested_schema)


#: Engine errors a stream can only carry as text, by the start of their message.
_STREAM_ERRORS = (
    ("did not finish within its timeout", TimedOutError),
    ("invalid filter", FilterError),
    ("invalid select expression", FilterError),
)


def _typed_errors(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """``reader`` raising oxvec's exceptions (:class:`~oxvec.TimedOutError`,
    :class:`~oxvec.FilterError`) where the engine's error reached the Arrow stream as text."""

    def batches() -> Any:
        try:
            yield from reader
        except pa.ArrowException as e:
            text = str(e)
            for marker, kind in _STREAM_ERRORS:
                if marker in text:
                    raise kind(text.split("External error: ", 1)[-1]) from e
            raise

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _bm25_knobs(k1: Any, b: Any) -> tuple[float, float]:
    """``(k1, b)`` checked: ``k1`` finite and >= 0, ``b`` in [0, 1]."""
    for name, v, hi in (("k1", k1, None), ("b", b, 1.0)):
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        if not ok or not np.isfinite(v) or v < 0 or (hi is not None and v > hi):
            bound = f"between 0 and {hi}" if hi is not None else "a finite number >= 0"
            raise InvalidInputError(f"{name} must be {bound}, got {v!r:.80}")
    return (float(k1), float(b))
