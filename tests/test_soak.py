"""T10 soak: a mixed workload for a long time; memory and open files must stay flat.

Behind a flag (it is long): ``OXVEC_SOAK_SECONDS=1800 pytest tests/test_soak.py -s``. Without
the flag the test is skipped. One process writes, reads, indexes, compacts and cleans up one
table in a loop; resident memory and open file descriptors are sampled after a warm-up and at
the end, and must not grow beyond a small allowance (caches are bounded, files are closed).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa
import pytest

SECONDS = float(os.environ.get("OXVEC_SOAK_SECONDS", "0"))
DIM = 32

pytestmark = pytest.mark.skipif(SECONDS <= 0, reason="set OXVEC_SOAK_SECONDS to run the soak")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def batch(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    return pa.table(
        {
            "id": pa.array(np.arange(start, start + n), pa.int64()),
            "cat": pa.array(rng.integers(0, 10, n), pa.int64()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), DIM),
        }
    )


def one_round(tbl: oxvec.Table, rng: np.random.Generator, step: int) -> None:
    start = 1_000_000 + step * 200
    tbl.add(batch(rng, start, 200))
    tbl.delete("id < ?", [start - 4000])
    tbl.update("id = ?", values={"cat": 99}, params=[start])
    tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(
        batch(rng, start + 100, 150)
    )
    q = rng.standard_normal(DIM).astype(np.float32)
    tbl.search(q).limit(10).to_arrow()
    tbl.search(q).where("cat < ?", [5]).limit(10).to_list()
    tbl.search(q).bypass_vector_index().limit(10).to_numpy()
    tbl.count_rows("cat = 3")
    if step % 20 == 0:
        tbl.create_index(metric="l2", m=8)
    if step % 10 == 5:
        tbl.optimize(cleanup_older_than=timedelta(0))
    if step % 25 == 0:
        tbl.checkout(tbl.list_versions()[0]["version"])
        tbl.to_arrow()
        tbl.checkout_latest()


def test_memory_and_open_files_stay_flat(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    db = oxvec.connect(tmp_path, auto_cleanup_every=10, auto_cleanup_older_than=0)
    tbl = db.create_table("t", batch(rng, 0, 5000))
    tbl.create_index(metric="l2", m=8)
    step = 0
    warm_until = time.monotonic() + min(60.0, SECONDS / 5)
    while time.monotonic() < warm_until:
        one_round(tbl, rng, step)
        step += 1
    rss0, fds0, t0 = rss_mib(), open_fds(), time.monotonic()
    peak = rss0
    while time.monotonic() - t0 < SECONDS:
        one_round(tbl, rng, step)
        step += 1
        peak = max(peak, rss_mib())
    rss1, fds1 = rss_mib(), open_fds()
    print(
        f"\nsoak: {SECONDS:.0f} s after warm-up, {step} rounds, rows {tbl.count_rows()}, "
        f"version {tbl.version}; RSS {rss0:.0f} -> {rss1:.0f} MiB (peak {peak:.0f}), "
        f"open files {fds0} -> {fds1}"
    )
    assert tbl.verify(deep=True).ok
    assert rss1 <= rss0 * 1.25 + 64, f"RSS grew from {rss0:.0f} to {rss1:.0f} MiB"
    assert fds1 <= fds0 + 8, f"open files grew from {fds0} to {fds1}"
