"""Child process of the crash suite (tests/test_crash.py): random writes on table ``t``,
printing ``ACK <version> <digest>`` after each one returns, where the digest comes from an
in-memory model of what the table must hold. The parent kills it at random moments (or
``OXVEC_CRASH_AT`` makes it abort at a named persistence step) and checks every
acknowledged version.

Run: ``python tests/crash_worker.py <db> <seed> [steps]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import uuid
from typing import Any

DIM = 8


def digest(model: dict[int, int]) -> str:
    return hashlib.sha1(json.dumps(sorted(model.items())).encode()).hexdigest()[:16]


def text_of(i: int) -> str:
    """The text of row ``i`` (searched after a crash: ``w<n>`` matches ids ``= n mod 13``)."""
    return f"w{i % 13} common words"


def rows(pairs: list[tuple[int, int]]) -> list[dict]:
    return [
        {
            "id": i,
            "val": v,
            "txt": text_of(i),
            "vector": [float(i % 97), float(i // 97)] + [0.5] * (DIM - 2),
        }
        for i, v in pairs
    ]


def read_model(tbl: Any) -> dict[int, int]:
    at = tbl.to_arrow()
    return dict(zip(at["id"].to_pylist(), at["val"].to_pylist()))


def main(path: str, seed: int, steps: int) -> None:
    import oxvec

    out = sys.stdout
    # Deletion vectors kept in the manifest for even seeds, as files for odd ones (both kinds
    # then meet in one table); the named crash points choose by environment.
    inline = os.environ.get("OXVEC_TEST_INLINE_DELETIONS", str(int(seed % 2 == 0))) == "1"
    db = oxvec.connect(
        path, auto_compact_fragments=0, auto_cleanup_every=0, inline_deletions=inline
    )
    if "t" not in db:
        tbl = db.create_table("t", rows([(i, i) for i in range(20)]))
        out.write(f"ACK {tbl.version} {digest(dict((i, i) for i in range(20)))}\n")
        out.flush()
    tbl = db.open_table("t")
    model = read_model(tbl)
    out.write(f"READY {tbl.version} {digest(model)}\n")
    out.flush()
    rng = random.Random(seed)
    next_id = max(model, default=0) + 1
    ops = ["append"] * 4 + ["delete", "update", "upsert", "upsert", "optimize", "cleanup", "tag"]
    have = {i["index_type"] for i in tbl.list_indices()}
    if "HNSW" not in have:
        ops.append("index")
    if "FTS" not in have:
        ops.append("fts")
    script = [
        "append",
        "delete",
        "update",
        "upsert",
        "index",
        "fts",
        "tag",
        "optimize",
        "cleanup",
    ]
    scripted = seed < 0  # a fixed cycle of every operation, for the named crash points
    if scripted:
        steps = min(steps, 2 * len(script))
    for step in range(steps):
        op = script[step % len(script)] if scripted else rng.choice(ops)
        if op in ("index", "fts") and op not in ops and not scripted:
            op = "append"
        if op == "append":
            new = [(next_id + k, next_id + k) for k in range(rng.randint(1, 30))]
            next_id += len(new)
            tbl.add(rows(new))
            model.update(new)
        elif op == "delete":
            r = rng.randrange(7)
            tbl.delete("id % 7 = ?", [r])
            model = {i: v for i, v in model.items() if i % 7 != r}
        elif op == "update":
            r = rng.randrange(5)
            tbl.update("id % 5 = ?", values_sql={"val": "val + 1"}, params=[r])
            model = {i: v + 1 if i % 5 == r else v for i, v in model.items()}
        elif op == "upsert":
            old = rng.sample(sorted(model), min(3, len(model)))
            src = [(i, model[i] + 100) for i in old] + [(next_id, -1), (next_id + 1, -2)]
            next_id += 2
            tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(
                rows(src)
            )
            model.update(src)
        elif op == "index":
            tbl.create_index(
                index_type="HNSW", metric="l2", m=8, ef_construction=32, progress=False
            )
            if "index" in ops:
                ops.remove("index")
        elif op == "fts":
            tbl.create_fts_index("txt", progress=False)
            if "fts" in ops:
                ops.remove("fts")
        elif op == "optimize":
            tbl.optimize(progress=False)
        elif op == "cleanup":
            out.write("CLEANUP_START\n")
            out.flush()
            tbl.cleanup_old_versions(older_than=0, delete_unverified=True)
        elif op == "tag":
            tbl.tags.create(f"tag-{uuid.uuid4().hex[:12]}", tbl.version)
        out.write(f"ACK {tbl.version} {digest(model)}\n")
        out.flush()
    out.write("DONE\n")
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000)
