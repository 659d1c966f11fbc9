"""Every accepted kind of input data ends up as the same rows."""

from __future__ import annotations

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from conftest import DIM, make_rows, make_table


def _check(t: oxvec.Table, n: int) -> None:
    assert len(t) == n
    assert t.schema.field("vector").type == pa.list_(pa.float32(), DIM)
    got = t.to_arrow().sort_by("id")
    assert got.column("id").to_pylist() == list(range(n))


def test_pyarrow_table_batch_reader(db: oxvec.Database) -> None:
    data = make_table(30)
    _check(db.create_table("a", data), 30)
    _check(db.create_table("b", data.to_batches()[0]), 30)
    _check(
        db.create_table(
            "c", pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=7))
        ),
        30,
    )
    _check(db.create_table("d", iter(data.to_batches(max_chunksize=4))), 30)
    _check(db.create_table("e", data.to_batches(max_chunksize=4)), 30)


def test_list_of_dicts_with_lists_and_numpy(db: oxvec.Database) -> None:
    rows = make_rows(20)
    _check(db.create_table("lists", rows), 20)
    np_rows = [{**r, "vector": np.asarray(r["vector"], dtype=np.float64)} for r in rows]
    _check(db.create_table("arrays", np_rows), 20)


def test_pandas(db: oxvec.Database) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(make_rows(25))
    df["vector"] = [np.asarray(v, dtype=np.float32) for v in df["vector"]]
    t = db.create_table("pd", df)
    _check(t, 25)
    out = t.to_pandas()
    assert list(out.columns) == ["id", "category", "price", "vector"]
    t.add(pd.DataFrame(make_rows(5, start=25)))
    assert len(t) == 30


def test_polars_zero_copy_stream(db: oxvec.Database) -> None:
    pl = pytest.importorskip("polars")
    df = pl.from_arrow(make_table(40))
    _check(db.create_table("pl", df), 40)
    t = db.open_table("pl")
    back = t.to_polars()
    assert back.shape == (40, 4)
    assert pl.DataFrame(t).shape == (40, 4)  # the table itself is an Arrow stream
    res = t.search(np.ones(DIM)).limit(3).to_polars()
    assert res.columns[-1] == "_distance" and res.height == 3


def test_duckdb_relation(db: oxvec.Database) -> None:
    duckdb = pytest.importorskip("duckdb")
    src = make_table(12)  # noqa: F841 - read by DuckDB's replacement scan
    rel = duckdb.sql("SELECT id, category, price, vector FROM src")
    _check(db.create_table("duck", rel), 12)
    t = db.open_table("duck")  # noqa: F841 - read by DuckDB replacement scan
    assert duckdb.sql("SELECT count(*) FROM t").fetchall()[0][0] == 12  # reads our stream


def test_pydantic_models_and_schema(db: oxvec.Database) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Doc(pydantic.BaseModel):
        id: int
        category: str
        price: float
        vector: oxvec.Vector(DIM)  # type: ignore[valid-type]
        note: str | None = None

    rows = [Doc(**r) for r in make_rows(10)]
    t = db.create_table("pyd", rows, schema=Doc)
    assert t.schema.field("vector").type == pa.list_(pa.float32(), DIM)
    assert not t.schema.field("id").nullable and t.schema.field("note").nullable
    _check(t, 10)
    t.add([Doc(**r) for r in make_rows(2, start=10)])
    assert len(t) == 12
    empty = db.create_table("pyd_empty", schema=Doc)
    assert len(empty) == 0


def test_float16_vectors(db: oxvec.Database) -> None:
    vecs = np.random.default_rng(1).standard_normal((50, 8)).astype(np.float16)
    data = pa.table(
        {
            "id": pa.array(range(50)),
            "v": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), 8),
        }
    )
    t = db.create_table("h", data)
    assert t.schema.field("v").type == pa.list_(pa.float16(), 8)
    q = vecs[7].astype(np.float32)
    hit = t.search(q).limit(1).to_list()[0]
    assert hit["id"] == 7 and hit["_distance"] == pytest.approx(0.0, abs=1e-6)


def test_add_converts_types_by_name(db: oxvec.Database) -> None:
    t = db.create_table("t", make_table(5))
    # Columns in another order, int32 ids, float64 vectors as plain lists: all converted.
    extra = pa.table(
        {
            "vector": pa.array([[0.0] * DIM] * 2, pa.list_(pa.float64())),
            "price": pa.array([1, 2], pa.int32()),
            "id": pa.array([100, 101], pa.int32()),
            "category": ["x", "y"],
        }
    )
    t.add(extra)
    assert len(t) == 7
    assert t.schema.field("id").type == pa.int64()
    assert t.search().where("id >= 100").to_arrow().column("price").to_pylist() == [1.0, 2.0]


def test_missing_nullable_column_is_filled_with_nulls(db: oxvec.Database) -> None:
    t = db.create_table("t", make_table(3))
    t.add([{"id": 9, "vector": [0.0] * DIM}])
    row = t.search().where("id = 9").to_list()[0]
    assert row["category"] is None and row["price"] is None


def test_large_input_spans_many_batches(db: oxvec.Database) -> None:
    batches = [make_table(1000, start=i * 1000).to_batches()[0] for i in range(20)]
    t = db.create_table("big", iter(batches))
    assert len(t) == 20_000
    assert t.count_rows("id % 1000 = 0") == 20
