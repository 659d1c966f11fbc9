"""T11: random histories of four processes writing one table at once (upserts and deletes of
overlapping keys, updates, restores, optimize, cleanup; see ``model_worker.py``), checked
against a sequential model and what any sequential history guarantees:

- replayed in version order, every logged write turns the version before it into exactly the
  version it made (a model of the rows applies the upsert, delete, update or restore), and
  every version no logged write made (optimize) holds the rows of the one before;
- no version holds a key twice (upserts of the same new key in two processes insert it once);
- no version names a file that is gone (every remaining version reads, deep verify is clean);
- exact search over every remaining version equals a brute-force search of its rows;
- every acknowledged write has its own version number (none published twice).

Short in ``make test`` (3 histories); the full run is behind a flag:
``OXVEC_MODEL_HISTORIES=200 pytest tests/test_multiprocess_model.py -s``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import oxvec
import pyarrow as pa
import pytest

WORKER = str(Path(__file__).with_name("model_worker.py"))
HISTORIES = int(os.environ.get("OXVEC_MODEL_HISTORIES", "3"))
PROCESSES = 4
STEPS = int(os.environ.get("OXVEC_MODEL_STEPS", "12"))


Rows = dict[int, tuple[str, tuple[float, ...]]]


def rows_of(t: pa.Table) -> Rows:
    vecs = np.asarray(t["vector"].to_pylist(), dtype=np.float32).reshape(t.num_rows, -1)
    return {
        i: (v, tuple(x.tolist()))
        for i, v, x in zip(t["id"].to_pylist(), t["val"].to_pylist(), vecs, strict=True)
    }


def replay(op: dict[str, Any], before: Rows, versions: dict[int, Rows]) -> Rows | None:
    """The rows ``op`` leaves when applied to ``before`` (None: its input was cleaned up)."""
    after = dict(before)
    if op["op"] == "upsert":
        for r in op["rows"]:
            after[r["id"]] = (r["val"], tuple(np.asarray(r["vector"], np.float32).tolist()))
    elif op["op"] == "delete":
        for k in op["keys"]:
            after.pop(k, None)
    elif op["op"] == "update":
        if op["key"] in after:
            after[op["key"]] = (op["val"], after[op["key"]][1])
    elif op["op"] == "restore":
        return versions.get(op["target"])
    return after


def check_history(path: Path, seed: int) -> dict[str, int]:
    db = oxvec.connect(path)
    db.create_table(
        "t", [{"id": -1, "val": "seed", "vector": [0.0, 0.0, 0.0, 1.0]}], mode="overwrite"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, str(path), str(seed * 100 + p), str(STEPS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(PROCESSES)
    ]
    logs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"history {seed}: worker failed:\n{err[-3000:]}"
        logs.append(json.loads(out))
    acked = [e["version"] for w in logs for e in w["log"] if e["version"] is not None]
    dup = sorted({v for v in acked if acked.count(v) > 1})
    owners = [(i, e) for i, w in enumerate(logs) for e in w["log"] if e["version"] in dup]
    assert not dup, f"history {seed}: versions acknowledged twice: {owners}"

    tbl = db.open_table("t")
    report = tbl.verify(deep=True)
    assert report.ok, f"history {seed}: {report.problems}"
    rng = np.random.default_rng(seed)
    made = {e["version"]: e for w in logs for e in w["log"] if e["version"] is not None}
    # The rows of each version: as its writer read them right after committing, and as they
    # read now (the two must agree), so versions cleaned up since still take part.
    versions: dict[int, Rows] = {1: {-1: ("seed", (0.0, 0.0, 0.0, 1.0))}}
    for v, e in made.items():
        if e["rows_made"] is not None:
            versions[v] = {
                i: (val, tuple(np.float32(vec).tolist())) for i, val, vec in e["rows_made"]
            }
    remaining = [x["version"] for x in tbl.list_versions()]
    for v in remaining:
        tbl.checkout(v)
        now = rows_of(tbl.to_arrow())
        assert versions.setdefault(v, now) == now, f"history {seed}: version {v} changed"
    replayed = 0
    for v in sorted(versions):
        if v - 1 not in versions:
            continue
        # A version no logged write made came from optimize (its rows unchanged).
        op = made.get(v, {"op": "optimize"})
        want_rows = replay(op, versions[v - 1], versions)
        if want_rows is not None:
            replayed += 1
            diff = {
                k: (versions[v].get(k), want_rows.get(k))
                for k in versions[v].keys() | want_rows.keys()
                if versions[v].get(k) != want_rows.get(k)
            }
            assert not diff, (
                f"history {seed}: version {v} is not {op} applied to version {v - 1}: "
                f"key: (found, expected) {diff}"
            )
    for v in remaining:
        tbl.checkout(v)
        t = tbl.to_arrow()
        ids = t["id"].to_pylist()
        assert len(ids) == len(set(ids)), f"history {seed}: version {v} holds a key twice"
        vecs = np.asarray(t["vector"].to_pylist(), dtype=np.float32).reshape(len(ids), -1)
        q = rng.standard_normal(vecs.shape[1]).astype(np.float32)
        k = min(5, len(ids))
        got = tbl.search(q).bypass_vector_index().limit(k).to_arrow()["id"].to_pylist()
        d = ((vecs - q) ** 2).sum(axis=1)
        want = [ids[i] for i in np.argsort(d, kind="stable")[:k]]
        assert sorted(got) == sorted(want), f"history {seed}: version {v} search differs"
    tbl.checkout_latest()
    return {
        "writes": len(acked),
        "conflicts": sum(w["conflicts"] for w in logs),
        "refused": sum(w["refused"] for w in logs),
        "replayed": replayed,
    }


@pytest.mark.parametrize("seed", range(HISTORIES))
def test_concurrent_histories_keep_every_invariant(tmp_path: Path, seed: int) -> None:
    stats = check_history(tmp_path / "db", seed)
    print(f"history {seed}: {stats}")
