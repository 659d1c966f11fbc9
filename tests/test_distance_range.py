"""Query.distance_range: the nearest rows within a band of distances."""

from __future__ import annotations

import numpy as np
import oxvec
import pytest


@pytest.fixture
def tbl():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((3000, 8)).astype(np.float32)
    return oxvec.connect("memory://").create_table(
        "t", [{"id": i, "vector": v[i]} for i in range(3000)]
    ), v


def brute(v, q, lo, hi, k):
    d = ((v - q) ** 2).sum(1)
    ok = np.ones(len(d), bool)
    if lo is not None:
        ok &= d >= lo
    if hi is not None:
        ok &= d < hi
    idx = np.nonzero(ok)[0]
    return idx[np.argsort(d[idx], kind="stable")][:k].tolist()


@pytest.mark.parametrize(("lo", "hi"), [(None, 6.0), (10.0, None), (8.0, 9.0), (20.0, 21.0)])
def test_matches_brute_force(tbl, lo, hi):
    t, v = tbl
    q = v[0] * 0.5
    got = t.search(q).distance_range(lo, hi).limit(25).to_arrow()
    want = brute(v, q, lo, hi, 25)
    assert got["id"].to_pylist() == want
    d = got["_distance"].to_numpy()
    assert (lo is None or (d >= lo).all()) and (hi is None or (d < hi).all())


def test_rows_nearer_than_the_band_do_not_use_up_the_limit(tbl):
    t, v = tbl
    q = v[0]
    lo = float(np.sort(((v - q) ** 2).sum(1))[500])  # 500 rows are nearer than the band
    got = t.search(q).distance_range(lo).limit(10).to_arrow()
    assert got.num_rows == 10 and got["id"].to_pylist() == brute(v, q, lo, None, 10)


def test_with_filter_and_numpy(tbl):
    t, v = tbl
    got = t.search(v[3]).where("id % 2 = 0").distance_range(1.0, 12.0).limit(5).to_numpy()
    assert len(got["id"]) == 5 and all(i % 2 == 0 for i in got["id"])
    assert ((got["_distance"] >= 1.0) & (got["_distance"] < 12.0)).all()


def test_bad_ranges_are_refused(tbl):
    t, v = tbl
    with pytest.raises(oxvec.InvalidInputError, match="below upper_bound"):
        t.search(v[0]).distance_range(5.0, 5.0)
    with pytest.raises(oxvec.InvalidInputError, match="finite"):
        t.search(v[0]).distance_range(float("nan"))
    with pytest.raises(oxvec.InvalidInputError, match="vector search"):
        t.search().distance_range(0.0, 1.0).to_list()
    with pytest.raises(oxvec.InvalidInputError, match="one query vector"):
        t.search(v[:2]).distance_range(0.0, 1.0).to_list()
