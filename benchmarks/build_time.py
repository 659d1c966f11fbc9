"""HNSW build time against hnswlib on the same data, side by side in one run.

Rounds alternate between the two libraries so machine noise hits both alike; the median per
library and the ratio (oxvec / hnswlib) are printed, with recall@10 of both at one ``ef`` on
the held-out queries. oxvec's time is ``create_index`` alone (graph, calibration included;
the table is made before the clock starts); hnswlib's is ``add_items`` on all cores.

    python benchmarks/build_time.py --real 100000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import oxvec
import pyarrow as pa
from ann_search import EF_CONSTRUCTION, K, M, ground_truth, recall
from bench_data import clustered, real_minilm


def oxvec_build(data: np.ndarray, metric: str, root: str) -> tuple[float, oxvec.Table]:
    db = oxvec.connect(root, monitor_recall=False)
    flat = pa.array(data.ravel())
    tbl = db.create_table(
        "t",
        pa.table(
            {
                "id": pa.array(np.arange(len(data)), pa.int64()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, data.shape[1]),
            }
        ),
    )
    t0 = time.perf_counter()
    tbl.create_index(
        index_type="HNSW", metric=metric, m=M, ef_construction=EF_CONSTRUCTION, progress=False
    )
    return time.perf_counter() - t0, tbl


def hnswlib_build(data: np.ndarray, metric: str) -> tuple[float, object]:
    import hnswlib

    p = hnswlib.Index(space="cosine" if metric == "cosine" else "l2", dim=data.shape[1])
    t0 = time.perf_counter()
    p.init_index(max_elements=len(data), ef_construction=EF_CONSTRUCTION, M=M)
    p.add_items(data, np.arange(len(data)), num_threads=os.cpu_count())
    return time.perf_counter() - t0, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--real", type=int, default=0, help="rows of the real MiniLM set (0: 1M synthetic)"
    )
    ap.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of the clustered synthetic set"
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ef", type=int, default=64, help="ef for the recall check")
    args = ap.parse_args()
    if args.real:
        data, queries = real_minilm(args.real)
        metric, name = "cosine", f"real MiniLM {len(data):,} x {data.shape[1]}"
    else:
        both = clustered(args.rows + 200, 128)
        data, queries, metric = both[:-200], both[-200:], "l2"
        name = f"clustered {len(data):,} x 128"
    print(f"{name} ({metric}), m={M}, ef_construction={EF_CONSTRUCTION}, {args.rounds} rounds")
    truth = ground_truth(data, queries, metric)
    times: dict[str, list[float]] = {"oxvec": [], "hnswlib": []}
    recalls: dict[str, float] = {}
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as root:
            s, tbl = oxvec_build(data, metric, root)
            times["oxvec"].append(s)
            got = [
                tbl.search(q).ef(args.ef).select(["id"]).limit(K).to_numpy()["id"] for q in queries
            ]
            recalls["oxvec"] = recall(got, truth)
        s, p = hnswlib_build(data, metric)
        times["hnswlib"].append(s)
        p.set_ef(args.ef)
        recalls["hnswlib"] = recall([p.knn_query(q, k=K)[0][0] for q in queries], truth)
        print(f"  round {r + 1}: oxvec {times['oxvec'][-1]:.1f} s, hnswlib {s:.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"median build: oxvec {med['oxvec']:.1f} s, hnswlib {med['hnswlib']:.1f} s, ratio {med['oxvec'] / med['hnswlib']:.2f}x"
    )
    print(
        f"recall@10 at ef={args.ef}: oxvec {recalls['oxvec']:.3f}, hnswlib {recalls['hnswlib']:.3f}"
    )


if __name__ == "__main__":
    main()
