"""Rerankers: fuse the two legs of a hybrid search, or re-score one leg's results.

A hybrid search (:meth:`oxvec.Table.search` with ``query_type="hybrid"``) runs a vector
search and a full-text search on the same version with the same filter, then hands both
result tables to a reranker, which returns one table sorted by ``_relevance_score``
(best first). Every row keeps the legs' own ``_distance`` (vector) and ``_score``
(BM25), null where that leg did not find it.

- :class:`RRFReranker`: reciprocal rank fusion, ``sum 1 / (k + rank)`` (the default).
- :class:`LinearCombinationReranker`: ``weight * vector + (1 - weight) * text`` after
  normalising each list by score (min-max) or by rank.
- :class:`DBSFReranker`: distribution-based score fusion, each list scaled by its mean
  ± 3 standard deviations.
- :class:`CrossEncoderReranker`: a sentence-transformers cross-encoder re-scores every
  candidate against the query text (offline, with a locally installed model).

Write your own by subclassing :class:`Reranker` and implementing :meth:`Reranker.score`
(or :meth:`Reranker.rerank_hybrid` for full control).

Examples
--------
>>> import pyarrow as pa
>>> from oxvec.rerankers import RRFReranker
>>> vec = pa.table({"_rowid": [1, 2, 3], "_distance": [0.1, 0.2, 0.9]})
>>> fts = pa.table({"_rowid": [3, 1], "_score": [5.0, 2.0]})
>>> out = RRFReranker().rerank_hybrid("q", vec, fts)
>>> out["_rowid"].to_pylist()
[1, 3, 2]
>>> out.column_names
['_rowid', '_distance', '_score', '_relevance_score']
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from .exceptions import InvalidInputError

__all__ = [
    "CrossEncoderReranker",
    "DBSFReranker",
    "LinearCombinationReranker",
    "RRFReranker",
    "Reranker",
]


def merge_results(vector: pa.Table, fts: pa.Table) -> pa.Table:
    """The union of two legs' results by ``_rowid``: the vector leg's rows in its order,
    then the text leg's rows it lacks; ``_distance`` and ``_score`` from each (null where
    a leg did not find the row)."""
    for name, t, col in (("vector", vector, "_distance"), ("full-text", fts, "_score")):
        if "_rowid" not in t.column_names or col not in t.column_names:
            raise InvalidInputError(f"the {name} results need _rowid and {col} columns")
    v_ids = vector["_rowid"].to_numpy().astype(np.uint64, copy=False)
    f_ids = fts["_rowid"].to_numpy().astype(np.uint64, copy=False)
    f_scores = _floats(fts["_score"])
    # Where each vector row sits in the text leg (if it does): through a sort, not a dict.
    by_id = np.argsort(f_ids, kind="stable")
    pos = np.searchsorted(f_ids[by_id], v_ids)
    pos_ok = pos < len(f_ids)
    found = np.zeros(len(v_ids), bool)
    found[pos_ok] = f_ids[by_id[pos[pos_ok]]] == v_ids[pos_ok]
    v_scores = np.full(len(v_ids), np.nan, np.float32)
    v_scores[found] = f_scores[by_id[pos[found]]]
    extra = np.flatnonzero(~np.isin(f_ids, v_ids))
    data_cols = [c for c in vector.column_names if c not in ("_distance", "_score", "_rowid")]
    parts: dict[str, pa.ChunkedArray | pa.Array] = {}
    for c in data_cols:
        if c in fts.column_names:
            parts[c] = pa.concat_arrays(
                [vector[c].combine_chunks(), fts[c].take(extra).combine_chunks()]
            )
    parts["_rowid"] = pa.array(np.concatenate([v_ids, f_ids[extra]]), pa.uint64())
    dist = np.concatenate([_floats(vector["_distance"]), np.full(len(extra), np.nan, np.float32)])
    score = np.concatenate([v_scores, f_scores[extra]])
    parts["_distance"] = pa.array(dist, pa.float32(), mask=np.isnan(dist))
    parts["_score"] = pa.array(score, pa.float32(), mask=np.isnan(score))
    return pa.table(parts)


class Reranker:
    """Base class: fuses a hybrid search's two result tables into one.

    Subclasses implement :meth:`score` (a relevance per merged row, higher is better), or
    override :meth:`rerank_hybrid` entirely. ``return_score="relevance"`` drops the legs'
    ``_distance`` and ``_score`` from the output; ``"all"`` (default) keeps them.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from oxvec import rerankers
    >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
    >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
    >>> class ByRowId(rerankers.Reranker):
    ...     def score(self, query, merged):
    ...         return -merged['_rowid'].to_numpy().astype(float)
    >>> ByRowId().rerank_hybrid('q', vec, fts)['_rowid'].to_pylist()
    [1, 2, 3]
    """

    def __init__(self, return_score: str = "all") -> None:
        if return_score not in ("all", "relevance"):
            raise InvalidInputError(
                f"return_score must be 'all' or 'relevance', got {return_score!r:.80}"
            )
        self.return_score = return_score

    def score(self, query: str, merged: pa.Table) -> np.ndarray:
        """Relevance of each row of ``merged`` (from :func:`merge_results`).

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
        >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
        >>> merged = rerankers.merge_results(vec, fts)
        >>> len(rerankers.RRFReranker().score("q", merged))
        3
        """
        raise NotImplementedError

    def rerank_hybrid(
        self, query: str, vector_results: pa.Table, fts_results: pa.Table
    ) -> pa.Table:
        """The legs' rows fused and sorted by ``_relevance_score``, best first (ties: the
        row the legs rank better together, then the lower ``_rowid``).

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
        >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
        >>> out = rerankers.RRFReranker().rerank_hybrid('q', vec, fts)
        >>> out.column_names
        ['_rowid', '_distance', '_score', '_relevance_score']
        """
        merged = merge_results(vector_results, fts_results)
        return self._sorted(merged, self.score(query, merged))

    def rerank_fts(self, query: str, fts_results: pa.Table) -> pa.Table:
        """A full-text search's rows (with ``_rowid``) re-scored on their own.

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
        >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
        >>> out = rerankers.RRFReranker().rerank_fts('q', fts)
        >>> out['_rowid'].to_pylist()
        [2, 3]
        """
        cols = [c for c in fts_results.column_names if c not in ("_score", "_rowid")]
        empty = (
            fts_results.select(cols)
            .slice(0, 0)
            .append_column("_rowid", pa.array([], pa.uint64()))
            .append_column("_distance", pa.array([], pa.float32()))
        )
        return self.rerank_hybrid(query, empty, fts_results)

    def _sorted(self, merged: pa.Table, relevance: np.ndarray) -> pa.Table:
        rel = np.asarray(relevance, dtype=np.float64)
        if rel.shape != (merged.num_rows,):
            raise InvalidInputError(
                f"a reranker must score every row: {merged.num_rows} rows, got shape {rel.shape}"
            )
        # Ties go to the row ranked better by the legs together, then to the lower row id:
        # a row better in both legs never lands below a worse one, even on equal relevance.
        n = merged.num_rows
        ids = merged["_rowid"].to_numpy()
        rank_sum = np.zeros(n)
        for values in _legs(merged):
            ranks = _ranks(values, ids)
            rank_sum += np.where(np.isnan(ranks), n, ranks)
        order = np.lexsort((ids, rank_sum, -np.nan_to_num(rel, nan=-np.inf)))
        out = merged.take(pa.array(order)).append_column(
            "_relevance_score", pa.array(rel[order], pa.float32())
        )
        if self.return_score == "relevance":
            out = out.drop_columns(["_distance", "_score"])
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def _floats(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A float column as float32 values, ``nan`` where null."""
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float32)


def _ranks(values: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
    """0-based rank of each non-nan value, highest first, ties by lower row id (the order
    the leg itself returned them in); ``nan`` where the leg missed the row."""
    out = np.full(len(values), np.nan)
    idx = np.flatnonzero(~np.isnan(values))
    order = np.lexsort((row_ids[idx], -values[idx]))
    out[idx[order]] = np.arange(len(idx))
    return out


def _legs(merged: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Each leg's "higher is better" value per row (``nan`` where the leg missed it)."""
    d = _floats(merged["_distance"]).astype(np.float64)
    s = _floats(merged["_score"]).astype(np.float64)
    return -d, s


class RRFReranker(Reranker):
    """Reciprocal rank fusion: a row scores ``sum over legs of 1 / (k + rank)`` (rank 1 is
    a leg's best). ``k`` (60, from the original paper) damps the top ranks' weight.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from oxvec import rerankers
    >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
    >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
    >>> rerankers.RRFReranker(k=60).rerank_hybrid('q', vec, fts)['_rowid'].to_pylist()
    [2, 1, 3]
    """

    def __init__(self, k: int = 60, return_score: str = "all") -> None:
        super().__init__(return_score)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise InvalidInputError(f"k must be an integer >= 0, got {k!r:.80}")
        self.k = int(k)

    def score(self, query: str, merged: pa.Table) -> np.ndarray:
        """A relevance per merged row, higher is better (see :meth:`Reranker.score`).

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
        >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
        >>> merged = rerankers.merge_results(vec, fts)
        >>> len(rerankers.RRFReranker().score("q", merged))
        3
        """
        total = np.zeros(merged.num_rows)
        ids = merged["_rowid"].to_numpy()
        for values in _legs(merged):
            ranks = _ranks(values, ids)
            total += np.where(np.isnan(ranks), 0.0, 1.0 / (self.k + ranks + 1))
        return total


class LinearCombinationReranker(Reranker):
    """``weight * vector + (1 - weight) * text``, each leg normalised to [0, 1] first:
    ``normalize="score"`` maps a leg's best to 1 and worst to 0 (distances turned into
    similarities, so lower distance is better), ``"rank"`` maps rank r of n to
    ``1 - r / n``. A row a leg did not find gets 0 from it.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from oxvec import rerankers
    >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
    >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
    >>> r = rerankers.LinearCombinationReranker(weight=1.0)
    >>> r.rerank_hybrid('q', vec, fts)['_rowid'].to_pylist()[0]
    1
    """

    def __init__(
        self, weight: float = 0.7, normalize: str = "score", return_score: str = "all"
    ) -> None:
        super().__init__(return_score)
        ok = isinstance(weight, (int, float, np.integer, np.floating)) and not isinstance(
            weight, bool
        )
        if not ok or not 0.0 <= float(weight) <= 1.0:
            raise InvalidInputError(f"weight must be between 0 and 1, got {weight!r:.80}")
        if normalize not in ("score", "rank"):
            raise InvalidInputError(f"normalize must be 'score' or 'rank', got {normalize!r:.80}")
        self.weight = float(weight)
        self.normalize = normalize

    def _norm(self, values: np.ndarray, ids: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(values)
        out = np.zeros(len(values))
        if not ok.any():
            return out
        if self.normalize == "rank":
            ranks = _ranks(values, ids)
            out[ok] = 1.0 - ranks[ok] / ok.sum()
            return out
        lo, hi = values[ok].min(), values[ok].max()
        out[ok] = 1.0 if hi == lo else (values[ok] - lo) / (hi - lo)
        return out

    def score(self, query: str, merged: pa.Table) -> np.ndarray:
        """A relevance per merged row, higher is better (see :meth:`Reranker.score`).

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
        >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
        >>> merged = rerankers.merge_results(vec, fts)
        >>> len(rerankers.LinearCombinationReranker().score("q", merged))
        3
        """
        vec, text = _legs(merged)
        ids = merged["_rowid"].to_numpy()
        return self.weight * self._norm(vec, ids) + (1.0 - self.weight) * self._norm(text, ids)


class DBSFReranker(Reranker):
    """Distribution-based score fusion: each leg's values are scaled by
    ``(x - (mean - 3 std)) / (6 std)`` and clipped to [0, 1], then summed (a leg whose
    values are all equal gives each 0.5; a missed row 0).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from oxvec import rerankers
    >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
    >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
    >>> rerankers.DBSFReranker().rerank_hybrid('q', vec, fts).num_rows
    3
    """

    @staticmethod
    def _norm(values: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(values)
        out = np.zeros(len(values))
        if not ok.any():
            return out
        mu, sd = values[ok].mean(), values[ok].std()
        if sd == 0 or not math.isfinite(sd):
            out[ok] = 0.5
        else:
            out[ok] = np.clip((values[ok] - (mu - 3 * sd)) / (6 * sd), 0.0, 1.0)
        return out

    def score(self, query: str, merged: pa.Table) -> np.ndarray:
        """A relevance per merged row, higher is better (see :meth:`Reranker.score`).

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
        >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
        >>> merged = rerankers.merge_results(vec, fts)
        >>> len(rerankers.DBSFReranker().score("q", merged))
        3
        """
        vec, text = _legs(merged)
        return self._norm(vec) + self._norm(text)


class CrossEncoderReranker(Reranker):
    """Re-scores every candidate with a sentence-transformers cross-encoder reading the
    query and the row's ``column`` together: slower than the fusions, usually more
    accurate. Runs offline with a model installed locally (a model name found in the
    Hugging Face cache, or a path); the model loads once per process, on first use.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from oxvec import rerankers
    >>> vec = pa.table({"_rowid": pa.array([1, 2], pa.uint64()), "_distance": [0.1, 0.4]})
    >>> fts = pa.table({"_rowid": pa.array([2, 3], pa.uint64()), "_score": [3.0, 1.0]})
    >>> r = rerankers.CrossEncoderReranker(column='text')
    >>> r.column, r.score('q', pa.table({'text': pa.array([], pa.string())})).size
    ('text', 0)
    """

    _models: ClassVar[dict[tuple[str, str | None], Any]] = {}

    def __init__(
        self,
        model_name: str = "cross-encoder/ms-marco-MiniLM-L-6-v2",
        column: str = "text",
        device: str | None = None,
        batch_size: int = 32,
        return_score: str = "all",
    ) -> None:
        super().__init__(return_score)
        self.model_name = model_name
        self.column = column
        self.device = device
        self.batch_size = batch_size

    def _model(self) -> Any:
        key = (self.model_name, self.device)
        if key not in self._models:
            try:
                from sentence_transformers import CrossEncoder
            except ImportError as e:
                raise ImportError(
                    "CrossEncoderReranker needs sentence-transformers: "
                    "pip install 'oxvec[embeddings]'"
                ) from e
            self._models[key] = CrossEncoder(self.model_name, device=self.device)
        return self._models[key]

    def score(self, query: str, merged: pa.Table) -> np.ndarray:
        """The cross-encoder's relevance of ``query`` and each row's ``column``.

        Examples
        --------
        >>> import pyarrow as pa
        >>> from oxvec import rerankers
        >>> empty = pa.table({"text": pa.array([], pa.string())})
        >>> rerankers.CrossEncoderReranker().score("q", empty)  # no rows: no model is loaded
        array([], dtype=float64)
        """
        if self.column not in merged.column_names:
            raise InvalidInputError(
                f"CrossEncoderReranker reads column {self.column!r}, which the results lack "
                "(select it, or pass column=)"
            )
        docs = ["" if d is None else str(d) for d in merged[self.column].to_pylist()]
        if not docs:
            return np.zeros(0)
        pairs = [(query, d) for d in docs]
        return np.asarray(
            self._model().predict(pairs, batch_size=self.batch_size, show_progress_bar=False),
            dtype=np.float64,
        ).reshape(-1)
