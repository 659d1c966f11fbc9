"""Writes as LanceDB users write them: add modes, bad vectors, result objects, retries."""

from __future__ import annotations

import pickle

import numpy as np
import oxvec
import pyarrow as pa
import pytest

BAD_ROWS = [
    {"id": 1, "vector": [1.0, 2.0]},
    {"id": 2, "vector": [1.0]},
    {"id": 3, "vector": None},
    {"id": 4, "vector": [float("nan"), 0.0]},
    {"id": 5, "vector": [float("inf"), 0.0]},
    {"id": 6, "vector": [3.0, None]},
    {"id": 7, "vector": [5.0, 6.0]},
]


def schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.int64()),
            pa.field("note", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), 2), nullable=False),
        ]
    )


def test_bad_vectors_are_an_error_by_default_and_nothing_is_written(db) -> None:
    tbl = db.create_table("t", schema=schema())
    with pytest.raises(oxvec.InvalidInputError, match="row 2 has a null vector"):
        tbl.add(BAD_ROWS)
    assert len(tbl) == 0 and tbl.version == 1


def test_drop_leaves_out_each_kind_of_bad_vector(db) -> None:
    tbl = db.create_table("t", schema=schema())
    res = tbl.add(BAD_ROWS, on_bad_vectors="drop")
    assert res == oxvec.AddResult(version=2)
    assert tbl.to_arrow()["id"].to_pylist() == [1, 7]


def test_fill_replaces_bad_vectors_in_every_position(db) -> None:
    tbl = db.create_table("t", schema=schema())
    tbl.add(BAD_ROWS, on_bad_vectors="fill", fill_value=-1)
    got = {r["id"]: r["vector"] for r in tbl.to_arrow().to_pylist()}
    assert got[1] == [1.0, 2.0] and got[7] == [5.0, 6.0]
    assert all(got[i] == [-1.0, -1.0] for i in range(2, 7))


def test_create_table_takes_the_same_policy(db) -> None:
    tbl = db.create_table("d", BAD_ROWS, on_bad_vectors="drop")
    assert tbl.to_arrow()["id"].to_pylist() == [1, 7]
    assert tbl.schema.field("vector").type == pa.list_(pa.float32(), 2)
    filled = db.create_table("f", BAD_ROWS, schema=schema(), on_bad_vectors="fill")
    assert len(filled) == 7
    with pytest.raises(oxvec.InvalidInputError):
        db.create_table("e", BAD_ROWS)
    assert "e" not in db


def test_bad_vectors_in_numpy_and_float64_columns(db) -> None:
    tbl = db.create_table("t", schema=schema())
    vecs = np.array([[1.0, 2.0], [np.nan, 1.0], [1e300, 1.0]])
    data = pa.table({"id": [1, 2, 3], "vector": pa.array(list(vecs), pa.list_(pa.float64()))})
    tbl.add(data, on_bad_vectors="drop")
    # 1e300 is finite as a double but would be infinite as the column's float: bad too.
    assert tbl.to_arrow()["id"].to_pylist() == [1]


def test_policy_and_fill_value_are_checked(db) -> None:
    tbl = db.create_table("t", schema=schema())
    with pytest.raises(oxvec.InvalidInputError, match="not supported"):
        tbl.add(BAD_ROWS, on_bad_vectors="null")
    with pytest.raises(oxvec.InvalidInputError, match="on_bad_vectors"):
        tbl.add(BAD_ROWS, on_bad_vectors="skip")
    for bad in [float("nan"), float("inf"), 1e39]:
        with pytest.raises(oxvec.InvalidInputError, match="fill_value"):
            tbl.add(BAD_ROWS, on_bad_vectors="fill", fill_value=bad)
    for bad in ["0", None, True]:
        with pytest.raises(oxvec.InvalidInputError, match="fill_value"):
            tbl.add(BAD_ROWS, on_bad_vectors="fill", fill_value=bad)
    with pytest.raises(oxvec.InvalidInputError, match="mode"):
        tbl.add(BAD_ROWS, mode="upsert")
    assert tbl.version == 1


def test_a_missing_nullable_column_is_null_and_a_missing_required_one_an_error(db) -> None:
    tbl = db.create_table("t", schema=schema())
    tbl.add([{"id": 1, "vector": [1.0, 1.0]}])
    assert tbl.to_arrow()["note"].to_pylist() == [None]
    strict = pa.schema([pa.field("id", pa.int64(), nullable=False), schema().field("vector")])
    tbl = db.create_table("s", schema=strict)
    with pytest.raises(oxvec.SchemaError, match="missing column 'id'"):
        tbl.add([{"vector": [1.0, 1.0]}])
    with pytest.raises(oxvec.SchemaError, match="missing column 'vector'"):
        tbl.add([{"id": 1}], on_bad_vectors="fill")


def test_add_overwrite_replaces_rows_and_keeps_the_schema(db) -> None:
    tbl = db.create_table("t", [{"id": i, "vector": [float(i), 0.0]} for i in range(300)])
    tbl.create_scalar_index("id")
    res = tbl.add([{"id": 1000, "vector": [1, 2]}], mode="overwrite")
    assert res.version == tbl.version == 3
    assert tbl.to_arrow().to_pylist() == [{"id": 1000, "vector": [1.0, 2.0]}]
    assert tbl.schema.field("vector").type == pa.list_(pa.float32(), 2)
    assert tbl.list_indices() == []
    tbl.checkout(2)
    assert len(tbl) == 300


def test_delete_and_update_results_count_rows_and_carry_the_version(db) -> None:
    tbl = db.create_table("t", [{"x": i} for i in range(5)])
    res = tbl.update("x < 2", values={"x": 9})
    assert isinstance(res, oxvec.UpdateResult) and isinstance(res, int)
    assert (res, res.rows_updated, res.version) == (2, 2, 2)
    assert repr(res) == "UpdateResult(rows_updated=2, version=2)"
    assert f"{res} rows" == "2 rows"
    res = tbl.delete("x = 9")
    assert (res, res.num_deleted_rows, res.version) == (2, 2, 3)
    assert pickle.loads(pickle.dumps(res)).version == 3
    none = tbl.delete("x > 100")
    assert (none, none.version) == (0, 3) and not none
    assert tbl.delete("true").num_deleted_rows == 3 and len(tbl) == 0


def test_delete_needs_a_condition(db) -> None:
    tbl = db.create_table("t", [{"x": 1}])
    for where in [None, 1, ["x = 1"]]:
        with pytest.raises(oxvec.InvalidInputError, match="true"):
            tbl.delete(where)
    assert len(tbl) == 1


def test_max_retries_is_checked(tmp_path) -> None:
    for bad in [-1, 1.5, "3", None]:
        with pytest.raises(oxvec.InvalidInputError, match="max_retries"):
            oxvec.connect(tmp_path, max_retries=bad)
    oxvec.connect(tmp_path, max_retries=0)


def test_review_findings_on_writes(db) -> None:
    tbl = db.create_table("t", schema=schema())
    with pytest.raises(oxvec.InvalidInputError, match="fill_value is too large"):
        tbl.add(BAD_ROWS, on_bad_vectors="fill", fill_value=10**400)
    with pytest.raises(oxvec.InvalidInputError, match="'error', 'drop', 'fill', got 'x'"):
        tbl.add(BAD_ROWS, on_bad_vectors="x")
