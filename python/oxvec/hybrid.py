"""Hybrid search: a vector search and a full-text search fused by a reranker."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import _check, _results
from ._select import Selection, selection
from ._timeout import time_limit
from .exceptions import InvalidInputError
from .fts import FullTextQuery, plain
from .rerankers import Reranker, RRFReranker

if TYPE_CHECKING:
    import pandas
    import polars

    from ._oxvec import Table as _Table

__all__ = ["HybridQuery"]

_DEFAULT_K = 10


class HybridQuery:
    """A vector search and a full-text search on the same version, with the same filter,
    fused into one ranking by a reranker (:class:`~oxvec.rerankers.RRFReranker` unless
    :meth:`rerank` says otherwise).

    Each leg fetches twice the limit (plus the offset) so the fusion has candidates from
    both; :meth:`limit` and :meth:`offset` apply to the fused list. Results carry
    ``_relevance_score`` (descending) and the legs' ``_distance`` and ``_score`` (null
    where a leg did not find the row).

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> tbl = db.create_table("t", [
    ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
    ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
    ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
    ... ])
    >>> tbl.create_fts_index("text")
    'text_idx'
    >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector").limit(2)
    >>> [r["id"] for r in q.to_list()]
    [1, 3]
    """

    __slots__ = (
        "_all",
        "_bm25",
        "_filter",
        "_fts_columns",
        "_k",
        "_knobs",
        "_metric",
        "_offset",
        "_params",
        "_reranker",
        "_row_id",
        "_selection",
        "_table",
        "_text",
        "_vector",
        "_vector_column",
    )

    def __init__(
        self,
        table: _Table,
        vector: Any = None,
        text: FullTextQuery | None = None,
        vector_column: str | None = None,
        columns: list[str] | None = None,
    ) -> None:
        self._table = table
        self._vector = vector
        self._text = text
        self._vector_column = vector_column
        self._fts_columns = columns
        self._filter: str | None = None
        self._params: Sequence[Any] | None = None
        self._selection: Selection | None = None
        self._k: int | None = None
        self._all = False
        self._offset = 0
        self._row_id = False
        self._metric: str | None = None
        self._knobs: dict[str, Any] = {}
        self._bm25 = (1.2, 0.75)
        self._reranker: Reranker = RRFReranker()

    def vector(self, vector: Any) -> HybridQuery:
        """The vector leg's query vector (one vector).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.vector([0.0, 1.0]).limit(1).to_list()]
        [3]
        """
        self._vector = vector
        return self

    def text(self, text: str | FullTextQuery) -> HybridQuery:
        """The full-text leg's query: a string (any of its words, in the ``fts_columns``
        given to ``search``, else every indexed column) or a structured query from
        :mod:`oxvec.fts`.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.text('python').limit(1).to_list()]
        [2]
        """
        if isinstance(text, str):
            text = plain(text, self._fts_columns)
        if not isinstance(text, FullTextQuery):
            raise InvalidInputError(
                f"text() takes a string or an oxvec.fts query, got {text!r:.80}"
            )
        self._text = text
        return self

    def rerank(self, reranker: Reranker) -> HybridQuery:
        """Fuses the legs with ``reranker`` (see :mod:`oxvec.rerankers`).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> from oxvec.rerankers import LinearCombinationReranker
        >>> [r['id'] for r in q.rerank(LinearCombinationReranker(weight=0.9)).limit(1).to_list()]
        [1]
        """
        if not isinstance(reranker, Reranker):
            raise InvalidInputError(
                f"rerank() takes an oxvec.rerankers.Reranker, got {reranker!r:.80}"
            )
        self._reranker = reranker
        return self

    def where(
        self, sql: str, params: Sequence[Any] | None = None, *, prefilter: bool = True
    ) -> HybridQuery:
        """Both legs keep only rows for which the SQL condition holds (before choosing their
        results; ``prefilter`` is accepted as in :meth:`Query.where`).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.where('id > ?', [1]).limit(1).to_list()]
        [3]
        """
        _check.flag("prefilter", prefilter)
        self._filter = sql
        self._params = params
        return self

    def select(self, columns: Sequence[str] | Mapping[str, str]) -> HybridQuery:
        """Returns only these columns, or columns computed by SQL expressions (as in
        :meth:`oxvec.Query.select`; ``_relevance_score`` can be named too).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> q.select({'double': 'id * 2'}).limit(1).to_list()[0]['double']
        2
        """
        self._selection = selection(columns)
        return self

    def _columns(self) -> list[str] | None:
        if self._selection is None:
            return None
        if self._selection.outputs is None:
            return self._selection.names
        schema = pa.RecordBatchReader.from_stream(self._table.schema_stream()).schema
        added = ["_distance", "_score", "_relevance_score", "_rowid"]
        return self._selection.engine_columns(schema, added)

    def limit(self, k: int | None) -> HybridQuery:
        """At most ``k`` fused results (default 10); ``None``: every row either leg finds
        (at most 1,048,576 per leg).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> len(q.limit(2).to_list()), len(q.limit(None).to_list())
        (2, 3)
        """
        self._all = k is None
        if k is None:
            self._k = None
            return self
        self._k = _check.count("limit", k)
        if self._k > _check.MAX_RESULTS:
            raise InvalidInputError(
                f"a hybrid search returns at most {_check.MAX_RESULTS} results, got limit {k!r}"
            )
        return self

    def offset(self, n: int) -> HybridQuery:
        """Skips the first ``n`` fused results.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.offset(1).limit(1).to_list()]
        [3]
        """
        self._offset = _check.count("offset", n, minimum=0)
        return self

    def with_row_id(self, enabled: bool = True) -> HybridQuery:
        """Keeps ``_rowid`` in the results.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> '_rowid' in q.with_row_id().to_arrow().column_names
        True
        """
        self._row_id = enabled
        return self

    def metric(self, metric: str) -> HybridQuery:
        """The vector leg's metric (see :meth:`oxvec.Query.metric`).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.metric('cosine').limit(1).to_list()]
        [1]
        """
        self._metric = metric
        return self

    distance_type = metric

    def ef(self, ef: int) -> HybridQuery:
        """The vector leg's HNSW search breadth.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.ef(32).limit(1).to_list()]
        [1]
        """
        self._knobs["ef"] = _check.count("ef", ef)
        return self

    def nprobes(self, nprobes: int) -> HybridQuery:
        """The vector leg's IVF partitions scanned.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.nprobes(4).limit(1).to_list()]
        [1]
        """
        self._knobs["nprobes"] = _check.count("nprobes", nprobes)
        return self

    def bm25(self, k1: float = 1.2, b: float = 0.75) -> HybridQuery:
        """The text leg's BM25 knobs (see :meth:`oxvec.Query.bm25`).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [r['id'] for r in q.bm25(k1=1.5, b=0.5).limit(1).to_list()]
        [1]
        """
        from .query import _bm25_knobs

        self._bm25 = _bm25_knobs(k1, b)
        return self

    def _legs(self) -> tuple[pa.Table, pa.Table]:
        if self._vector is None or self._text is None:
            missing = "vector()" if self._vector is None else "text()"
            raise InvalidInputError(f"a hybrid search needs both legs: call {missing}")
        try:
            q = np.asarray(self._vector, dtype="<f4")
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"query vector must be numeric: {e}") from e
        if q.ndim != 1 or q.size == 0:
            raise InvalidInputError(f"a hybrid search takes one query vector, got shape {q.shape}")
        fetch = self._fetch()
        k1, b = self._bm25
        v, t = self._table.search_hybrid(
            np.ascontiguousarray(q).tobytes(),
            self._text._json(),
            self._vector_column,
            self._metric,
            fetch,
            fetch,
            self._filter,
            self._params,
            self._columns(),
            k1=k1,
            b=b,
            **self._knobs,
        )
        return _results.read(v), _results.read(t)

    def _fetch(self) -> int:
        """Rows each leg fetches: twice the fused depth, within the engine's cap; with
        ``limit(None)``, every matching row."""
        if self._all:
            n = self._table.count_rows(self._filter, self._params)
            if n > _check.MAX_RESULTS:
                raise InvalidInputError(
                    f"limit(None) would fetch {n:,} rows per leg; a hybrid search fetches at "
                    f"most {_check.MAX_RESULTS:,}: narrow it with where()"
                )
            return max(n, 1)
        depth = (self._k or _DEFAULT_K) + self._offset
        if depth > _check.MAX_RESULTS:
            raise InvalidInputError(
                f"a hybrid search returns at most {_check.MAX_RESULTS} results: limit "
                f"{self._k or _DEFAULT_K} + offset {self._offset} is {depth}"
            )
        return min(2 * depth, _check.MAX_RESULTS)

    def _query_text(self) -> str:
        d = self._text.to_dict() if self._text is not None else {}
        (body,) = d.values() if len(d) == 1 else ({},)
        return str(body.get("query", "")) if isinstance(body, dict) else ""

    def to_arrow(self, *, timeout: datetime.timedelta | float | None = None) -> pa.Table:
        """Runs both legs and the reranker; results as a pyarrow Table.

        ``timeout`` (a ``timedelta`` or seconds; every ``to_*`` method takes it) stops the
        legs still running after that long with :class:`~oxvec.TimedOutError`.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> q.limit(2).to_arrow(timeout=60).num_rows
        2
        """
        with time_limit(timeout):
            v, t = self._legs()
        fused = self._reranker.rerank_hybrid(self._query_text(), v, t)
        if self._all:
            out = fused.slice(self._offset)
        else:
            out = fused.slice(self._offset, self._k or _DEFAULT_K)
        if self._selection is not None and self._selection.outputs is not None:
            return self._selection.apply_table(out, row_id=self._row_id)
        if not self._row_id and "_rowid" in out.column_names:
            out = out.drop_columns(["_rowid"])
        return out

    def to_list(self, *, timeout: datetime.timedelta | float | None = None) -> list[dict[str, Any]]:
        """Runs the query; results as a list of dicts.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> q.limit(1).to_list()[0]['id']
        1
        """
        return self.to_arrow(timeout=timeout).to_pylist()

    def to_pandas(self, *, timeout: datetime.timedelta | float | None = None) -> pandas.DataFrame:
        """Runs the query; results as a pandas DataFrame.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> q.limit(2).to_pandas()['id'].tolist()
        [1, 3]
        """
        return self.to_arrow(timeout=timeout).to_pandas()

    def to_polars(self, *, timeout: datetime.timedelta | float | None = None) -> polars.DataFrame:
        """Runs the query; results as a Polars DataFrame.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> q.limit(2).to_polars()['id'].to_list()
        [1, 3]
        """
        import polars as pl

        return pl.from_arrow(self.to_arrow(timeout=timeout))  # type: ignore[return-value]

    def to_batches(
        self,
        batch_size: int | None = None,
        *,
        timeout: datetime.timedelta | float | None = None,
    ) -> pa.RecordBatchReader:
        """Runs the query; results as record batches of at most ``batch_size`` rows
        (default 16,384). The fused results are computed first, then handed out.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> [b.num_rows for b in q.limit(None).to_batches(2)]
        [2, 1]
        """
        size = 16384 if batch_size is None else _check.count("batch_size", batch_size)
        out = self.to_arrow(timeout=timeout)
        return pa.RecordBatchReader.from_batches(out.schema, out.to_batches(max_chunksize=size))

    def output_schema(self) -> pa.Schema:
        """The schema of the results, without running the query: the selected columns (all
        by default), ``_rowid`` when asked, then ``_distance``, ``_score`` and
        ``_relevance_score``.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> q.select(['id']).output_schema().names
        ['id', '_distance', '_score', '_relevance_score']
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
        if self._row_id:
            fields.append(pa.field("_rowid", pa.uint64()))
        fields += [pa.field(n, pa.float32()) for n in ("_distance", "_score", "_relevance_score")]
        schema = pa.schema(fields)
        if self._selection is not None and self._selection.outputs is not None:
            return self._selection.apply_table(schema.empty_table()).schema
        return schema

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Runs the query and exports the result through the Arrow PyCapsule interface."""
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    def explain(self) -> str:
        """Both legs' plans, and how they are fused. Runs no search.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [
        ...     {"id": 1, "text": "rust vector database", "vector": [1.0, 0.0]},
        ...     {"id": 2, "text": "python dataframes", "vector": [0.9, 0.1]},
        ...     {"id": 3, "text": "a vector of apples", "vector": [0.0, 1.0]},
        ... ])
        >>> _ = tbl.create_fts_index("text")
        >>> q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
        >>> print(q.limit(2).explain().splitlines()[0])
        hybrid search fused by RRFReranker(return_score='all', k=60), limit 2
        """
        from .query import Query

        vq = Query(self._table, self._vector, self._vector_column)
        tq = Query(self._table, None, None, self._text)
        for q in (vq, tq):
            if self._filter is not None:
                q.where(self._filter, self._params)
            columns = self._columns()
            q._selection = None if columns is None else Selection(columns, None)
            q.limit(self._fetch())
        if self._metric is not None:
            vq.metric(self._metric)
        if "ef" in self._knobs:
            vq.ef(self._knobs["ef"])
        if "nprobes" in self._knobs:
            vq.nprobes(self._knobs["nprobes"])
        return (
            f"hybrid search fused by {self._reranker!r}, limit {self._k or _DEFAULT_K}"
            f"{f', offset {self._offset}' if self._offset else ''}\n"
            f"vector leg:\n{_indent(vq.explain())}\nfull-text leg:\n{_indent(tq.explain())}"
        )


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
