"""Memory-bounded index builds: an index over a table larger than the memory it may use.

Makes (once, cached in the git-ignored ``benchmarks/data/``) a table of ``--rows`` clustered
128-d float32 vectors (10M rows: 5 GB of vectors), then builds ``--index`` over it in a fresh
process and reports that process's peak resident memory two ways: the kernel's high-water
mark for the whole process (``ru_maxrss``: opening the table, the build, calibration) and the
build's own figures from ``index_stats`` (peak resident and peak anonymous bytes while
``create_index`` ran). Then recall@10 against exact search on held-out queries (drawn from
the same distribution, never in the table) and the QPS at a few settings.

    python benchmarks/build_memory.py --rows 10000000 --index IVF_RQ
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa

DATA = Path(__file__).parent / "data"
DIM = 128
BLOCK = 500_000
CENTERS = 1000


def centers() -> np.ndarray:
    return np.random.default_rng(12345).standard_normal((CENTERS, DIM), dtype=np.float32) * 3.0


def clustered_block(n: int, seed: int) -> np.ndarray:
    """``n`` points around the shared centres (unit noise): one seeded block at a time, so
    making 10M rows never holds more than one block."""
    rng = np.random.default_rng(seed)
    out = centers()[rng.integers(0, CENTERS, n)]
    out += rng.standard_normal((n, DIM), dtype=np.float32)
    return out


def table_for(rows: int) -> oxvec.Table:
    db = oxvec.connect(DATA / f"build_memory_{rows}")
    if "t" in db.table_names():
        tbl = db.open_table("t")
        if len(tbl) == rows:
            return tbl
        db.drop_table("t")
    started = time.perf_counter()
    tbl = None
    for s in range(0, rows, BLOCK):
        n = min(BLOCK, rows - s)
        v = clustered_block(n, 1 + s // BLOCK)
        data = pa.table(
            {
                "id": pa.array(np.arange(s, s + n), pa.int64()),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), DIM),
            }
        )
        if tbl is None:
            tbl = db.create_table("t", data)
        else:
            tbl.add(data)
        print(f"  wrote {s + n:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    assert tbl is not None
    return tbl


BUILD = """
import json, resource, sys, time, oxvec
tbl = oxvec.connect(sys.argv[1]).open_table("t")
t0 = time.perf_counter()
tbl.create_index(index_type=sys.argv[2], metric="l2", replace=True)
seconds = time.perf_counter() - t0
stats = tbl.index_stats("vector_idx")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "ru_maxrss": peak, "stats": stats}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--index", default="IVF_RQ")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    gib = 1 << 30
    tbl = table_for(args.rows)
    print(
        f"table: {len(tbl):,} rows x {DIM} float32 ({len(tbl) * DIM * 4 / gib:.2f} GiB of vectors)"
    )
    root = str(DATA / f"build_memory_{args.rows}")
    out = subprocess.run(
        [sys.executable, "-c", BUILD, root, args.index],
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    st = r["stats"]
    print(f"{args.index} build: {r['seconds']:.0f} s")
    print(
        f"  process peak RSS (ru_maxrss, open + build + calibrate): {r['ru_maxrss'] / gib:.2f} GiB"
    )
    if st.get("build_peak_rss") is not None:
        print(
            f"  index_stats: build_peak_rss {st['build_peak_rss'] / gib:.2f} GiB, "
            f"build_peak_anon {st['build_peak_anon'] / gib:.2f} GiB"
        )
    print(
        f"  index size on disk {st['size_on_disk'] / gib:.3f} GiB; calibration {st['calibration']['points']}"
    )

    tbl = oxvec.connect(root).open_table("t")
    queries = clustered_block(args.queries, 999_999)
    t0 = time.perf_counter()
    exact = tbl.search(queries).bypass_vector_index().limit(10).to_arrow()
    print(f"exact ground truth: {time.perf_counter() - t0:.1f} s for {args.queries} queries")
    truth = [set() for _ in range(args.queries)]
    for qi, i in zip(exact["query_index"].to_pylist(), exact["id"].to_pylist()):
        truth[qi].add(i)
    print("setting                    recall@10      QPS")
    for label, make in [
        ("default (calibrated)", lambda q: tbl.search(q)),
        ("target_recall=0.95", lambda q: tbl.search(q).target_recall(0.95)),
        ("nprobes=16", lambda q: tbl.search(q).nprobes(16)),
        ("nprobes=32", lambda q: tbl.search(q).nprobes(32)),
        ("nprobes=64", lambda q: tbl.search(q).nprobes(64)),
    ]:
        hits = 0
        t0 = time.perf_counter()
        for qi, q in enumerate(queries):
            got = make(q).limit(10).to_arrow()["id"].to_pylist()
            hits += len(truth[qi] & set(got))
        qps = args.queries / (time.perf_counter() - t0)
        print(f"{label:26} {hits / (10 * args.queries):9.3f} {qps:9.0f}")


if __name__ == "__main__":
    main()
