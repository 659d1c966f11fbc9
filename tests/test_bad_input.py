"""Bad input gets a typed error naming what was wrong, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from conftest import DIM, listing, make_rows, make_table


def _vec(i: int) -> list[float]:
    return [float(i)] * DIM


BAD_ROWS = [
    # (description, rows, exception, fragments the message must contain)
    (
        "wrong dimension",
        [{"id": 0, "vector": _vec(0)}, {"id": 1, "vector": [1.0] * (DIM - 1)}],
        oxvec.InvalidInputError,
        ["'vector'", "row 1", f"dimension {DIM - 1}", f"expected {DIM}"],
    ),
    (
        "NaN",
        [
            {"id": 0, "vector": _vec(0)},
            {"id": 1, "vector": [0.0] * 5 + [float("nan")] + [0.0] * 10},
        ],
        oxvec.InvalidInputError,
        ["'vector'", "row 1", "NaN", "position 5"],
    ),
    (
        "Inf",
        [{"id": 0, "vector": [float("inf")] + [0.0] * (DIM - 1)}],
        oxvec.InvalidInputError,
        ["'vector'", "row 0", "inf"],
    ),
    (
        "overflow to inf",
        [{"id": 0, "vector": [1e39] + [0.0] * (DIM - 1)}],
        oxvec.InvalidInputError,
        ["'vector'", "row 0", "inf"],
    ),
    (
        "None vector",
        [{"id": 0, "vector": _vec(0)}, {"id": 1, "vector": None}],
        oxvec.InvalidInputError,
        ["'vector'", "row 1", "null vector"],
    ),
    (
        "None inside a vector",
        [{"id": 0, "vector": [None] + [0.0] * (DIM - 1)}],
        oxvec.InvalidInputError,
        ["'vector'", "row 0", "null"],
    ),
    ("strings in a vector", [{"id": 0, "vector": ["a"] * DIM}], oxvec.SchemaError, ["'vector'"]),
    (
        "wrong column type",
        [{"id": "zero", "vector": _vec(0)}],
        oxvec.SchemaError,
        ["'id'", "expected int64", "got"],
    ),
    (
        "extra column",
        [{"id": 0, "vector": _vec(0), "bogus": 1}],
        oxvec.SchemaError,
        ["unexpected column 'bogus'"],
    ),
    ("missing vector", [{"id": 0}], oxvec.SchemaError, ["missing column 'vector'"]),
]


@pytest.mark.parametrize("desc,rows,exc,parts", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_add_bad_rows_writes_nothing(
    db: oxvec.Database, tmp_path: Path, desc: str, rows: list, exc: type, parts: list[str]
) -> None:
    schema = pa.schema(
        [pa.field("id", pa.int64()), pa.field("vector", pa.list_(pa.float32(), DIM))]
    )
    t = db.create_table("t", [{"id": 100, "vector": _vec(1)}], schema=schema)
    before = listing(tmp_path)
    with pytest.raises(exc) as info:
        t.add(rows)
    for p in parts:
        assert p in str(info.value), (desc, str(info.value))
    assert t.version == 1 and len(t) == 1
    assert listing(tmp_path) == before
    assert db.open_table("t").version == 1


@pytest.mark.parametrize("desc,rows,exc,parts", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_upsert_bad_rows_writes_nothing(
    db: oxvec.Database, tmp_path: Path, desc: str, rows: list, exc: type, parts: list[str]
) -> None:
    schema = pa.schema(
        [pa.field("id", pa.int64()), pa.field("vector", pa.list_(pa.float32(), DIM))]
    )
    t = db.create_table("t", [{"id": 0, "vector": _vec(1)}], schema=schema)
    before = listing(tmp_path)
    merge = t.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
    with pytest.raises(exc) as info:
        merge.when_not_matched_by_source_delete().execute(rows)
    for p in parts:
        assert p in str(info.value), (desc, str(info.value))
    assert t.version == 1 and len(t) == 1
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    "on,where,exc,match",
    [
        ("nope", None, oxvec.InvalidInputError, "unknown column .nope. in merge_insert key"),
        ([], None, oxvec.InvalidInputError, "at least one key column"),
        ("id", "source.nope = 1", oxvec.FilterError, "unknown column 'source.nope'"),
        ("id", "target.id >", oxvec.FilterError, "invalid filter"),
    ],
)
def test_upsert_bad_keys_and_conditions(
    db: oxvec.Database, tmp_path: Path, on: object, where: str | None, exc: type, match: str
) -> None:
    t = db.create_table("t", [{"id": 0, "vector": _vec(1)}])
    before = listing(tmp_path)
    with pytest.raises(exc, match=match):
        t.merge_insert(on).when_matched_update_all(where=where).execute(  # type: ignore[arg-type]
            [{"id": 0, "vector": _vec(2)}]
        )
    assert t.version == 1 and listing(tmp_path) == before


@pytest.mark.parametrize("desc,rows,exc,parts", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_create_with_bad_rows_writes_nothing(
    db: oxvec.Database, tmp_path: Path, desc: str, rows: list, exc: type, parts: list[str]
) -> None:
    schema = pa.schema(
        [pa.field("id", pa.int64()), pa.field("vector", pa.list_(pa.float32(), DIM))]
    )
    before = listing(tmp_path)
    with pytest.raises(exc):
        db.create_table("t", rows, schema=schema)
    assert listing(tmp_path) == before
    assert "t" not in db


def test_ragged_vectors_without_schema(db: oxvec.Database, tmp_path: Path) -> None:
    before = listing(tmp_path)
    with pytest.raises(
        oxvec.InvalidInputError, match="row 2 has a vector of dimension 2, expected 3"
    ):
        db.create_table("t", [{"v": [1.0, 2.0, 3.0]}, {"v": [1.0, 2.0, 3.0]}, {"v": [1.0, 2.0]}])
    assert listing(tmp_path) == before


def test_bad_row_in_a_later_batch_cleans_up_earlier_files(
    db: oxvec.Database, tmp_path: Path
) -> None:
    t = db.create_table("t", make_table(10))
    before = listing(tmp_path)
    good = make_table(500, start=10).to_batches()[0]
    vecs = np.zeros((5, DIM), dtype=np.float32)
    vecs[3, 7] = np.nan
    bad = (
        make_table(5, start=900)
        .set_column(3, "vector", pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), DIM))
        .to_batches()[0]
    )
    with pytest.raises(oxvec.InvalidInputError, match="row 503 has NaN at vector position 7"):
        t.add(iter([good, bad]))
    assert listing(tmp_path) == before and t.version == 1 and len(t) == 10


def test_non_nullable_column_rejects_nulls(db: oxvec.Database, tmp_path: Path) -> None:
    schema = pa.schema(
        [pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.list_(pa.float32(), 2))]
    )
    t = db.create_table("t", schema=schema)
    before = listing(tmp_path)
    with pytest.raises(
        oxvec.InvalidInputError, match="column 'id' is not nullable but row 1 is null"
    ):
        t.add(pa.table({"id": pa.array([1, None], pa.int64()), "v": [[1.0, 2.0], [3.0, 4.0]]}))
    assert listing(tmp_path) == before


def test_integer_overflow_is_an_error_not_a_wrap(db: oxvec.Database) -> None:
    schema = pa.schema([pa.field("small", pa.int8()), pa.field("v", pa.list_(pa.float32(), 1))])
    t = db.create_table("t", schema=schema)
    with pytest.raises(oxvec.InvalidInputError, match="'small'"):
        t.add([{"small": 1000, "v": [1.0]}])
    assert len(t) == 0


@pytest.mark.parametrize(
    "schema,match",
    [
        (pa.schema([pa.field("_distance", pa.float32())]), "reserved"),
        (pa.schema([pa.field("v", pa.list_(pa.float64(), 4))]), "float32 or float16"),
        (pa.schema([pa.field("a", pa.int32()), pa.field("a", pa.int32())]), "twice"),
        (pa.schema([]), "at least one column"),
    ],
)
def test_unusable_schemas(
    db: oxvec.Database, tmp_path: Path, schema: pa.Schema, match: str
) -> None:
    before = listing(tmp_path)
    with pytest.raises(oxvec.SchemaError, match=match):
        db.create_table("t", schema=schema)
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    "where,match",
    [
        ("nope = 1", "unknown column 'nope'"),
        ("id =", "id ="),
        ("id = 1; DROP TABLE t", "unexpected"),
        ("category > 3", "cannot"),
        ("id + 1", "boolean"),
        ("soundex(category) = 'a'", "unknown function 'soundex'"),
        ("id = ?", "placeholder"),
        ("", "empty"),
        ("(" * 500 + "id = 1" + ")" * 500, "recursion limit"),
    ],
)
def test_malformed_filters(db: oxvec.Database, tmp_path: Path, where: str, match: str) -> None:
    t = db.create_table("t", make_table(20))
    before = listing(tmp_path)
    for call in (
        lambda: t.search(np.zeros(DIM)).where(where).to_arrow(),
        lambda: t.search().where(where).to_arrow(),
        lambda: t.count_rows(where),
        lambda: t.delete(where),
        lambda: t.update(where, values={"price": 1.0}),
    ):
        with pytest.raises(oxvec.FilterError, match=match):
            call()
    assert listing(tmp_path) == before and t.version == 1


def test_update_with_bad_values_writes_nothing(db: oxvec.Database, tmp_path: Path) -> None:
    t = db.create_table("t", make_rows(10))
    before = listing(tmp_path)
    with pytest.raises(oxvec.InvalidInputError, match="NaN"):
        t.update("id = 1", values={"vector": [float("nan")] * DIM})
    with pytest.raises(oxvec.SchemaError, match="'id'"):
        t.update("id = 1", values={"id": "one"})
    assert listing(tmp_path) == before and t.version == 1


def test_unsupported_data_types(db: oxvec.Database) -> None:
    with pytest.raises(oxvec.InvalidInputError, match="list of dicts"):
        db.create_table("t", {"id": [1, 2]})
    with pytest.raises(oxvec.InvalidInputError, match="unsupported data type"):
        db.create_table("t", 42)
    with pytest.raises(oxvec.InvalidInputError, match="list of dicts or Pydantic"):
        db.create_table("t", [1, 2, 3])
    assert "t" not in db
