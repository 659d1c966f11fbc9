"""Per-query latency of two oxvec builds, side by side in one run.

Checks that a change on the query path costs nothing: the same queries on the same data run
under the installed build ("new") and under another build installed into a directory
("base", e.g. ``pip install --no-deps --target /tmp/base dist/oxvec-*.whl`` of the commit
before the change). Rounds alternate between the two so machine noise hits both alike; each
round keeps the fastest of 5 samples per case, and the median over rounds is printed with the
ratio new / base.

    python benchmarks/ab_builds.py --base /tmp/base [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CASES = {
    # name: (repetitions per sample)
    "exact 1k x 384, k=10, to_arrow": 300,
    "exact 20k x 384, k=10, bypass index": 30,
    "HNSW 20k x 384, k=10, ef=64, to_numpy": 300,
    "HNSW 20k x 384, k=10, ef=64, where cat < 50": 100,
    "exact batch 200 queries x 20k, k=10": 3,
    "exact 20k x 384, k=10, where score > 0.25 (float filter)": 30,
}


def measure() -> dict[str, float]:
    """Runs in a child process under one build: microseconds per call of each case."""
    import numpy as np
    import oxvec
    import pyarrow as pa

    def table(n: int, seed: int) -> pa.Table:
        v = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
        return pa.table(
            {
                "id": pa.array(np.arange(n), pa.int64()),
                "cat": pa.array((np.arange(n) % 100).astype(np.int32)),
                "score": pa.array(np.random.default_rng(seed + 5).random(n)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), 384),
            }
        )

    db = oxvec.connect(tempfile.mkdtemp())
    small = db.create_table("small", table(1000, 0))
    big = db.create_table("big", table(20_000, 1))
    big.create_index(index_type="HNSW", metric="cosine")
    q = np.random.default_rng(9).standard_normal(384).astype(np.float32)
    queries = np.random.default_rng(10).standard_normal((200, 384)).astype(np.float32)
    calls = {
        "exact 1k x 384, k=10, to_arrow": lambda: small.search(q).limit(10).to_arrow(),
        "exact 20k x 384, k=10, bypass index": lambda: (
            big.search(q).bypass_vector_index().limit(10).to_arrow()
        ),
        "HNSW 20k x 384, k=10, ef=64, to_numpy": lambda: big.search(q).limit(10).ef(64).to_numpy(),
        "HNSW 20k x 384, k=10, ef=64, where cat < 50": lambda: (
            big.search(q).where("cat < 50").limit(10).ef(64).to_numpy()
        ),
        "exact batch 200 queries x 20k, k=10": lambda: (
            big.search(queries).bypass_vector_index().limit(10).to_arrow()
        ),
        "exact 20k x 384, k=10, where score > 0.25 (float filter)": lambda: (
            big.search(q).where("score > 0.25").bypass_vector_index().limit(10).to_arrow()
        ),
    }
    out = {}
    for name, reps in CASES.items():
        f = calls[name]
        f()
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            samples.append((time.perf_counter() - t0) / reps * 1e6)
        # The fastest sample: what the code costs with the least interference from the
        # machine (shared and noisy here); rounds then take the median of these.
        out[name] = min(samples)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", help="directory holding the base build (pip install --target)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return
    if not args.base:
        ap.error("--base is required")
    results: dict[str, dict[str, list[float]]] = {"base": {}, "new": {}}
    for r in range(args.rounds):
        for label in ("base", "new"):
            env = dict(os.environ)
            if label == "base":
                env["PYTHONPATH"] = args.base
            else:
                env.pop("PYTHONPATH", None)
            run = subprocess.run(
                [sys.executable, __file__, "--child"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            for name, us in json.loads(run.stdout.strip().splitlines()[-1]).items():
                results[label].setdefault(name, []).append(us)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print("| case | base (us) | new (us) | new / base |\n|---|---|---|---|")
    for name in CASES:
        b = statistics.median(results["base"][name])
        n = statistics.median(results["new"][name])
        print(f"| {name} | {b:.1f} | {n:.1f} | {n / b:.2f} |")


if __name__ == "__main__":
    main()
