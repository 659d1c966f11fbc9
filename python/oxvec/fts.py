"""Structured full-text queries: pass one to :meth:`oxvec.Table.search`.

A plain string searches every column of the table's full-text index for any of its words.
These objects say more: which column, every word (``operator="AND"``), typos
(``fuzziness``), a phrase with ``slop``, several columns with boosts, and boolean
combinations. They follow LanceDB's names, so code written for LanceDB's full-text
queries runs unchanged.

Examples
--------
>>> import oxvec, tempfile
>>> from oxvec.fts import BooleanQuery, MatchQuery, PhraseQuery
>>> db = oxvec.connect(tempfile.mkdtemp())
>>> tbl = db.create_table("t", [
...     {"id": 1, "title": "Rust vector search", "body": "fast nearest neighbours"},
...     {"id": 2, "title": "Cooking pasta", "body": "boil water, add salt"},
...     {"id": 3, "title": "Search engines in Rust", "body": "inverted indexes and BM25"},
... ])
>>> tbl.create_fts_index(["title", "body"])
'title_body_idx'
>>> [r["id"] for r in tbl.search(MatchQuery("serch", "title", fuzziness=1)).to_list()]
[1, 3]
>>> [r["id"] for r in tbl.search(PhraseQuery("nearest neighbours", "body")).to_list()]
[1]
>>> q = BooleanQuery(must=[MatchQuery("rust", "title")], must_not=[MatchQuery("bm25", "body")])
>>> [r["id"] for r in tbl.search(q).to_list()]
[1]
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .exceptions import InvalidInputError

__all__ = [
    "BooleanQuery",
    "FullTextQuery",
    "MatchQuery",
    "MultiMatchQuery",
    "Occur",
    "Operator",
    "PhraseQuery",
]


class Operator(str, enum.Enum):
    """How the words of a match combine: ``OR`` (any word) or ``AND`` (every word).

    Examples
    --------
    >>> from oxvec import fts
    >>> q = fts.MatchQuery('red apple', 'title', operator=fts.Operator.AND)
    >>> q.to_dict()['match']['operator']
    'AND'
    """

    OR = "OR"
    AND = "AND"


class Occur(str, enum.Enum):
    """How a clause of a :class:`BooleanQuery` counts.

    Examples
    --------
    >>> from oxvec import fts
    >>> q = fts.BooleanQuery([(fts.Occur.MUST, fts.MatchQuery('rust', 'title'))])
    >>> len(q.to_dict()['boolean']['must'])
    1
    """

    MUST = "MUST"
    SHOULD = "SHOULD"
    MUST_NOT = "MUST_NOT"


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {value!r:.80}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidInputError(
            f"{name} is not valid text (a lone surrogate at position {e.start}): {value!r:.80}"
        ) from None
    return value


def _column(value: Any) -> str | None:
    return None if value is None else _text("column", value)


def _boost(name: str, value: Any) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    # The engine scores in 32-bit floats: a boost beyond their range would be infinite.
    if not ok or not math.isfinite(float(value)) or not 0 <= float(value) <= _MAX_BOOST:
        raise InvalidInputError(
            f"{name} must be a number from 0 to {_MAX_BOOST:.0e}, got {value!r:.80}"
        )
    return float(value)


_MAX_BOOST = 1e30


def _whole(name: str, value: Any, maximum: int = 2**32 - 1) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or not 0 <= int(value) <= maximum:
        raise InvalidInputError(f"{name} must be an integer in [0, {maximum}], got {value!r:.80}")
    return int(value)


def _operator(value: Any) -> str:
    try:
        return Operator(value.upper() if isinstance(value, str) else value).value
    except ValueError:
        raise InvalidInputError(f"operator must be 'OR' or 'AND', got {value!r:.80}") from None


class FullTextQuery:
    """Base of the structured queries; ``to_dict()`` is what the engine receives.

    Examples
    --------
    >>> from oxvec import fts
    >>> isinstance(fts.MatchQuery('rust', 'title'), fts.FullTextQuery)
    True
    """

    def to_dict(self) -> dict[str, Any]:
        """The query as the engine receives it (JSON-able).

        Examples
        --------
        >>> from oxvec import fts
        >>> fts.MatchQuery("rust", "title").to_dict()["match"]["column"]
        'title'
        """
        raise NotImplementedError

    def _json(self) -> str:
        return json.dumps(self.to_dict())

    def __repr__(self) -> str:
        (_kind, opts), *_ = self.to_dict().items()
        args = ", ".join(f"{k}={v!r}" for k, v in opts.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FullTextQuery) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self._json())


class MatchQuery(FullTextQuery):
    """Rows whose ``column`` holds the words of ``query`` (analysed like the column).

    Parameters
    ----------
    query
        The words to look for.
    column
        The column to search; ``None``: every column of the index, scores summed.
    boost
        Multiplies this query's scores (within a :class:`BooleanQuery`).
    fuzziness
        0, 1 or 2: each word also matches indexed words that many edits away
        (Levenshtein), the closest and most frequent first.
    max_expansions
        At most this many indexed words per fuzzy word.
    operator
        ``"OR"`` (any word; default) or ``"AND"`` (every word).
    prefix_length
        Fuzzy expansions keep this many leading characters of the word.

    Examples
    --------
    >>> from oxvec import fts
    >>> fts.MatchQuery('serch', 'title', fuzziness=1).to_dict()['match']['fuzziness']
    1
    """

    def __init__(
        self,
        query: str,
        column: str | None = None,
        *,
        boost: float = 1.0,
        fuzziness: int = 0,
        max_expansions: int = 50,
        operator: Operator | str = Operator.OR,
        prefix_length: int = 0,
    ) -> None:
        self.query = _text("query", query)
        self.column = _column(column)
        self.boost = _boost("boost", boost)
        self.fuzziness = _whole("fuzziness", fuzziness, 2)
        self.max_expansions = _whole("max_expansions", max_expansions)
        self.operator = _operator(operator)
        self.prefix_length = _whole("prefix_length", prefix_length)

    def to_dict(self) -> dict[str, Any]:
        """The query as the engine receives it (JSON-able).

        Examples
        --------
        >>> from oxvec import fts
        >>> fts.MatchQuery("rust", "title").to_dict()["match"]["column"]
        'title'
        """
        return {
            "match": {
                "query": self.query,
                "column": self.column,
                "boost": self.boost,
                "fuzziness": self.fuzziness,
                "max_expansions": self.max_expansions,
                "operator": self.operator,
                "prefix_length": self.prefix_length,
            }
        }


class PhraseQuery(FullTextQuery):
    """Rows whose ``column`` holds the words of ``query`` in order, within ``slop``.

    ``slop`` 0 means adjacent and in order; ``slop`` n lets the words spread over n extra
    positions (two words swapped need ``slop=2``). Needs an index built with
    ``with_position=True`` (the default).

    Examples
    --------
    >>> from oxvec import fts
    >>> fts.PhraseQuery('vector search', 'body', slop=1).to_dict()['phrase']['slop']
    1
    """

    def __init__(
        self, query: str, column: str | None = None, *, slop: int = 0, boost: float = 1.0
    ) -> None:
        self.query = _text("query", query)
        self.column = _column(column)
        self.slop = _whole("slop", slop)
        self.boost = _boost("boost", boost)

    def to_dict(self) -> dict[str, Any]:
        """The query as the engine receives it (JSON-able).

        Examples
        --------
        >>> from oxvec import fts
        >>> fts.MatchQuery("rust", "title").to_dict()["match"]["column"]
        'title'
        """
        return {
            "phrase": {
                "query": self.query,
                "column": self.column,
                "slop": self.slop,
                "boost": self.boost,
            }
        }


class MultiMatchQuery(FullTextQuery):
    """``query`` matched in several columns of one index, each column's score times its
    boost, summed (``boosts`` default to 1).

    Examples
    --------
    >>> from oxvec import fts
    >>> q = fts.MultiMatchQuery('rust', ['title', 'body'], boosts=[2.0, 1.0])
    >>> q.to_dict()['multi_match']['boosts']
    [2.0, 1.0]
    """

    def __init__(
        self,
        query: str,
        columns: Sequence[str],
        *,
        boosts: Sequence[float] | None = None,
        operator: Operator | str = Operator.OR,
    ) -> None:
        self.query = _text("query", query)
        if isinstance(columns, str) or not columns:
            raise InvalidInputError(f"columns must be a non-empty list of names, got {columns!r}")
        self.columns = [_text("column", c) for c in columns]
        if boosts is None:
            boosts = [1.0] * len(self.columns)
        if len(boosts) != len(self.columns):
            raise InvalidInputError(
                f"{len(self.columns)} columns need {len(self.columns)} boosts, got {len(boosts)}"
            )
        self.boosts = [_boost("boost", b) for b in boosts]
        self.operator = _operator(operator)

    def to_dict(self) -> dict[str, Any]:
        """The query as the engine receives it (JSON-able).

        Examples
        --------
        >>> from oxvec import fts
        >>> fts.MatchQuery("rust", "title").to_dict()["match"]["column"]
        'title'
        """
        return {
            "multi_match": {
                "query": self.query,
                "columns": self.columns,
                "boosts": self.boosts,
                "operator": self.operator,
            }
        }


class BooleanQuery(FullTextQuery):
    """Rows matching every ``must`` clause, no ``must_not`` clause and, when there is no
    ``must``, at least one ``should``; scored by the ``must`` and ``should`` clauses they
    match. Clauses may be given as ``(Occur, query)`` pairs (LanceDB's form) or by keyword.

    Examples
    --------
    >>> from oxvec import fts
    >>> rust, go = fts.MatchQuery('rust', 'title'), fts.MatchQuery('go', 'title')
    >>> q = fts.BooleanQuery(must=[rust], must_not=[go])
    >>> [len(q.to_dict()['boolean'][k]) for k in ('must', 'must_not')]
    [1, 1]
    """

    def __init__(
        self,
        queries: Sequence[tuple[Occur | str, FullTextQuery]] = (),
        *,
        must: Sequence[FullTextQuery] = (),
        should: Sequence[FullTextQuery] = (),
        must_not: Sequence[FullTextQuery] = (),
    ) -> None:
        self.must = [_query(q) for q in must]
        self.should = [_query(q) for q in should]
        self.must_not = [_query(q) for q in must_not]
        for pair in queries:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise InvalidInputError(f"clauses are (Occur, query) pairs, got {pair!r:.80}")
            occur, q = pair
            try:
                kind = Occur(occur.upper() if isinstance(occur, str) else occur)
            except ValueError:
                raise InvalidInputError(
                    f"occur must be MUST, SHOULD or MUST_NOT, got {occur!r}"
                ) from None
            {Occur.MUST: self.must, Occur.SHOULD: self.should, Occur.MUST_NOT: self.must_not}[
                kind
            ].append(_query(q))
        if not self.must and not self.should:
            raise InvalidInputError(
                "a BooleanQuery needs a MUST or SHOULD clause (MUST_NOT alone matches nothing)"
            )

    def to_dict(self) -> dict[str, Any]:
        """The query as the engine receives it (JSON-able).

        Examples
        --------
        >>> from oxvec import fts
        >>> fts.MatchQuery("rust", "title").to_dict()["match"]["column"]
        'title'
        """
        return {
            "boolean": {
                "must": [q.to_dict() for q in self.must],
                "should": [q.to_dict() for q in self.should],
                "must_not": [q.to_dict() for q in self.must_not],
            }
        }


def _query(q: Any) -> FullTextQuery:
    if not isinstance(q, FullTextQuery):
        raise InvalidInputError(f"expected a full-text query object, got {q!r:.80}")
    return q


def plain(text: str, columns: Sequence[str] | None) -> FullTextQuery:
    """The query a plain string means: any of its words, in ``columns`` (default: all)."""
    if not columns:
        return MatchQuery(text)
    if len(columns) == 1:
        return MatchQuery(text, columns[0])
    return MultiMatchQuery(text, columns)
