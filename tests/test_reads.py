"""Reading as users of LanceDB read: given rows, all rows, result schemas, stats, models."""

from __future__ import annotations

import numpy as np
import oxvec
import pytest
from oxvec import _check
from pydantic import BaseModel


@pytest.fixture
def tbl(db):
    rng = np.random.default_rng(3)
    t = db.create_table(
        "t", [{"id": i, "text": f"doc {i}", "vector": rng.random(4)} for i in range(50)]
    )
    for start in (50, 120):
        t.add(
            [
                {"id": i, "text": f"doc {i}", "vector": rng.random(4)}
                for i in range(start, start + 70)
            ]
        )
    t.delete("id % 7 = 3 OR (id >= 60 AND id < 80)")
    return t


def test_take_offsets_matches_positions_of_a_scan(tbl) -> None:
    everything = tbl.to_arrow()
    rng = np.random.default_rng(0)
    offsets = [*rng.integers(0, everything.num_rows, 200).tolist(), 0, everything.num_rows - 1]
    got = tbl.take_offsets(offsets)
    assert got == everything.take(offsets)
    assert tbl.take_offsets([5], columns=["text"]).column_names == ["text"]
    empty = tbl.take_offsets([])
    assert empty.num_rows == 0 and empty.schema == everything.schema


def test_take_offsets_refuses_what_is_not_a_row(tbl) -> None:
    n = len(tbl)
    with pytest.raises(oxvec.InvalidInputError, match=f"offset {n} is past the table's {n} rows"):
        tbl.take_offsets([0, n])
    for bad in [[-1], ["a"], [1.5], [[1]], [2**64]]:
        with pytest.raises(oxvec.InvalidInputError):
            tbl.take_offsets(bad)
    with pytest.raises(oxvec.InvalidInputError, match="unknown column"):
        tbl.take_offsets([0], columns=["nope"])


def test_take_row_ids_returns_the_rows_results_named(tbl) -> None:
    hits = tbl.search(np.ones(4)).limit(5).with_row_id().to_arrow()
    ids = hits["_rowid"].to_pylist()[::-1]
    got = tbl.take_row_ids(ids)
    assert got["id"].to_pylist() == hits["id"].to_pylist()[::-1]
    scan = tbl.search().with_row_id().to_arrow()
    gone = scan["_rowid"][0].as_py()
    tbl.delete(f"id = {scan['id'][0].as_py()}")
    with pytest.raises(oxvec.InvalidInputError, match=f"row id {gone} is not a row"):
        tbl.take_row_ids([gone])
    with pytest.raises(oxvec.InvalidInputError, match="not a row"):
        tbl.take_row_ids([(999 << 32) | 1])


def test_limit_none_returns_every_result(tbl, monkeypatch) -> None:
    n = len(tbl)
    assert tbl.search().limit(None).to_arrow().num_rows == n
    hits = tbl.search(np.zeros(4)).limit(None).to_arrow()
    assert hits.num_rows == n
    assert hits["_distance"].to_pylist() == sorted(hits["_distance"].to_pylist())
    assert tbl.search(np.zeros(4)).where("id < 10").limit(None).to_arrow().num_rows == 9
    tbl.create_fts_index("text")
    assert tbl.search("doc").limit(None).to_arrow().num_rows == n
    assert "limit=None" in repr(tbl.search().limit(None))
    monkeypatch.setattr(_check, "MAX_RESULTS", 10)
    with pytest.raises(oxvec.InvalidInputError, match="at most 10"):
        tbl.search(np.zeros(4)).limit(None).to_arrow()
    assert tbl.search(np.zeros(4)).where("id < 10").limit(None).to_arrow().num_rows == 9


def test_output_schema_is_the_schema_of_the_results(tbl) -> None:
    tbl.create_fts_index("text")
    queries = [
        tbl.search(),
        tbl.search().select(["text", "id"]).with_row_id(),
        tbl.search(np.ones(4)),
        tbl.search(np.ones((3, 4))).select(["id"]).with_row_id(),
        tbl.search("doc").select(["id"]).with_row_id(),
        tbl.search("doc"),
    ]
    for q in queries:
        assert q.output_schema() == q.to_arrow().schema, q
    with pytest.raises(oxvec.InvalidInputError, match="unknown column 'nope'"):
        tbl.search().select(["nope"]).output_schema()


def test_to_pydantic(tbl) -> None:
    class Doc(BaseModel):
        id: int
        text: str

    docs = tbl.search().where("id < 3").to_pydantic(Doc)
    assert docs == [Doc(id=0, text="doc 0"), Doc(id=1, text="doc 1"), Doc(id=2, text="doc 2")]
    with pytest.raises(oxvec.InvalidInputError, match="Pydantic model"):
        tbl.search().to_pydantic(dict)


def test_stats_and_uri(tbl) -> None:
    s = tbl.stats()
    assert s["num_rows"] == len(tbl) and s["version"] == tbl.version
    assert s["num_deleted_rows"] == 190 - len(tbl)
    frags = s["fragment_stats"]
    assert frags["num_fragments"] == 3 and frags["num_small_fragments"] == 3
    assert frags["lengths"]["min"] <= frags["lengths"]["p50"] <= frags["lengths"]["max"]
    assert s["num_indices"] == 0 and s["index_bytes"] == 0 and s["data_bytes"] > 0
    tbl.create_scalar_index("id")
    s = tbl.stats()
    assert s["num_indices"] == 1 and s["indices"][0]["kind"] == "scalar"
    assert s["total_bytes"] == s["data_bytes"] + s["deletion_bytes"] + s["index_bytes"]
    assert tbl.uri.endswith("/t.oxvec") and tbl.uri.startswith("/")


def test_output_schema_of_one_query_row_in_a_2d_array(tbl) -> None:
    q = tbl.search(np.ones((1, 4)))
    assert q.output_schema() == q.to_arrow().schema


def test_stats_percentiles_are_nearest_rank(db) -> None:
    t = db.create_table("p", [{"x": i} for i in range(10)])
    t.add([{"x": i} for i in range(900)])
    lengths = t.stats()["fragment_stats"]["lengths"]
    assert (lengths["min"], lengths["p25"], lengths["p50"], lengths["p75"]) == (10, 10, 10, 900)
    assert (lengths["p99"], lengths["max"], lengths["mean"]) == (900, 900, 455.0)
