"""DuckDB and Polars read tables through the Rust scan, with projection and filter pushdown."""

from __future__ import annotations

import datetime
import math
import random

import duckdb
import numpy as np
import oxvec
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from oxvec._pushdown import from_arrow, from_polars


class Recording:
    """A native table that records the scans asked of it."""

    def __init__(self, inner):
        self._inner = inner
        self.scans = []

    def scan_stream(self, *args):
        self.scans.append(args)
        return self._inner.scan_stream(*args)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def rows(n=200):
    rng = random.Random(7)
    out = []
    for i in range(n):
        out.append(
            {
                "id": i,
                "price": None if i % 17 == 0 else (math.nan if i % 23 == 0 else i * 0.5),
                "cat": None if i % 13 == 0 else f"c{i % 5}",
                "ok": i % 3 == 0,
                "day": datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 40),
                "vector": [rng.random(), rng.random()],
            }
        )
    return out


@pytest.fixture
def tbl(tmp_path):
    db = oxvec.connect(tmp_path)
    t = db.create_table("t", rows()[:120])
    t.add(rows()[120:])  # two fragments
    t.delete("id % 50 = 7")
    t._inner = Recording(t._inner)
    return t


def reference(tbl):
    return pl.from_arrow(tbl.to_arrow())


def test_duckdb_pushes_columns_and_filter_into_the_scan(tbl):
    q = "select id, cat from {} where price > 50 and cat = 'c1' order by id"
    got = duckdb.sql(q.format("tbl")).fetchall()
    (scan,) = tbl._inner.scans
    sql, params, columns = scan[:3]
    assert set(columns) == {"id", "cat", "price"}, "only the columns the query uses"
    # DuckDB keeps the float comparison for itself and pushes the string one.
    assert sql == '("cat" = ?)' and params == ["c1"]
    ref = tbl.to_arrow()  # noqa: F841 - DuckDB reads it by name
    assert got == duckdb.sql(q.format("ref")).fetchall()
    assert got, "the case selects rows"


@pytest.mark.parametrize(
    "where",
    [
        "price > 20",
        "price <= 30 or cat is null",
        "cat in ('c1', 'c2') and ok",
        "not ok and price between 10 and 40",
        "day >= date '2024-01-20'",
        "price is null",
        "cat like 'c%' and id < 100",
        "isnan(price)",
        "id in (3, 5, 8) or cat in ('c1')",
        "day >= date '2024-01-20' and id not in (40, 41)",
    ],
)
def test_duckdb_answers_match_a_materialised_table(tbl, where):
    ref = tbl.to_arrow()  # noqa: F841 - DuckDB reads it by name
    q = f"select id, coalesce(cast(price as varchar), '-'), cat from {{}} where {where} order by id"
    assert duckdb.sql(q.format("tbl")).fetchall() == duckdb.sql(q.format("ref")).fetchall()


def polars_cases():
    c = pl.col
    return [
        c("price") > 20,
        (c("price") <= 30) | c("cat").is_null(),
        c("cat").is_in(["c1", "c2"]) & c("ok"),
        ~c("ok") & c("price").is_between(10, 40),
        c("day") >= datetime.date(2024, 1, 20),
        c("price").is_nan(),
        c("cat").str.starts_with("c3") & (c("id") < 150),
        (c("price") * 2 > 50) & (c("id") > 10),
        c("price") != 5.0,
        c("ok"),
    ]


@pytest.mark.parametrize("predicate", polars_cases())
def test_polars_answers_match_a_materialised_table(tbl, predicate):
    want = reference(tbl).filter(predicate).select("id", "price")
    got = tbl.scan().filter(predicate).select("id", "price").collect()
    assert got.sort("id").equals(want.sort("id"))


def test_polars_pushes_columns_filter_and_limit(tbl):
    tbl.scan().filter(pl.col("price") > 50).select("id").collect()
    sql, params, columns = tbl._inner.scans[-1][:3]
    assert columns == ["id", "price"]
    assert sql == '("price" > ?)' and params == [50]
    assert tbl.scan().select("id").head(3).collect()["id"].to_list() == [0, 1, 2]
    assert tbl._inner.scans[-1][2:4] == (["id"], 3), "the limit reaches the scan"


def test_polars_filter_oxvec_refuses_falls_back(tbl):
    # Polars compares a date with a string literal its own way; oxvec's SQL may refuse it.
    got = tbl.scan().filter(pl.col("cat") > "c2").select("id").collect()
    want = reference(tbl).filter(pl.col("cat") > "c2").select("id")
    assert got.equals(want)


def test_scan_streams_batches_of_the_asked_size(tbl):
    tbl.scan().select("id").collect()
    assert tbl._inner.scans[-1][6] > 0
    sizes = [b.num_rows for b in tbl.scanner(columns=["id"], batch_size=50).to_reader()]
    assert max(sizes) <= 50 and sum(sizes) == len(tbl)


def test_a_table_is_a_pyarrow_dataset(tbl):
    assert isinstance(tbl, ds.Dataset)
    assert tbl.to_table(columns=["id"], filter=ds.field("id") < 3).to_pydict() == {"id": [0, 1, 2]}
    assert tbl.take([1, 0], columns=["id"]).to_pydict() == {"id": [1, 0]}
    assert tbl.scanner(columns=["id"], filter=ds.field("cat") == "c1").count_rows() == len(
        reference(tbl).filter(pl.col("cat") == "c1")
    )
    with pytest.raises(NotImplementedError, match=r"Dataset\.join is not available"):
        tbl.join(tbl, "id")
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(tbl)
    with pytest.raises(oxvec.InvalidInputError, match="unknown column 'nope'"):
        tbl.scanner(columns=["nope"])


def test_every_pyarrow_dataset_method_is_defined_by_oxvec():
    """pyarrow's own methods would read a native dataset a Table does not have (a crash):
    each must be one of ours."""
    from oxvec._dataset import ArrowDataset

    for name in dir(ds.Dataset):
        if name.startswith("__") and name not in ("__reduce__", "__setstate__"):
            continue
        owner = next(k for k in oxvec.Table.__mro__ if name in vars(k))
        assert owner in (oxvec.Table, ArrowDataset), f"{name} comes from {owner}"


def test_translations_keep_every_row_the_engine_keeps():
    schema = pa.schema([("x", pa.float64()), ("s", pa.string()), ("b", pa.bool_())])
    # NOT and column-to-column comparisons are never pushed (NaN orders differently).
    assert from_polars(~(pl.col("x") > 1), schema) == (None, [], False)
    assert from_polars(pl.col("x") > pl.col("x"), schema) == (None, [], False)
    assert from_polars(pl.col("x") > float("nan"), schema) == (None, [], False)
    assert from_polars(pl.col("x") > 2**70, schema) == (None, [], False)
    assert from_polars((pl.col("x") > 1) & (pl.col("x").sin() > 0), schema) == (
        '("x" > ?)',
        [1],
        False,
    )
    assert from_arrow(~(ds.field("x") > 1), schema.names) == (None, [], False)
    assert from_arrow((ds.field("x") > 1) & (ds.field("s") == 'a"b'), schema.names)[2] is False
    assert from_arrow(ds.field("s") == "it's", schema.names) == ('("s" = ?)', ["it's"], True)


def test_random_predicates_agree(tbl):
    """Random conjunctions and disjunctions of comparisons, through both engines."""
    rng = np.random.default_rng(3)
    ref = reference(tbl)
    ops = ["<", "<=", ">", ">=", "=", "<>"]
    for _ in range(40):
        parts = []
        for _ in range(rng.integers(1, 4)):
            col, val = rng.choice([("price", rng.uniform(0, 100)), ("id", rng.integers(0, 200))])
            parts.append(f"{col} {rng.choice(ops)} {val}")
        joiner = rng.choice([" and ", " or "])
        where = joiner.join(parts)
        q = "select id from {} where " + where + " order by id"
        arrow_ref = tbl.to_arrow()  # noqa: F841 - DuckDB reads it by name
        assert (
            duckdb.sql(q.format("tbl")).fetchall() == duckdb.sql(q.format("arrow_ref")).fetchall()
        ), where
        expr = pl.sql_expr(where)
        got = tbl.scan().filter(expr).select("id").collect().sort("id")
        assert got.equals(ref.filter(expr).select("id").sort("id")), where
