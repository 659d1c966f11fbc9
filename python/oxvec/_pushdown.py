"""Filters from other engines translated into oxvec's SQL, so the Rust scan applies them.

Polars hands a scan a ``pl.Expr``; DuckDB hands a pyarrow ``Expression``. Each is read into
SQL with ``?`` parameters where every part of it has an exact equivalent (comparisons with
constants, ``AND`` / ``OR``, null checks, ``BETWEEN``, prefix and suffix tests); a conjunct
with none is left out. The caller still applies the engine's own filter to what the scan
returns, so a translation only ever narrows the rows read, never decides the result: it must
keep every row the engine's filter keeps. That is why ``NOT`` is never translated and a
comparison is always a column against a finite constant: NaN orders differently in SQL (above
every number) and in pyarrow (unordered), which a negation or two NaN columns would expose.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Sequence
from typing import Any, Optional

__all__ = ["Pushed", "from_arrow", "from_polars", "referenced_columns"]

_I64 = (-(2**63), 2**63 - 1)

#: ``(sql, params, exact)``: the pushed condition, and whether it is the whole filter.
Pushed = tuple[Optional[str], list[Any], bool]

_CMP = {"Eq": "=", "NotEq": "<>", "Lt": "<", "LtEq": "<=", "Gt": ">", "GtEq": ">="}
_BETWEEN = {"Both": (">=", "<="), "Left": (">=", "<"), "Right": (">", "<="), "None": (">", "<")}


class _UntranslatableError(Exception):
    """A part of a filter with no exact SQL equivalent."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _conjuncts(sqls: list[tuple[str, list[Any]]], exact: bool) -> Pushed:
    if not sqls:
        return (None, [], False)
    sql = " AND ".join(f"({s})" for s, _ in sqls)
    return (sql, [p for _, ps in sqls for p in ps], exact)


# --- Polars -----------------------------------------------------------------------------


def from_polars(predicate: Any, schema: Any) -> Pushed:
    """What of a Polars predicate the scan can apply; ``schema`` is the table's pyarrow
    schema (a bare column counts as a condition only when it is boolean)."""
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:
        return (None, [], False)
    booleans = {f.name for f in schema if str(f.type) == "bool"}
    parts: list[tuple[str, list[Any]]] = []
    exact = True
    for node in _polars_and(tree):
        try:
            params: list[Any] = []
            parts.append((_polars_bool(node, params, booleans), params))
        except (_UntranslatableError, KeyError, TypeError, ValueError):
            exact = False
    return _conjuncts(parts, exact)


def _polars_and(node: Any) -> list[Any]:
    b = node.get("BinaryExpr") if isinstance(node, dict) else None
    if b is not None and b.get("op") in ("And", "LogicalAnd"):
        return _polars_and(b["left"]) + _polars_and(b["right"])
    return [node]


def _polars_bool(node: Any, params: list[Any], booleans: set[str]) -> str:
    if not isinstance(node, dict) or len(node) != 1:
        raise _UntranslatableError
    ((kind, body),) = node.items()
    if kind == "Column":
        if body not in booleans:
            raise _UntranslatableError
        return _quote(body)
    if kind == "BinaryExpr":
        op = body["op"]
        if op in ("And", "LogicalAnd", "Or", "LogicalOr"):
            word = "AND" if op in ("And", "LogicalAnd") else "OR"
            left = _polars_bool(body["left"], params, booleans)
            right = _polars_bool(body["right"], params, booleans)
            return f"({left}) {word} ({right})"
        if op in _CMP:
            return _polars_compare(body["left"], _CMP[op], body["right"], params)
        raise _UntranslatableError
    if kind == "Function":
        func, args = body["function"], body["input"]
        if func == {"Boolean": "IsNull"} or func == {"Boolean": "IsNotNull"}:
            neg = " NOT" if func["Boolean"] == "IsNotNull" else ""
            return f"{_polars_value(args[0], params)} IS{neg} NULL"
        if isinstance(func, dict) and isinstance(func.get("Boolean"), dict):
            closed = func["Boolean"].get("IsBetween", {}).get("closed")
            if closed in _BETWEEN:
                lo_op, hi_op = _BETWEEN[closed]
                lo = _polars_compare(args[0], lo_op, args[1], params)
                hi = _polars_compare(args[0], hi_op, args[2], params)
                return f"{lo} AND {hi}"
        if func in ({"StringExpr": "StartsWith"}, {"StringExpr": "EndsWith"}):
            name = "starts_with" if func["StringExpr"] == "StartsWith" else "ends_with"
            return f"{name}({_polars_value(args[0], params)}, {_polars_value(args[1], params)})"
    raise _UntranslatableError


def _polars_compare(left: Any, op: str, right: Any, params: list[Any]) -> str:
    """A column compared with a constant (either side)."""
    columns = [isinstance(n, dict) and "Column" in n for n in (left, right)]
    if sum(columns) != 1:
        raise _UntranslatableError
    return f"{_polars_value(left, params)} {op} {_polars_value(right, params)}"


def _polars_value(node: Any, params: list[Any]) -> str:
    if not isinstance(node, dict) or len(node) != 1:
        raise _UntranslatableError
    ((kind, body),) = node.items()
    if kind == "Column" and isinstance(body, str):
        return _quote(body)
    if kind != "Literal":
        raise _UntranslatableError
    if "Dyn" in body:
        ((_, v),) = body["Dyn"].items()
    elif "Scalar" in body and isinstance(body["Scalar"], dict):
        ((t, v),) = body["Scalar"].items()
        if t == "Date" and isinstance(v, int):
            v = datetime.date(1970, 1, 1) + datetime.timedelta(days=v)
        elif t not in (
            "String",
            "Boolean",
            "Int8",
            "Int16",
            "Int32",
            "Int64",
            "UInt8",
            "UInt16",
            "UInt32",
            "UInt64",
            "Float32",
            "Float64",
        ):
            raise _UntranslatableError
    else:
        raise _UntranslatableError
    return _param(v, params)


def _param(v: Any, params: list[Any]) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        raise _UntranslatableError
    if isinstance(v, (bool, str, float, datetime.date)):
        params.append(v)
        return "?"
    if isinstance(v, int) and _I64[0] <= v <= _I64[1]:
        params.append(v)
        return "?"
    raise _UntranslatableError


# --- pyarrow (DuckDB) -------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"[^"\\]*")
      | (?P<date>\d{4}-\d{2}-\d{2})(?![\d:])
      | (?P<set>\{value_set=\w+:\[[^\]]*\],\ null_matching_behavior=MATCH\})
      | (?P<null>null\[bool\])
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\d:\-])
      | (?P<op>==|!=|<=|>=|<|>)
      | (?P<punct>[(),])
      | (?P<opts>\{nan_is_null=false\})
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_ARROW_CMP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def from_arrow(expression: Any, names: Sequence[str]) -> Pushed:
    """What of a pyarrow ``Expression`` (as DuckDB pushes into a dataset scan) the scan can
    apply; ``names`` are the table's columns."""
    try:
        tokens = _arrow_tokens(str(expression))
        tree, rest = _arrow_expr(tokens, 0, set(names))
        if rest != len(tokens):
            raise _UntranslatableError
    except (_UntranslatableError, IndexError, ValueError):
        return (None, [], False)
    parts = []
    exact = True
    for node in _arrow_and(tree):
        params: list[Any] = []
        try:
            parts.append((_arrow_sql(node, params), params))
        except _UntranslatableError:
            exact = False
    return _conjuncts(parts, exact)


def _arrow_tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _UntranslatableError
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _arrow_expr(tokens: list[tuple[str, str]], i: int, names: set[str]) -> tuple[Any, int]:
    kind, text = tokens[i]
    if kind == "punct" and text == "(":
        left, i = _arrow_expr(tokens, i + 1, names)
        kind, text = tokens[i]
        if kind == "op":
            right, i = _arrow_expr(tokens, i + 1, names)
            node = ("cmp", _ARROW_CMP[text], left, right)
        elif kind == "word" and text in ("and", "or"):
            right, i = _arrow_expr(tokens, i + 1, names)
            node = (text, left, right)
        else:
            node = left
        if tokens[i] != ("punct", ")"):
            raise _UntranslatableError
        return node, i + 1
    opens = tokens[i + 1] == ("punct", "(") if i + 1 < len(tokens) else False
    if kind == "word" and text == "is_in" and opens:
        inner, i = _arrow_expr(tokens, i + 2, names)
        if tokens[i] != ("punct", ",") or tokens[i + 1][0] != "set":
            raise _UntranslatableError
        items = _arrow_set(tokens[i + 1][1])
        if tokens[i + 2] != ("punct", ")"):
            raise _UntranslatableError
        return (("in", inner, items), i + 3)
    if kind == "word" and text == "if_else" and opens:
        # DuckDB's IN: if_else(is_valid(x), is_in(x, ...), null): NULL where x is, as SQL.
        valid, i = _arrow_expr(tokens, i + 2, names)
        if tokens[i] != ("punct", ","):
            raise _UntranslatableError
        found, i = _arrow_expr(tokens, i + 1, names)
        if tokens[i : i + 3] != [("punct", ","), ("null", "null[bool]"), ("punct", ")")]:
            raise _UntranslatableError
        if found[0] != "in" or valid != ("is_valid", found[1]):
            raise _UntranslatableError
        return (found, i + 3)
    if kind == "word" and text in ("invert", "is_null", "is_valid") and opens:
        inner, i = _arrow_expr(tokens, i + 2, names)
        if text == "is_null":
            if tokens[i] != ("punct", ",") or tokens[i + 1][0] != "opts":
                raise _UntranslatableError
            i += 2
        if tokens[i] != ("punct", ")"):
            raise _UntranslatableError
        return ((text, inner), i + 1)
    if kind == "word" and text in names:
        return (("col", text), i + 1)
    if kind == "word" and text in ("true", "false"):
        return (("lit", text == "true"), i + 1)
    if kind == "num":
        is_int = re.fullmatch(r"-?\d+", text) is not None
        return (("lit", int(text) if is_int else float(text)), i + 1)
    if kind == "str":
        return (("lit", text[1:-1]), i + 1)
    if kind == "date":
        return (("lit", datetime.date.fromisoformat(text)), i + 1)
    raise _UntranslatableError


_SET_ITEM = re.compile(r'\s*("[^"\\]*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(?:,|$)')


def _arrow_set(text: str) -> list[Any]:
    """The values of an ``is_in`` value set: numbers or strings, nothing else."""
    body = text[text.index("[") + 1 : text.rindex("]")]
    items: list[Any] = []
    pos = 0
    while pos < len(body.rstrip()):
        m = _SET_ITEM.match(body, pos)
        if m is None or m.end() == pos:
            raise _UntranslatableError
        v = m.group(1)
        if v.startswith('"'):
            items.append(v[1:-1])
        elif re.fullmatch(r"-?\d+", v):
            items.append(int(v))
        else:
            items.append(float(v))
        pos = m.end()
    return items


def _arrow_and(node: Any) -> list[Any]:
    if node[0] == "and":
        return _arrow_and(node[1]) + _arrow_and(node[2])
    return [node]


def _arrow_sql(node: Any, params: list[Any]) -> str:
    kind = node[0]
    if kind == "col":
        return _quote(node[1])
    if kind == "lit":
        return _param(node[1], params)
    if kind == "cmp":
        if [node[2][0], node[3][0]].count("col") != 1:
            raise _UntranslatableError
        return f"{_arrow_sql(node[2], params)} {node[1]} {_arrow_sql(node[3], params)}"
    if kind in ("and", "or"):
        return f"({_arrow_sql(node[1], params)}) {kind.upper()} ({_arrow_sql(node[2], params)})"
    if kind == "in" and node[1][0] == "col":
        marks = ", ".join(_param(v, params) for v in node[2])
        return f"{_arrow_sql(node[1], params)} IN ({marks})" if marks else "false"
    if kind == "is_null":
        return f"{_arrow_sql(node[1], params)} IS NULL"
    if kind == "is_valid":
        return f"{_arrow_sql(node[1], params)} IS NOT NULL"
    raise _UntranslatableError


def referenced_columns(expression: Any, names: Sequence[str]) -> list[str]:
    """The columns among ``names`` a pyarrow expression may read: each whose name appears
    in its text (reading one more column than needed costs IO, never a wrong answer)."""
    text = str(expression)
    return [n for n in names if n in text]
