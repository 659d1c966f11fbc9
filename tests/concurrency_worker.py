"""Child process of tests/test_concurrency.py.

``writer <db> <w> <commits>``: appends uniquely keyed rows, deletes and updates some of its
own rows, and (writer 0) compacts, retrying retryable commit conflicts; prints the ids and
values the table must finally hold for this writer, as JSON.

``reader <db> <seconds>``: pins a version, re-reads it over and over while the writers run,
and prints how many reads differed from the first (must be 0).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

DIM = 8


def rows(ids: list[int]) -> list[dict]:
    import numpy as np

    # Distinct vectors, so that each row is its own nearest neighbour.
    return [
        {"id": i, "val": 0, "vector": np.random.default_rng(i).random(DIM).tolist()} for i in ids
    ]


def retry(op: Callable[[], Any], counts: dict[str, int]) -> Any:
    import oxvec

    for _ in range(200):
        try:
            return op()
        except oxvec.CommitConflictError as e:
            if not e.retryable:
                raise
            counts["conflicts"] += 1
            time.sleep(0.002)
    raise RuntimeError("still conflicting after 200 attempts")


def writer(path: str, w: int, commits: int) -> None:
    import oxvec

    tbl = oxvec.connect(path).open_table("t")
    expected: dict[int, int] = {}
    counts = {"conflicts": 0}
    for i in range(commits):
        ids = [(w + 1) * 1_000_000 + i * 10 + k for k in range(5)]
        retry(lambda ids=ids: tbl.add(rows(ids)), counts)
        expected.update((x, 0) for x in ids)
        if i % 10 == 5:
            gone = (w + 1) * 1_000_000 + (i - 5) * 10
            retry(lambda gone=gone: tbl.delete("id = ?", [gone]), counts)
            del expected[gone]
        if i % 10 == 7:
            lo = (w + 1) * 1_000_000 + (i - 7) * 10
            retry(
                lambda lo=lo: tbl.update(
                    "id >= ? AND id < ?", values_sql={"val": "val + 1"}, params=[lo, lo + 5]
                ),
                counts,
            )
            for x in range(lo, lo + 5):
                if x in expected:
                    expected[x] += 1
        if w == 0 and i % 15 == 14:
            retry(lambda: tbl.optimize(progress=False), counts)
    print(json.dumps({"expected": expected, **counts}))


def reader(path: str, seconds: float) -> None:
    import oxvec

    tbl = oxvec.connect(path, read_consistency_interval=None).open_table("t")
    first = sorted(tbl.to_arrow().select(["id", "val"]).to_pylist(), key=lambda r: r["id"])
    reads = mismatches = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = sorted(tbl.to_arrow().select(["id", "val"]).to_pylist(), key=lambda r: r["id"])
        reads += 1
        mismatches += now != first
    print(json.dumps({"reads": reads, "mismatches": mismatches, "version": tbl.version}))


if __name__ == "__main__":
    if sys.argv[1] == "writer":
        writer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        reader(sys.argv[2], float(sys.argv[3]))
