"""Metadata filters as the frameworks write them, into oxvec SQL over a JSON column.

A document's metadata is kept as JSON text; ``{"source": "a.txt", "page": {"$gt": 2}}``
becomes ``json_extract_string(metadata, '$.source') = ? AND
json_extract_number(metadata, '$.page') > ?``. Operators: ``$eq``, ``$ne``, ``$gt``,
``$gte``, ``$lt``, ``$lte``, ``$in``, ``$nin``, ``$contains`` / ``$icontains`` (a substring
of a text value), and ``$and`` / ``$or`` over lists of filters.
"""

from __future__ import annotations

import json
from typing import Any

from ..exceptions import InvalidInputError

__all__ = ["metadata_filter"]

_CMP = {"$eq": "=", "$ne": "<>", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def metadata_filter(spec: Any, column: str = "metadata") -> tuple[str, list[Any]]:
    """``(sql, params)`` for a filter dict over the JSON column ``column``.

    Examples
    --------
    >>> sql, params = metadata_filter({"source": "a.txt", "page": {"$gte": 2}})
    >>> sql
    '(json_extract_string(metadata, ?) = ?) AND (json_extract_number(metadata, ?) >= ?)'
    >>> params
    ['$.source', 'a.txt', '$.page', 2]
    """
    if not isinstance(spec, dict) or not spec:
        raise InvalidInputError(f"a metadata filter is a non-empty dict, got {spec!r:.80}")
    parts: list[str] = []
    params: list[Any] = []
    for key, cond in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(cond, list) or not cond:
                raise InvalidInputError(f"{key} takes a non-empty list of filters")
            subs = [metadata_filter(c, column) for c in cond]
            word = " AND " if key == "$and" else " OR "
            parts.append("(" + word.join(f"({s})" for s, _ in subs) + ")")
            params += [p for _, ps in subs for p in ps]
            continue
        if not isinstance(key, str) or key.startswith("$"):
            raise InvalidInputError(f"unknown filter operator {key!r}")
        ops = cond if isinstance(cond, dict) else {"$eq": cond}
        for op, value in ops.items():
            sql, ps = _condition(column, key, op, value)
            parts.append(sql)
            params += ps
    return " AND ".join(f"({p})" for p in parts), params


def _condition(column: str, key: str, op: str, value: Any) -> tuple[str, list[Any]]:
    path = "$." + key
    if op in ("$in", "$nin"):
        if not isinstance(value, (list, tuple)):
            raise InvalidInputError(f"{op} takes a list, got {value!r:.80}")
        if not value:
            return ("false" if op == "$in" else "true", [])
        kinds = {_kind(v) for v in value}
        if len(kinds) != 1:
            raise InvalidInputError(f"{op} values must be of one type, got {value!r:.80}")
        (kind,) = kinds
        neg = " NOT" if op == "$nin" else ""
        values = [_text(v) if kind == "string" else v for v in value]
        return (f"json_extract_{kind}({column}, ?){neg} IN ?", [path, values])
    if op in ("$contains", "$icontains"):
        if not isinstance(value, str):
            raise InvalidInputError(f"{op} looks for text, got {value!r:.80}")
        text = f"json_extract_string({column}, ?)"
        if op == "$icontains":
            return (f"contains(lower({text}), lower(?))", [path, value])
        return (f"contains({text}, ?)", [path, value])
    if op not in _CMP:
        raise InvalidInputError(f"unknown filter operator {op!r}")
    kind = _kind(value)
    if kind != "number" and op not in ("$eq", "$ne"):
        raise InvalidInputError(f"{op} compares numbers, got {value!r:.80}")
    v = _text(value) if kind == "string" else value
    return (f"json_extract_{kind}({column}, ?) {_CMP[op]} ?", [path, v])


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None:
        raise InvalidInputError("a filter value cannot be None (nothing equals a missing key)")
    return "string"


def _text(v: Any) -> str:
    """How ``json_extract_string`` reads ``v`` back: a string as itself, else its JSON."""
    return v if isinstance(v, str) else json.dumps(v)
