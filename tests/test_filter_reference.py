"""The filter evaluator against a reference: random WHERE expressions (comparisons, AND / OR /
NOT, IN, BETWEEN, LIKE / ILIKE, IS [NOT] NULL, arithmetic) over columns with NULLs, evaluated
by oxvec and by DuckDB on the same rows; the matching ids must be the same.

A backslash in a LIKE pattern escapes the next character in oxvec (as in PostgreSQL and
Arrow) but is literal in DuckDB, so patterns here have none. Short in ``make test``; longer:
``OXVEC_FILTER_EXAMPLES=20000 pytest tests/test_filter_reference.py``.
"""

from __future__ import annotations

import os

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

duckdb = pytest.importorskip("duckdb")

EXAMPLES = int(os.environ.get("OXVEC_FILTER_EXAMPLES", "300"))
N = 200


def data() -> pa.Table:
    rng = np.random.default_rng(7)

    def nulls(values: list, p: float = 0.15) -> list:
        return [None if rng.random() < p else v for v in values]

    words = ["apple", "Apple", "banana", "cherry", "a_b", "a%b", "", "zeta", "ab", "b"]
    return pa.table(
        {
            "id": pa.array(range(N), pa.int64()),
            "i": pa.array(nulls([int(x) for x in rng.integers(-5, 6, N)]), pa.int64()),
            "j": pa.array(nulls([int(x) for x in rng.integers(-3, 4, N)]), pa.int32()),
            "f": pa.array(
                nulls([float(x) for x in np.round(rng.normal(0, 3, N), 1)]), pa.float64()
            ),
            "s": pa.array(nulls([words[k] for k in rng.integers(0, len(words), N)]), pa.string()),
            "b": pa.array(nulls([bool(x) for x in rng.integers(0, 2, N)]), pa.bool_()),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(rng.standard_normal(N * 2).astype(np.float32)), 2
            ),
        }
    )


ints = st.integers(-6, 6).map(str)
floats = st.sampled_from(["-2.5", "0.0", "1.5", "3", "-0.1"])
strings = st.sampled_from(["'apple'", "'Apple'", "'banana'", "''", "'zeta'", "'a_b'", "'b'"])
patterns = st.sampled_from(["'a%'", "'%a'", "'%an%'", "'_'", "'a_b'", "'%'", "''"])
cmp = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])

num_col = st.sampled_from(["i", "j", "f"])
num_term = st.one_of(
    num_col,
    ints,
    floats,
    st.builds(lambda a, op, b: f"({a} {op} {b})", num_col, st.sampled_from(["+", "-", "*"]), ints),
)


def atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", num_term, cmp, num_term),
        st.builds(lambda op, v: f"s {op} {v}", cmp, strings),
        st.builds(
            lambda c, n: f"{c} IS {n}NULL",
            st.sampled_from(["i", "f", "s", "b"]),
            st.sampled_from(["", "NOT "]),
        ),
        st.builds(
            lambda c, vs, n: f"{c} {n}IN ({', '.join(vs)})",
            st.sampled_from(["i", "j"]),
            st.lists(ints, min_size=1, max_size=4),
            st.sampled_from(["", "NOT "]),
        ),
        st.builds(
            lambda vs, n: f"s {n}IN ({', '.join(vs)})",
            st.lists(strings, min_size=1, max_size=3),
            st.sampled_from(["", "NOT "]),
        ),
        st.builds(
            lambda c, lo, hi, n: f"{c} {n}BETWEEN {lo} AND {hi}",
            num_col,
            ints,
            ints,
            st.sampled_from(["", "NOT "]),
        ),
        st.builds(
            lambda op, p, n: f"s {n}{op} {p}",
            st.sampled_from(["LIKE", "ILIKE"]),
            patterns,
            st.sampled_from(["", "NOT "]),
        ),
        st.sampled_from(["b", "NOT b", "b = TRUE", "b <> FALSE", "TRUE", "FALSE"]),
    )


exprs = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} AND {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a: f"NOT ({a})", inner),
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[oxvec.Table, object]:
    t = data()
    tbl = oxvec.connect(tmp_path_factory.mktemp("filters")).create_table("t", t)
    con = duckdb.connect()
    con.register("t", t.drop(["vector"]))
    return tbl, con


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(expr=exprs)
def test_filters_match_duckdb(tables: tuple[oxvec.Table, object], expr: str) -> None:
    tbl, con = tables
    try:
        want = sorted(r[0] for r in con.execute(f"SELECT id FROM t WHERE {expr}").fetchall())
    except duckdb.Error:
        # DuckDB refuses it (a type it will not compare): oxvec must refuse it too, typed.
        with pytest.raises(oxvec.OxvecError):
            tbl.search().where(expr).select(["id"]).to_arrow()
        return
    got = sorted(tbl.search().where(expr).select(["id"]).to_arrow()["id"].to_pylist())
    assert got == want, f"{expr}: oxvec {len(got)} rows, DuckDB {len(want)}"
    assert tbl.count_rows(expr) == len(want), expr


def test_the_reference_sees_the_same_rows(tables: tuple[oxvec.Table, object]) -> None:
    tbl, con = tables
    assert tbl.count_rows() == con.execute("SELECT count(*) FROM t").fetchone()[0] == N


def test_negative_zero_equals_zero(tmp_path) -> None:
    """Found by the reference test: Arrow orders -0.0 below 0.0, SQL says they are equal."""
    tbl = oxvec.connect(tmp_path).create_table(
        "z", [{"id": k, "f": x, "vector": [0.0, 1.0]} for k, x in enumerate([-1.5, 0.0, 2.0])]
    )
    assert tbl.count_rows("f * 0 = 0") == 3
    assert tbl.count_rows("f * 0 >= 0") == 3
    assert tbl.count_rows("-0.0 = f * 0") == 3
