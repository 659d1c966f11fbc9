"""Where the time of one small query goes: a k=10 exact search on a 1,000-row 384-d table
through ``to_arrow()``, taken apart step by step, against numpy's own answer to the same
query (a matrix-vector product with cached row norms, then ``argpartition``).

Each step is timed in the same process, on the same data (median of ``--rounds`` rounds of
``--calls`` calls after a warm-up, the rounds interleaving the steps), and the steps are
differences of those:

    python benchmarks/per_call.py
    python benchmarks/per_call.py --rows 1000 --dim 384 --rounds 9

The engine's own steps (planning, the scan, assembly) are separated by comparing a search
over the table with the same search over a 10-row table (fixed cost) and with ``explain()``
(planning without the scan).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import oxvec
import pyarrow as pa
from oxvec import _results

K = 10


def medians_us(fs: dict[str, Callable[[], Any]], calls: int, rounds: int) -> dict[str, float]:
    """Median us per call of each function; rounds interleave the functions, so a machine
    that changes speed mid-run slows them all alike."""
    for f in fs.values():
        for _ in range(max(calls // 10, 20)):
            f()
    times: dict[str, list[float]] = {name: [] for name in fs}
    for _ in range(rounds):
        for name, f in fs.items():
            t = time.perf_counter()
            for _ in range(calls):
                f()
            times[name].append((time.perf_counter() - t) / calls * 1e6)
    return {name: statistics.median(ts) for name, ts in times.items()}


def table(root: str, data: np.ndarray, **connect: Any) -> oxvec.Table:
    return oxvec.connect(root, **connect).create_table(
        "t",
        pa.table(
            {
                "id": np.arange(len(data)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()), data.shape[1]),
            }
        ),
        mode="overwrite",
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    data = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    q = rng.standard_normal(args.dim).astype(np.float32)
    norms = (data * data).sum(1)

    def numpy_query() -> np.ndarray:
        score = norms - 2 * (data @ q)
        idx = np.argpartition(score, K)[:K]
        return idx[np.argsort(score[idx])]

    tbl = table(tempfile.mkdtemp(), data)
    tiny = table(tempfile.mkdtemp(), data[:10])
    pinned = table(tempfile.mkdtemp(), data, read_consistency_interval=None)
    raw, raw_tiny, raw_pinned = (t._inner._obj for t in (tbl, tiny, pinned))
    qb = q.tobytes()
    result = raw.search(qb, 1, None, "l2", K)
    _results.read(result)  # caches the result schema, as any repeated query does
    got = tbl.search(q).metric("l2").limit(K).to_arrow()["id"].to_pylist()
    assert got == numpy_query().tolist(), "oxvec and numpy disagree"

    m = {
        "numpy": lambda: numpy_query(),
        "to_arrow": lambda: tbl.search(q).metric("l2").limit(K).to_arrow(),
        "to_numpy": lambda: tbl.search(q).metric("l2").limit(K).to_numpy(),
        "query builder": lambda: tbl.search(q).metric("l2").limit(K)._search_args(),
        "native via proxy": lambda: tbl._inner.search(qb, 1, None, "l2", K),
        "native": lambda: raw.search(qb, 1, None, "l2", K),
        "native, no version check": lambda: raw_pinned.search(qb, 1, None, "l2", K),
        "native, 10 rows": lambda: raw_tiny.search(qb, 1, None, "l2", K),
        "explain (plan, no scan)": lambda: raw.explain(qb, 1, None, "l2", K),
        "read into pyarrow": lambda: _results.read(raw.search(qb, 1, None, "l2", K)),
    }
    t = medians_us(m, args.calls, args.rounds)
    steps = [
        (
            "Python: query builder (`search().metric().limit()`, argument checks)",
            t["query builder"],
        ),
        ("Python: the checked-conversion proxy", t["native via proxy"] - t["native"]),
        (
            "engine: look for a newer version (two `stat`s; `read_consistency_interval=None` skips)",
            t["native"] - t["native, no version check"],
        ),
        (
            "engine: fixed cost of a search (call, planning, assembly, 10-row scan)",
            t["native, 10 rows"] - (t["native"] - t["native, no version check"]),
        ),
        (
            f"engine: scanning {args.rows - 10} more rows (distances, top-k)",
            t["native"] - t["native, 10 rows"],
        ),
        ("pyarrow: export and import of the result", t["read into pyarrow"] - t["native"]),
    ]
    print(f"k={K} exact search, {args.rows} x {args.dim} l2, us per call (median of rounds)\n")
    print("| step | us |\n|---|---|")
    for name, us in steps:
        print(f"| {name} | {us:.1f} |")
    total = sum(us for _, us in steps)
    print(f"| sum of the steps | {total:.1f} |")
    print(f"| measured `to_arrow()` | {t['to_arrow']:.1f} |")
    print(f"| measured `to_numpy()` | {t['to_numpy']:.1f} |")
    print(f"| numpy (cached norms, argpartition) | {t['numpy']:.1f} |")
    print(f"| planning alone (`explain()`, with its text) | {t['explain (plan, no scan)']:.1f} |")
    print(
        f"\nto_arrow / numpy = {t['to_arrow'] / t['numpy']:.2f}x, "
        f"to_numpy / numpy = {t['to_numpy'] / t['numpy']:.2f}x (bar: <= 1.2x)"
    )


if __name__ == "__main__":
    main()
