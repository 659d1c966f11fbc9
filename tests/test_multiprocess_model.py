"""T11: random histories of four processes writing one table at once (upserts and deletes of
overlapping keys, updates, restores, optimize, cleanup; see ``model_worker.py``), checked
against what any sequential history guarantees:

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

import numpy as np
import oxvec
import pytest

WORKER = str(Path(__file__).with_name("model_worker.py"))
HISTORIES = int(os.environ.get("OXVEC_MODEL_HISTORIES", "3"))
PROCESSES = 4
STEPS = int(os.environ.get("OXVEC_MODEL_STEPS", "12"))


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
    for v in [x["version"] for x in tbl.list_versions()]:
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
    }


@pytest.mark.parametrize("seed", range(HISTORIES))
def test_concurrent_histories_keep_every_invariant(tmp_path: Path, seed: int) -> None:
    stats = check_history(tmp_path / "db", seed)
    print(f"history {seed}: {stats}")
