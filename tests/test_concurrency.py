"""T4/T5: several writer processes on one table, with readers pinned to a version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import oxvec
from concurrency_worker import rows

WORKER = str(Path(__file__).with_name("concurrency_worker.py"))
WRITERS = 4
COMMITS = 50


def run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_four_writers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    tbl = oxvec.connect(path).create_table("t", rows(list(range(100))))
    tbl.create_index(index_type="HNSW", metric="l2", m=8, ef_construction=32, progress=False)
    readers = [run("reader", path, "4")]
    writers = [run("writer", path, str(w), str(COMMITS)) for w in range(WRITERS)]
    expected = {i: 0 for i in range(100)}
    conflicts = 0
    for p in writers:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        res = json.loads(out)
        expected.update({int(k): v for k, v in res["expected"].items()})
        conflicts += res["conflicts"]
    for p in readers:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        res = json.loads(out)
        assert res["reads"] > 0 and res["mismatches"] == 0, res
    tbl.checkout_latest()
    got = tbl.to_arrow().select(["id", "val"]).to_pylist()
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)), "duplicated rows"
    assert {r["id"]: r["val"] for r in got} == expected
    assert tbl.verify(deep=True).ok
    # Every live row is reachable through the (folded and remapped) index.
    tbl.optimize(progress=False)
    probe = [i for i in sorted(expected) if i >= 1_000_000][:50]
    found = 0
    for i in probe:
        v = tbl.search().where("id = ?", [i]).to_list()[0]["vector"]
        hits = tbl.search(v).limit(10).to_list()
        found += any(h["id"] == i for h in hits)
    assert found == len(probe)
    # Recall@10 of the index against exact search, after the concurrent history.
    rng = np.random.default_rng(5)
    total = 0.0
    for q in rng.random((50, 8)):
        approx = {h["id"] for h in tbl.search(q).limit(10).to_list()}
        exact = {h["id"] for h in tbl.search(q).bypass_vector_index().limit(10).to_list()}
        total += len(approx & exact) / 10
    assert total / 50 >= 0.95, total / 50
    print(
        f"\n{WRITERS} writers x {COMMITS} commits: {len(expected)} rows, "
        f"{conflicts} retried conflicts, {len(tbl.list_versions())} versions"
    )


UPSERTER = """
import sys, oxvec
path, seed = sys.argv[1], int(sys.argv[2])
tbl = oxvec.connect(path).open_table("t")
conflicts = 0
for b in range(20):
    batch = [
        {"id": k, "writer": seed, "vector": [float(k), float(seed)]}
        for k in range(1000 + b * 50, 1000 + (b + 1) * 50)
    ]
    while True:
        try:
            (tbl.merge_insert("id").when_matched_update_all()
                .when_not_matched_insert_all().execute(batch))
            break
        except oxvec.CommitConflictError as e:
            assert e.retryable
            conflicts += 1
print(conflicts)
"""


def test_concurrent_upserts_of_the_same_new_keys_insert_each_key_once(tmp_path: Path) -> None:
    # Six processes upsert the same 20 batches of 50 new keys. An insert of an unmatched key
    # used to rebase over another process's insert of the same key: duplicates.
    path = str(tmp_path / "db")
    oxvec.connect(path).create_table(
        "t", [{"id": k, "writer": -1, "vector": [float(k), 0.0]} for k in range(1000)]
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPSERTER, path, str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(6)
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    tbl = oxvec.connect(path).open_table("t")
    ids = tbl.to_arrow()["id"].to_pylist()
    assert len(ids) == len(set(ids)) == 2000
    assert tbl.verify(deep=True).ok
