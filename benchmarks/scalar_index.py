"""Filters with and without a scalar index, on the same table in one run.

A 1M-row table (``--rows``) gets an equality filter matching 1% of the rows (a column of
100 distinct values, ``BITMAP``) and a range filter matching 1% (a uniform float,
``BTREE``); each is timed as ``count_rows`` and as a scan returning the matching ids, on a
copy of the table without indexes and one with them. ``merge_insert`` of 10k rows keyed by
a ``BTREE``-indexed column (5k updates, 5k inserts, a new set of keys each round) is timed
the same way twice, the rounds of the two tables alternating: each round into the table as
built (restored to its first version before the round, so the index covers every row, then
warmed by a merge of no rows: a restore gives the files new names, which are opened and
checked anew), and rounds one after another with no ``optimize()`` between (the rows of
earlier rounds an unindexed tail every merge scans). Medians of ``--repeat`` runs; the
ratio is unindexed / indexed (higher: the index helps more).

    python benchmarks/scalar_index.py [--rows 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import oxvec
import pyarrow as pa


def data(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "cat": pa.array(rng.integers(0, 100, n), pa.int64()),
            "val": pa.array(rng.random(n), pa.float64()),
            "name": pa.array([f"n{i}" for i in range(n)]),
        }
    )


def timed(fn, repeat: int) -> float:
    fn()  # warm: files mapped, indexes opened
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    n = args.rows
    db = oxvec.connect(tempfile.mkdtemp(), auto_compact_fragments=0, auto_cleanup_every=0)
    t = data(n)
    plain = db.create_table("plain", t)
    idx = db.create_table("idx", t)
    built = time.perf_counter()
    idx.create_scalar_index("cat", index_type="BITMAP")
    idx.create_scalar_index("val", index_type="BTREE")
    idx.create_scalar_index("id", index_type="BTREE")
    built = time.perf_counter() - built
    eq, rng_ = "cat = 42", "val BETWEEN 0.5 AND 0.51"
    assert plain.count_rows(eq) == idx.count_rows(eq)
    assert plain.count_rows(rng_) == idx.count_rows(rng_)
    rows = []
    for label, where in [("equality, 1% (BITMAP)", eq), ("range, 1% (BTREE)", rng_)]:
        for how, fn in [
            ("count_rows", lambda tb, w=where: tb.count_rows(w)),
            ("scan ids", lambda tb, w=where: tb.search().where(w).select(["id"]).to_arrow()),
        ]:
            a = timed(lambda f=fn: f(plain), args.repeat)
            b = timed(lambda f=fn: f(idx), args.repeat)
            rows.append((f"{label}, {how}", a, b))
    # Rounds of upserts: each 10k-row source updates 5k rows of the original table (a
    # fresh set per round) and inserts 5k new ones. Both tables get the same sequence, so
    # they hold the same rows after every round.
    rng = np.random.default_rng(1)
    rounds = args.repeat
    order = rng.permutation(n)

    def source(r: int) -> pa.Table:
        return pa.table(
            {
                "id": pa.array(
                    np.concatenate(
                        [order[r * 5000 : (r + 1) * 5000], np.arange(5000) + n + r * 5000]
                    ),
                    pa.int64(),
                ),
                "cat": pa.array(np.zeros(10_000, np.int64)),
                "val": pa.array(np.ones(10_000)),
                "name": pa.array(["m"] * 10_000),
            }
        )

    first = {id(plain): plain.version, id(idx): idx.version}

    def merge(tb: oxvec.Table, r: int, fresh: bool) -> float:
        src = source(r)
        upsert = tb.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
        if fresh:
            tb.restore(first[id(tb)])
            upsert.execute(src.slice(0, 0))
        s = time.perf_counter()
        upsert.execute(src)
        return time.perf_counter() - s

    for fresh, label in [(True, "into the 1M-row table"), (False, "successive, no optimize")]:
        # Rounds alternate between the tables, so a busy spell of a shared machine slows
        # both sides of the ratio rather than one.
        times: dict[int, list[float]] = {id(plain): [], id(idx): []}
        for r in range(rounds):
            for tb in (plain, idx):
                times[id(tb)].append(merge(tb, r, fresh))
        m_plain = statistics.median(times[id(plain)])
        m_idx = statistics.median(times[id(idx)])
        assert plain.count_rows() == idx.count_rows()
        rows.append((f"merge_insert 10k keyed by id (BTREE), {label}", m_plain, m_idx))
        plain.restore(first[id(plain)])
        idx.restore(first[id(idx)])
    print(f"{n:,} rows; building the three indexes took {built:.2f} s")
    print("| case | no index (ms) | with index (ms) | ratio |")
    print("|---|---|---|---|")
    for name, a, b in rows:
        print(f"| {name} | {a * 1e3:.2f} | {b * 1e3:.2f} | {a / b:.1f}x |")


if __name__ == "__main__":
    main()
