"""Child process of tests/test_multiprocess_model.py.

``model_worker.py <db> <seed> <steps>``: random operations on table ``t`` of a database other
processes write at the same time: upserts and deletes of overlapping keys, updates, restores
of random older versions, checkouts with reads, optimize and cleanup. Retryable commit
conflicts are retried; every acknowledged write is logged. Prints one JSON object: the log
and the counts of conflicts and of operations that raised another (allowed, typed) error.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import timedelta
from typing import Any

DIM = 4
KEYS = 60


def rows(rng: random.Random, keys: list[int], tag: str) -> list[dict[str, Any]]:
    return [{"id": k, "val": tag, "vector": [rng.uniform(-1, 1) for _ in range(DIM)]} for k in keys]


def main(path: str, seed: int, steps: int) -> None:
    import oxvec

    rng = random.Random(seed)
    tbl = oxvec.connect(path).open_table("t")
    log: list[dict[str, Any]] = []
    counts = {"conflicts": 0, "refused": 0}

    def write(name: str, op: Any) -> None:
        for _ in range(100):
            try:
                tbl.checkout_latest()
                version = op()
                # Upserts and restores say which version they made; others may make none.
                made = name in ("upsert", "restore")
                log.append({"op": name, "version": version if made else None})
                return
            except oxvec.CommitConflictError as e:
                if not e.retryable:
                    raise
                counts["conflicts"] += 1
            except (oxvec.InvalidInputError, oxvec.TableNotFoundError):
                # A restore target cleaned up meanwhile, a checkout of a removed version.
                counts["refused"] += 1
                return

    for step in range(steps):
        keys = rng.sample(range(KEYS), rng.randint(1, 8))
        tag = f"{seed}:{step}"
        kind = rng.choice(
            ["upsert"] * 5 + ["delete", "update", "restore", "read", "optimize", "cleanup"]
        )
        if kind == "upsert":
            write(
                "upsert",
                lambda keys=keys, tag=tag: (
                    tbl.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .execute(rows(rng, keys, tag))
                    .version
                ),
            )
        elif kind == "delete":
            write("delete", lambda keys=keys: tbl.delete(f"id IN ({', '.join(map(str, keys))})"))
        elif kind == "update":
            write(
                "update",
                lambda keys=keys, tag=tag: tbl.update(f"id = {keys[0]}", values={"val": tag}),
            )
        elif kind == "restore":
            versions = [v["version"] for v in tbl.list_versions()]
            write("restore", lambda versions=versions: tbl.restore(rng.choice(versions)))
        elif kind == "optimize":
            write("optimize", lambda: tbl.optimize())
        elif kind == "cleanup":
            write("cleanup", lambda: tbl.cleanup_old_versions(older_than=timedelta(0)))
        else:
            try:
                versions = [v["version"] for v in tbl.list_versions()]
                tbl.checkout(rng.choice(versions))
                ids = tbl.to_arrow()["id"].to_pylist()
                assert len(ids) == len(set(ids)), f"duplicate keys in version {tbl.version}"
            except (oxvec.InvalidInputError, oxvec.StorageError):
                # Another process's cleanup (older_than=0) removed the version being read.
                counts["refused"] += 1
            finally:
                tbl.checkout_latest()
    print(json.dumps({"log": log, **counts}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
