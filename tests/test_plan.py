"""Query planning: one plan per call from one snapshot, the path chosen for each case, and
``Query.explain()`` saying which."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import oxvec
import pyarrow as pa
import pytest

DIM = 16
N = 3000


def table_of(n: int, start: int = 0, seed: int = 0, dim: int = DIM) -> pa.Table:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    ids = np.arange(start, start + n)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "cat": pa.array((ids % 100).astype(np.int32)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), dim),
        }
    )


@pytest.fixture
def indexed(tmp_path):
    db = oxvec.connect(tmp_path)
    tbl = db.create_table("t", table_of(N))
    tbl.create_index(index_type="HNSW", metric="cosine")
    return db, tbl


def query() -> np.ndarray:
    return np.random.default_rng(7).standard_normal(DIM).astype(np.float32)


def test_indexed_search_uses_the_index_with_calibrated_knobs(indexed):
    _, tbl = indexed
    text = tbl.search(query()).limit(5).explain()
    assert "path: index 'vector_idx' (HNSW), ef=" in text
    assert "calibrated for recall@10" in text
    assert "metric cosine (the index's)" in text
    assert "filter: none" in text
    assert "unindexed" not in text
    assert text.startswith("vector search on version 2:")


def test_bypass_and_metric_mismatch_search_exactly_and_say_why(indexed):
    _, tbl = indexed
    bypassed = tbl.search(query()).bypass_vector_index().explain()
    assert "path: exact search (bypass_vector_index() skips index 'vector_idx')" in bypassed
    # The index's metric stays the default metric of a bypassed search.
    assert "metric cosine (the index's)" in bypassed
    other = tbl.search(query()).metric("l2").explain()
    assert "index 'vector_idx' was built for metric cosine, not l2" in other
    assert "metric l2 (set on the query)" in other


def test_a_selective_filter_searches_the_matching_rows_exactly(indexed):
    _, tbl = indexed
    text = tbl.search(query()).where("cat = 3").explain()
    assert "the filter matches few rows" in text
    assert "30 of 3000 live rows match" in text
    assert "estimated rows scanned: 30" in text
    hits = tbl.search(query()).where("cat = 3").limit(100).to_arrow()
    assert hits.num_rows == 30
    assert set(hits["id"].to_pylist()) == {i for i in range(N) if i % 100 == 3}


def test_a_loose_filter_goes_through_the_index_with_more_probes(tmp_path):
    # Exact search over the matches would cost more than 6M multiply-adds: 12,500 x 512.
    dim = 512
    tbl = oxvec.connect(tmp_path).create_table("t", table_of(25_000, dim=dim))
    tbl.create_index(index_type="IVF_RQ", metric="l2")
    q = np.random.default_rng(7).standard_normal(dim).astype(np.float32)
    text = tbl.search(q).where("cat < 50").explain()
    assert "path: index 'vector_idx' (IVF_RQ), nprobes=" in text
    assert "12500 of 25000 live rows match, 50.0%" in text
    assert "the index walk skips non-matching rows; search knob widened from" in text
    ids = tbl.search(q).where("cat < 50").limit(20).to_arrow()["id"].to_pylist()
    assert len(ids) == 20 and all(i % 100 < 50 for i in ids)


def test_rows_added_after_the_build_are_searched_exactly_beside_the_index(indexed):
    _, tbl = indexed
    tbl.add(table_of(250, start=N, seed=3))
    text = tbl.search(query()).explain()
    assert "path: index 'vector_idx'" in text
    assert "unindexed rows: 250" in text
    tbl.optimize()
    assert "unindexed" not in tbl.search(query()).explain()


def test_knobs_of_another_index_kind_are_refused(indexed):
    _, tbl = indexed
    with pytest.raises(oxvec.InvalidInputError, match="nprobes does not apply to index"):
        tbl.search(query()).nprobes(4).to_list()
    # Exact search takes no knobs, so none is wrong there.
    assert len(tbl.search(query()).nprobes(4).bypass_vector_index().to_list()) == 10


def test_one_look_for_a_newer_version_per_search(indexed):
    _, tbl = indexed
    before = tbl._inner._refresh_looks()
    tbl.search(query()).where("cat < ?", [50]).select(["id"]).limit(5).to_arrow()
    assert tbl._inner._refresh_looks() - before == 1
    before = tbl._inner._refresh_looks()
    tbl.search(query()).limit(5).to_numpy()
    assert tbl._inner._refresh_looks() - before == 1


@pytest.mark.parametrize("interval", [timedelta(0), None])
def test_a_filter_is_compiled_against_the_schema_of_the_version_it_runs_on(tmp_path, interval):
    db_a = oxvec.connect(tmp_path, read_consistency_interval=interval)
    db_b = oxvec.connect(tmp_path)
    rows = [{"id": i, "tag": f"t{i % 3}", "vector": [float(i), 0.0]} for i in range(30)]
    a = db_a.create_table("t", rows)
    assert (
        sorted(r["id"] for r in a.search([0.0, 0.0]).where("tag = 't1'").to_list())
        == [i for i in range(30) if i % 3 == 1][:10]
    )
    # Another handle replaces the table: same names, other types and positions.
    swapped = [{"vector": [float(i), 1.0], "tag": i % 4, "id": f"r{i}"} for i in range(40)]
    db_b.create_table("t", swapped, mode="overwrite")
    if interval is None:
        # Pinned: the old version, through its own schema.
        hits = a.search([0.0, 0.0]).where("tag = 't1'").limit(50).to_list()
        assert sorted(h["id"] for h in hits) == [i for i in range(30) if i % 3 == 1]
        with pytest.raises(oxvec.FilterError):
            a.search([0.0, 0.0]).where("tag = 1").to_list()
        a.checkout_latest()
    hits = a.search([0.0, 0.0]).where("tag = 1").limit(50).to_list()
    assert sorted(h["id"] for h in hits) == sorted(f"r{i}" for i in range(40) if i % 4 == 1)
    assert a.count_rows("tag = ?", [1]) == 10
    assert a.delete("tag = 1") == 10
    assert db_b.open_table("t").count_rows() == 30


def test_explain_needs_a_vector(indexed):
    _, tbl = indexed
    with pytest.raises(oxvec.InvalidInputError, match="explain"):
        tbl.search().explain()
