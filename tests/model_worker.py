"""Child process of tests/test_multiprocess_model.py.

``model_worker.py <db> <seed> <steps>``: random operations on table ``t`` of a database other
processes write at the same time: upserts and deletes of overlapping keys, updates, restores
of random older versions, checkouts with reads, optimize and cleanup. Retryable commit
conflicts are retried; every acknowledged write is logged with what it did, the version it
made and that version's rows, so the checker can replay the whole history. Prints one JSON
object: the log and the counts of conflicts and of operations that raised another (allowed,
typed) error.
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
    # The handle moves only on its own writes and checkout_latest(), so after a write its
    # version is the one the write made; nothing commits behind the logged writes' backs.
    db = oxvec.connect(
        path, read_consistency_interval=None, auto_compact_fragments=0, auto_cleanup_every=0
    )
    tbl = db.open_table("t")
    log: list[dict[str, Any]] = []
    counts = {"conflicts": 0, "refused": 0}

    def write(name: str, op: Any, **what: Any) -> None:
        for _ in range(100):
            try:
                tbl.checkout_latest()
                made = op()
                # The rows of the version made, read at once (None: another process's
                # cleanup already removed it); the checker replays the log on them.
                rows_made = None
                if made is not None:
                    assert tbl.version == made, f"{name} made {made}, handle at {tbl.version}"
                    try:
                        t = tbl.to_arrow()
                        rows_made = list(
                            zip(t["id"].to_pylist(), t["val"].to_pylist(), t["vector"].to_pylist())
                        )
                    except (oxvec.StorageError, oxvec.TableNotFoundError):
                        pass
                log.append({"op": name, "version": made, "rows_made": rows_made, **what})
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
            batch = rows(rng, keys, tag)
            write(
                "upsert",
                lambda batch=batch: (
                    tbl.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .execute(batch)
                    .version
                ),
                rows=batch,
            )
        elif kind == "delete":
            write(
                "delete",
                lambda keys=keys: (
                    tbl.version if tbl.delete(f"id IN ({', '.join(map(str, keys))})") else None
                ),
                keys=keys,
            )
        elif kind == "update":
            write(
                "update",
                lambda keys=keys, tag=tag: (
                    tbl.version if tbl.update(f"id = {keys[0]}", values={"val": tag}) else None
                ),
                key=keys[0],
                val=tag,
            )
        elif kind == "restore":
            target = rng.choice([v["version"] for v in tbl.list_versions()])
            write("restore", lambda target=target: tbl.restore(target), target=target)
        elif kind == "optimize":
            write("optimize", lambda: (tbl.optimize(), None)[1])
        elif kind == "cleanup":
            write("cleanup", lambda: (tbl.cleanup_old_versions(older_than=timedelta(0)), None)[1])
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
