"""Exact search against a numpy reference, filters and the query builder."""

from __future__ import annotations

import datetime

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from conftest import DIM, make_table, reference_search, vectors_of


@pytest.fixture
def table(db: oxvec.Database) -> tuple[oxvec.Table, pa.Table]:
    data = pa.concat_tables(
        [make_table(700), make_table(600, start=700), make_table(9, start=1300)]
    )
    t = db.create_table("t", data.slice(0, 700))
    t.add(data.slice(700))
    return t, data


@pytest.mark.parametrize("metric", ["l2", "cosine", "dot"])
@pytest.mark.parametrize("k", [1, 10, 57])
def test_matches_numpy_reference(table: tuple[oxvec.Table, pa.Table], metric: str, k: int) -> None:
    t, data = table
    vecs = vectors_of(data)
    rng = np.random.default_rng(k)
    for _ in range(5):
        q = rng.standard_normal(DIM).astype(np.float32)
        res = t.search(q).metric(metric).limit(k).to_arrow()
        idx, dist = reference_search(vecs, q, k, metric)
        assert res.column("id").to_pylist() == data.column("id").take(idx).to_pylist()
        np.testing.assert_allclose(res.column("_distance").to_numpy(), dist, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("metric", ["l2", "cosine", "dot"])
@pytest.mark.parametrize("where", [None, "category = 'a'", "id % 7 = 0"])
def test_many_queries_at_once_match_the_numpy_reference(
    table: tuple[oxvec.Table, pa.Table], metric: str, where: str | None
) -> None:
    """Four or more queries go through the tile kernel (dot products of query x row tiles,
    distances from norms); each query's answer must still be the reference's."""
    t, data = table
    rng = np.random.default_rng(3)
    qs = rng.standard_normal((37, DIM)).astype(np.float32)
    query = t.search(qs).metric(metric).limit(10)
    if where is not None:
        query = query.where(where)
        keep = np.asarray(t.search().where(where).select(["id"]).limit(100_000).to_arrow()["id"])
    else:
        keep = np.asarray(data["id"])
    res = query.to_arrow()
    ids = np.asarray(data["id"])
    vecs = vectors_of(data)[np.isin(ids, keep)]
    kept_ids = ids[np.isin(ids, keep)]
    for qi in range(len(qs)):
        got = res.filter(pa.compute.equal(res["query_index"], qi))
        idx, dist = reference_search(vecs, qs[qi], 10, metric)
        assert got["id"].to_pylist() == kept_ids[idx].tolist(), f"query {qi}"
        np.testing.assert_allclose(got["_distance"].to_numpy(), dist, rtol=1e-4, atol=1e-4)


def test_results_carry_columns_and_ascending_distance(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, _ = table
    res = t.search(np.zeros(DIM)).limit(20).to_arrow()
    assert res.column_names == ["id", "category", "price", "vector", "_distance"]
    d = res.column("_distance").to_numpy()
    assert (np.diff(d) >= 0).all()


def test_select_row_id_and_default_limit(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, _ = table
    res = t.search(np.ones(DIM)).select(["id"]).with_row_id().to_arrow()
    assert res.column_names == ["id", "_distance", "_rowid"]
    assert res.num_rows == 10
    assert len(set(res.column("_rowid").to_pylist())) == 10
    assert t.search(np.ones(DIM)).select("price").limit(1).to_arrow().column_names == [
        "price",
        "_distance",
    ]
    with pytest.raises(oxvec.InvalidInputError, match="unknown column 'nope'"):
        t.search(np.ones(DIM)).select(["nope"]).to_arrow()


def test_batch_queries_add_query_index(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, data = table
    qs = np.random.default_rng(3).standard_normal((7, DIM)).astype(np.float32)
    res = t.search(qs).limit(4).to_arrow()
    assert res.num_rows == 28
    assert res.column("query_index").to_pylist() == [i for i in range(7) for _ in range(4)]
    vecs = vectors_of(data)
    for i, q in enumerate(qs):
        idx, _ = reference_search(vecs, q, 4, "l2")
        got = res.filter(pa.compute.equal(res.column("query_index"), i)).column("id").to_pylist()
        assert got == data.column("id").take(idx).to_pylist()


def test_filtered_search_returns_k_matching_rows(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, data = table
    vecs = vectors_of(data)
    q = np.random.default_rng(9).standard_normal(DIM).astype(np.float32)
    for where, params, mask in [
        ("category = ?", ["beta"], lambda ids: ids % 3 == 1),
        ("id < 20", None, lambda ids: ids < 20),  # 1.5% selectivity
        ("id = 1305", None, lambda ids: ids == 1305),
        (
            "price BETWEEN 10 AND 20 AND category <> 'gamma'",
            None,
            lambda ids: ((ids % 50 + 0.5) >= 10) & ((ids % 50 + 0.5) <= 20) & (ids % 3 != 2),
        ),
    ]:
        res = t.search(q).where(where, params).limit(10).to_arrow()
        ids = data.column("id").to_numpy()
        keep = np.nonzero(mask(ids))[0]
        idx, _ = reference_search(vecs[keep], q, 10, "l2")
        assert res.column("id").to_pylist() == ids[keep][idx].tolist(), where


def test_deleted_rows_are_never_returned(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, data = table
    q = vectors_of(data)[42]
    assert t.search(q).limit(1).to_list()[0]["id"] == 42
    t.delete("id = 42 OR id > 1000")
    res = t.search(q).limit(400).to_arrow().column("id").to_pylist()
    assert 42 not in res and max(res) <= 1000


def test_filtered_scan_without_vector(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, _ = table
    res = t.search().where("id >= ? AND category LIKE 'al%'", [1290]).select(["id"]).to_arrow()
    assert res.column_names == ["id"]
    assert res.column("id").to_pylist() == [1290, 1293, 1296, 1299, 1302, 1305, 1308]
    assert t.search().limit(3).to_arrow().num_rows == 3
    assert t.search().where("id < 5").with_row_id().to_arrow().column_names[-1] == "_rowid"


def test_vector_column_resolution(db: oxvec.Database) -> None:
    data = pa.table(
        {
            "id": [0, 1],
            "a": pa.FixedSizeListArray.from_arrays(pa.array([0.0, 0.0, 1.0, 1.0], pa.float32()), 2),
            "b": pa.FixedSizeListArray.from_arrays(
                pa.array([5.0, 5.0, 0.0, 0.0, 0.0, 0.0], pa.float32()), 3
            ),
        }
    )
    t = db.create_table("two", data)
    with pytest.raises(oxvec.InvalidInputError, match="several vector columns"):
        t.search([0.0, 0.0]).to_arrow()
    assert t.search([1.0, 1.0], vector_column="a").limit(1).to_list()[0]["id"] == 1
    assert t.search([5.0, 5.0, 0.0], vector_column="b").limit(1).to_list()[0]["id"] == 0
    with pytest.raises(oxvec.InvalidInputError, match="not a vector column"):
        t.search([1.0], vector_column="id").to_arrow()
    no_vec = db.create_table("plain", [{"x": 1}])
    with pytest.raises(oxvec.InvalidInputError, match="no vector column"):
        no_vec.search([1.0]).to_arrow()


def test_filter_types_and_parameters(db: oxvec.Database) -> None:
    base = datetime.datetime(2024, 1, 1, 12, 0, 0)
    rows = [
        {
            "id": i,
            "flag": i % 2 == 0,
            "day": (base + datetime.timedelta(days=i)).date(),
            "ts": base + datetime.timedelta(hours=i),
            "name": f"item-{i}",
            "score": None if i == 3 else i * 1.5,
            "vector": [float(i), 0.0],
        }
        for i in range(10)
    ]
    t = db.create_table("types", rows)

    def ids(where: str, params: list | None = None) -> list[int]:
        return sorted(t.search().where(where, params).to_arrow().column("id").to_pylist())

    assert ids("flag") == [0, 2, 4, 6, 8]
    assert ids("NOT flag AND id < 5") == [1, 3]
    assert ids("flag = ?", [False]) == [1, 3, 5, 7, 9]
    assert ids("day >= ?", [datetime.date(2024, 1, 8)]) == [7, 8, 9]
    assert ids("day = '2024-01-03'") == [2]
    assert ids("day < DATE '2024-01-03'") == [0, 1]
    assert ids("ts > ?", [base + datetime.timedelta(hours=7, minutes=30)]) == [8, 9]
    aware = (base + datetime.timedelta(hours=8)).replace(tzinfo=datetime.timezone.utc)
    assert ids("ts >= ?", [aware]) == [8, 9]
    assert ids("ts < TIMESTAMP '2024-01-01 14:00:00'") == [0, 1]
    assert ids("name IN ('item-1', 'item-9', 'other')") == [1, 9]
    assert ids("name LIKE 'item-_'") == list(range(10))
    assert ids("score IS NULL") == [3]
    assert ids("score IS NOT NULL AND score * 2 > 20") == [7, 8, 9]
    assert ids("id % 4 = 0 OR id + 1 = 10") == [0, 4, 8, 9]
    assert ids("-id > -2") == [0, 1]
    assert ids("name = ?", ["item-1' OR '1'='1"]) == []
    assert ids("id = ?", [np.int64(4)]) == [4]
    assert ids("score > ?", [None]) == []
    # Raised through the one error map, as an oxvec error naming what was wrong.
    with pytest.raises(oxvec.InvalidInputError, match="filter parameters"):
        ids("id = ?", [object()])


def test_query_vector_errors(table: tuple[oxvec.Table, pa.Table]) -> None:
    t, _ = table
    with pytest.raises(
        oxvec.InvalidInputError, match="dimension 3, but column 'vector' has dimension 16"
    ):
        t.search([1.0, 2.0, 3.0]).to_arrow()
    with pytest.raises(oxvec.InvalidInputError, match="finite"):
        t.search([float("nan")] + [0.0] * 15).to_arrow()
    with pytest.raises(oxvec.InvalidInputError, match="numeric"):
        t.search(["a"] * 16).to_arrow()
    with pytest.raises(oxvec.InvalidInputError, match="1-D or 2-D"):
        t.search(np.zeros((2, 2, 16))).to_arrow()
    with pytest.raises(oxvec.InvalidInputError, match="empty"):
        t.search([]).to_arrow()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(oxvec.InvalidInputError, match="limit"):
            t.search(np.zeros(DIM)).limit(bad)  # type: ignore[arg-type]
    with pytest.raises(oxvec.InvalidInputError, match="unknown metric"):
        t.search(np.zeros(DIM)).metric("hamming").to_arrow()


def test_search_on_1000_rows_is_fast_enough_to_run_in_a_loop(db: oxvec.Database) -> None:
    # Functional smoke test of the small-table path (the latency bar is measured in benchmarks/).
    t = db.create_table("small", make_table(1000))
    q = np.ones(DIM, dtype=np.float32)
    first = t.search(q).limit(10).to_arrow()
    for _ in range(200):
        assert t.search(q).limit(10).to_arrow().equals(first)


def test_to_numpy_matches_to_arrow(db: oxvec.Database) -> None:
    n, dim = 50, 4
    rng = np.random.default_rng(7)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    data = pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "small": pa.array(np.arange(n, dtype=np.int16)),
            "half": pa.array(np.arange(n, dtype=np.float16)),
            "name": pa.array([f"row {i}" for i in range(n)]),
            "maybe": pa.array([None if i % 3 == 0 else i for i in range(n)], pa.int32()),
            "flag": pa.array([i % 2 == 0 for i in range(n)]),
            "when": pa.array(np.arange(n).astype("datetime64[s]")),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), dim),
        }
    )
    t = db.create_table("t", data.slice(0, 20))
    t.add(data.slice(20, 17))
    t.add(data.slice(37))
    queries = [
        t.search(vecs[3]).limit(7),
        t.search(vecs[:3]).select(["id", "vector"]).limit(5),
        t.search(vecs[3]).where("id > 1000"),
        t.search().where("id % 2 = 0"),
        t.search().select(["vector", "maybe"]).limit(40),
    ]
    for q in queries:
        expected = q.to_arrow()
        got = q.to_numpy()
        assert list(got) == expected.column_names
        for name in expected.column_names:
            col = expected[name]
            if pa.types.is_fixed_size_list(col.type):
                want = col.combine_chunks().flatten().to_numpy().reshape(-1, col.type.list_size)
            else:
                want = col.to_numpy()
            assert got[name].dtype == want.dtype, name
            assert got[name].shape == want.shape, name
            np.testing.assert_array_equal(got[name], want, err_msg=name)
    # Number and vector columns without nulls skip pyarrow; the rest go through it.
    direct = {name for name, p in queries[0]._execute().numpy_columns() if p is not None}
    assert direct == {"id", "small", "half", "vector", "_distance"}
    hits = t.search(vecs[3]).select(["id", "vector"]).limit(3).to_numpy()
    assert hits["id"][0] == 3
    np.testing.assert_array_equal(hits["vector"][0], vecs[3])
    hits["id"][0] = -1  # owned and writable
    empty = t.search(vecs[3]).where("id > 1000").select(["id", "vector"]).to_numpy()
    assert empty["id"].shape == (0,) and empty["vector"].shape == (0, dim)


def test_small_results_read_the_same_through_the_cached_schema_import(tmp_path):
    """A one-batch result is imported as one C array against a pyarrow schema cached by the
    result schema's hash (the first read of a schema goes through the stream reader). Both
    reads must give the same table, for every column type and for a schema that changes."""
    from oxvec import _results

    rows = [
        {
            "id": i,
            "name": None if i % 3 == 0 else f"n{i}",
            "tags": [f"t{i}", "x"],
            "meta": {"a": i, "b": None},
            "vector": [float(i), 1.0],
        }
        for i in range(20)
    ]
    tbl = oxvec.connect(tmp_path).create_table("t", rows)
    for query in [
        tbl.search([3.0, 1.0]).limit(5),
        tbl.search([3.0, 1.0]).limit(5).select(["name", "meta"]).with_row_id(True),
        tbl.search([[3.0, 1.0], [9.0, 1.0]]).limit(3),
        tbl.search().where("id > 4").limit(7),
    ]:
        _results._SCHEMAS.clear()
        first, second = query.to_arrow(), query.to_arrow()
        assert _results._SCHEMAS, "the one-batch result was not cached"
        assert second.equals(first) and second.schema == first.schema
    # The same column names with another type: another hash, never the cached schema.
    tbl2 = oxvec.connect(tmp_path).create_table(
        "u", [{"id": float(i), "name": i, "vector": [float(i), 1.0]} for i in range(20)]
    )
    got = tbl2.search([3.0, 1.0]).limit(5).to_arrow()
    assert got.schema.field("id").type == pa.float64()
    assert got["name"].to_pylist() == [3, 2, 4, 1, 5]
