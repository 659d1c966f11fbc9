"""Promises that broke when tried as a hostile user would: each test failed on the code before
its fix."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import oxvec
import pyarrow as pa
import pytest


def vectors_table(n: int, dim: int, start: int = 0, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    return pa.table(
        {
            "id": pa.array(np.arange(start, start + n), pa.int64()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), dim),
        }
    )


def test_timedelta_max_keeps_every_version(tmp_path):
    db = oxvec.connect(tmp_path, auto_cleanup_older_than=timedelta.max, auto_cleanup_every=2)
    tbl = db.create_table("t", [{"id": 0, "vector": [0.0, 1.0]}])
    for i in range(1, 5):
        tbl.add([{"id": i, "vector": [float(i), 1.0]}])
    tbl.cleanup_old_versions(older_than=timedelta.max)
    assert [v["version"] for v in tbl.list_versions()] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seconds", [1e20, float("inf")])
def test_huge_durations_mean_forever_not_a_panic(tmp_path, seconds):
    db = oxvec.connect(tmp_path, read_consistency_interval=timedelta(seconds=0))
    tbl = db.create_table("t", [{"id": 0, "vector": [0.0, 1.0]}])
    tbl.add([{"id": 1, "vector": [1.0, 1.0]}])
    tbl.cleanup_old_versions(older_than=seconds)
    tbl.optimize(cleanup_older_than=seconds)
    assert len(tbl.list_versions()) >= 2
    oxvec.connect(tmp_path, read_consistency_interval=seconds)
    with pytest.raises(oxvec.InvalidInputError, match="non-negative"):
        tbl.cleanup_old_versions(older_than=-1)


def test_a_huge_refine_factor_still_returns_limit_rows(tmp_path):
    tbl = oxvec.connect(tmp_path).create_table("t", vectors_table(200, 16))
    tbl.create_index(index_type="IVF_PQ", metric="l2", num_partitions=4)
    q = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    assert len(tbl.search(q).limit(8).refine_factor(2**61).to_list()) == 8


def test_filtered_index_search_finds_rows_after_time_travel(tmp_path):
    # Fragments of 14k and 6k rows x 512 (so a filter matching fragment 0 alone still goes
    # through the index), an index over both, then a delete that empties fragment 1. The
    # index's row -> node map used to be cached from the first snapshot that searched, which
    # had no fragment 1, so later snapshots never returned its rows.
    dim = 512
    tbl = oxvec.connect(tmp_path).create_table("t", vectors_table(14_000, dim))
    tbl.add(vectors_table(6_000, dim, start=14_000, seed=1))
    tbl.create_index(index_type="HNSW", metric="l2", m=8, ef_construction=32)
    assert tbl.version == 3
    target = vectors_table(6_000, dim, start=14_000, seed=1)["vector"][1234].values.to_numpy()
    tbl.delete("id >= 14000")
    # An unfiltered search at v4 walks the index through the row -> node map, built here.
    assert len(tbl.search(target).to_list()) == 10
    tbl.checkout(3)
    assert "path: index" in tbl.search(target).where("id >= 0").explain()
    assert tbl.search(target).where("id >= 0").limit(1).to_list()[0]["id"] == 15_234
    assert tbl.search(target).limit(1).to_list()[0]["id"] == 15_234
    tbl.restore()
    assert tbl.search(target).where("id >= 0").limit(1).to_list()[0]["id"] == 15_234


def test_knobs_of_the_other_index_kind_are_refused(tmp_path):
    tbl = oxvec.connect(tmp_path).create_table("t", vectors_table(500, 8))
    tbl.create_index(index_type="IVF_PQ", metric="l2", num_partitions=4, num_sub_vectors=2)
    q = np.zeros(8, np.float32)
    with pytest.raises(oxvec.InvalidInputError, match="ef does not apply"):
        tbl.search(q).ef(32).to_list()
    tbl.create_index(index_type="HNSW", metric="l2")
    with pytest.raises(oxvec.InvalidInputError, match="nprobes does not apply"):
        tbl.search(q).nprobes(2).to_list()
