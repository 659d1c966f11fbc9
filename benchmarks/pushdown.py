"""Polars and DuckDB over a table through the pushdown scan, against materialising it first.

A table of ``--rows`` rows (default 10M) with an id, a category of 100 values, a price and a
``--dim``-d float32 vector (default 192: 7.7 GB at 10M rows, more than a quarter of this
machine's RAM) is queried with a 1%-selective filter (``cat = 7``) and a 2-column projection
(``id, price``), four ways, each in a fresh process with the table's files evicted from the
page cache first (so bytes read are bytes the query needed):

* ``polars scan``: ``tbl.scan().filter(pl.col("cat") == 7).select("id", "price").collect()``
* ``polars materialised``: ``tbl.to_polars()``, then the same filter and projection
* ``duckdb scan``: ``duckdb.sql("select id, price from tbl where cat = 7")``
* ``duckdb materialised``: ``tbl.to_arrow()``, then the same SQL on it

For each: wall time, bytes read from storage (``/proc/self/io`` ``read_bytes``) and peak
resident memory (``VmHWM``, which counts the mapped file pages touched as well as the
process's own memory; the libraries are imported before the clock starts). Medians of
``--repeat`` runs; ratios are materialised / scan (higher: pushdown helps more).

    python benchmarks/pushdown.py [--rows 10000000] [--dim 192] [--repeat 3] [--path DIR]

The table is built once under ``--path`` (default a directory in /tmp) and reused by later
runs with the same size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa

CHUNK = 500_000

QUERIES = {
    "polars scan": """
out = tbl.scan().filter(pl.col("cat") == 7).select("id", "price").collect()
""",
    "polars materialised": """
out = tbl.to_polars().filter(pl.col("cat") == 7).select("id", "price")
""",
    "duckdb scan": """
out = duckdb.sql("select id, price from tbl where cat = 7").arrow()
out = out.read_all() if hasattr(out, "read_all") else out
""",
    "duckdb materialised": """
whole = tbl.to_arrow()
out = duckdb.sql("select id, price from whole where cat = 7").arrow()
out = out.read_all() if hasattr(out, "read_all") else out
""",
}

CHILD = """
import json, os, sys, time
import duckdb, oxvec, polars as pl
def io():
    with open("/proc/self/io") as f:
        return dict(line.split(": ") for line in f.read().splitlines())
def peak_rss():
    with open("/proc/self/status") as f:
        hwm = next(line for line in f if line.startswith("VmHWM:"))
    return int(hwm.split()[1]) * 1024
tbl = oxvec.connect(sys.argv[1]).open_table("t")
before = int(io()["read_bytes"])
t0 = time.perf_counter()
{query}
elapsed = time.perf_counter() - t0
print(json.dumps({{
    "seconds": elapsed,
    "read_bytes": int(io()["read_bytes"]) - before,
    "peak_rss": peak_rss(),
    "rows": len(out),
}}))
"""


def batches(rows: int, dim: int):
    rng = np.random.default_rng(0)
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        vectors = rng.standard_normal((n, dim), dtype=np.float32)
        yield pa.record_batch(
            {
                "id": pa.array(np.arange(start, start + n), pa.int64()),
                "cat": pa.array(np.arange(start, start + n) % 100, pa.int32()),
                "price": pa.array(rng.random(n) * 100, pa.float64()),
                "vector": pa.FixedSizeListArray.from_arrays(vectors.reshape(-1), dim),
            }
        )


def build(path: Path, rows: int, dim: int) -> None:
    db = oxvec.connect(path, auto_compact_fragments=0)
    if "t" in db and len(db["t"]) == rows:
        return
    t0 = time.perf_counter()
    first = next(batches(rows, dim))
    db.create_table("t", batches(rows, dim), schema=first.schema, mode="overwrite")
    print(f"built {rows:,} rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def evict(path: Path) -> None:
    """Drops the table's files from the page cache, so the next read comes from storage."""
    for f in path.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def run(path: Path, query: str) -> dict:
    evict(path)
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(query=query), str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--path", default="/tmp/oxvec-pushdown-bench")
    args = ap.parse_args()
    path = Path(args.path)
    build(path, args.rows, args.dim)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    results: dict[str, list[dict]] = {name: [] for name in QUERIES}
    for _ in range(args.repeat):
        for name, query in QUERIES.items():  # interleaved: noise hits every method alike
            results[name].append(run(path, query))
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for name, runs in results.items()
    }
    gib = 2**30
    print(f"table: {args.rows:,} rows, {args.dim}-d vectors, {size / gib:.2f} GiB on disk")
    print("| query | rows | time (s) | read (MiB) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, m in med.items():
        print(
            f"| {name} | {int(m['rows']):,} | {m['seconds']:.2f} | "
            f"{m['read_bytes'] / 2**20:,.0f} | {m['peak_rss'] / 2**20:,.0f} |"
        )
    for engine in ("polars", "duckdb"):
        scan, whole = med[f"{engine} scan"], med[f"{engine} materialised"]
        print(
            f"{engine}: materialised / scan: time {whole['seconds'] / scan['seconds']:.1f}x, "
            f"bytes read {whole['read_bytes'] / max(scan['read_bytes'], 1):.1f}x; "
            f"scan peak RSS {scan['peak_rss'] / gib:.2f} GiB"
        )


if __name__ == "__main__":
    main()
