"""``timeout=``: a call still running after it stops with TimedOutError and commits nothing."""

from __future__ import annotations

import datetime

import numpy as np
import oxvec
import pytest


@pytest.fixture
def tbl(db):
    vecs = np.random.default_rng(0).random((20000, 32), dtype="float32")
    return db.create_table("t", [{"id": i, "vector": v} for i, v in enumerate(vecs)])


def test_a_query_past_its_timeout_raises_timed_out(tbl) -> None:
    q = tbl.search(np.ones(32)).where("id % 2 = 0").limit(5)
    with pytest.raises(oxvec.TimedOutError, match=r"within its timeout of 0\.000000001 s") as i:
        q.to_arrow(timeout=1e-9)
    assert isinstance(i.value, TimeoutError)
    assert len(q.to_list(timeout=datetime.timedelta(minutes=1))) == 5
    assert tbl.search().where("id < 3").to_pandas(timeout=60).shape[0] == 3
    # The limit is per call: the next call without one is not limited.
    assert len(q.to_list()) == 5


def test_timeouts_are_checked(tbl) -> None:
    for bad in [0, -1, float("nan"), "1s", datetime.timedelta(0)]:
        with pytest.raises(oxvec.InvalidInputError, match="timeout"):
            tbl.search().to_arrow(timeout=bad)


def test_a_merge_past_its_timeout_commits_nothing(tbl) -> None:
    v = tbl.version
    rows = [{"id": i, "vector": np.zeros(32)} for i in range(100)]
    merge = tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
    with pytest.raises(oxvec.TimedOutError):
        merge.execute(rows, timeout=1e-9)
    assert tbl.version == v
    assert merge.execute(rows, timeout=60).num_updated_rows == 100


def test_an_index_build_past_its_timeout_leaves_the_table_unchanged(tbl) -> None:
    with pytest.raises(oxvec.TimedOutError):
        tbl.create_index(metric="l2", m=8, timeout=1e-9)
    assert tbl.list_indices() == [] and tbl.version == 1


def test_a_streamed_scan_past_its_timeout_raises_timed_out(db) -> None:
    t = db.create_table("s", [{"id": i, "s": f"row {i}"} for i in range(200_000)])
    reader = t.search().where("s LIKE '%9%'").to_batches(1000, timeout=1e-6)
    with pytest.raises(oxvec.TimedOutError):
        sum(b.num_rows for b in reader)
    rows = sum(b.num_rows for b in t.search().where("id < 10").to_batches(4, timeout=60))
    assert rows == 10
