"""Where the time of one k=10 HNSW query goes, from the Python call to the pyarrow Table.

An HNSW index (m=16, ef_construction=150, cosine) over the real set (``--real``, made by
``bench_data.py``; the 20k MiniLM set with ``--real 0``) is searched with its held-out
queries, one per call, at a fixed ``ef``. Every variant below runs the same queries in
interleaved rounds (median of rounds), and the steps are differences of them:

    python benchmarks/query_breakdown.py                 # the 100k real set, ef=32
    python benchmarks/query_breakdown.py --real 0 --ef 24

- Python: the query builder, and the proxy that checks native calls;
- engine, fixed: an exact search of a 10-row table (call, plan, top-k, assembly of 10 rows)
  without the version check; the small steps are measured on that table, where the noise of
  a 100 us search does not swamp them;
- version check: the same search with and without ``read_consistency_interval=None``;
- graph walk: the index search re-ranking only ``k`` candidates, less the fixed part;
- re-rank: the default re-rank (every ``ef`` candidate against its stored vector), less the
  ``k``-candidate one;
- pyarrow: export from the engine and import as a pyarrow Table.

The walk's own split between distance kernels and memory stalls is not visible from Python:
BENCHMARKS.md gives it from ``perf``.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import oxvec
import pyarrow as pa
from bench_data import docs_minilm, real_minilm
from oxvec import _results
from per_call import medians_us

K = 10


def vectors_table(root: str, data: np.ndarray, **connect: object) -> oxvec.Table:
    return oxvec.connect(root, monitor_recall=False, **connect).create_table(
        "t",
        pa.table(
            {
                "id": np.arange(len(data)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()), data.shape[1]),
            }
        ),
        mode="overwrite",
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--real", type=int, default=100_000, help="rows of the real set (0: 20k)")
    p.add_argument("--ef", type=int, default=32)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    if args.real:
        base, queries = real_minilm(args.real)
    else:
        data, _ = docs_minilm(20_000)
        base, queries = data[:-1000], data[-1000:]
    queries = np.ascontiguousarray(queries[: args.queries], dtype=np.float32)
    root = tempfile.mkdtemp()
    tbl = vectors_table(root, base)
    tbl.create_index(index_type="HNSW", metric="cosine", m=16, ef_construction=150)
    pinned = oxvec.connect(root, monitor_recall=False, read_consistency_interval=None)
    raw_pinned = pinned.open_table("t")._inner._obj
    tiny_root = tempfile.mkdtemp()
    tiny = vectors_table(tiny_root, base[:10])
    raw_tiny = tiny._inner._obj
    raw_tiny_pinned = (
        oxvec.connect(tiny_root, read_consistency_interval=None).open_table("t")._inner._obj
    )
    qbytes = [q.tobytes() for q in queries]
    ef = args.ef

    def each(f):
        def run() -> None:
            for q in qbytes:
                f(q)

        return run

    def native(r, ef_: int | None, refine: int | None):
        return lambda q: r.search(
            q, 1, None, None, K, None, None, ["id"], False, ef_, None, refine, None, False
        )

    def builder() -> None:
        for q in queries:
            tbl.search(q).select(["id"]).limit(K).ef(ef)._search_args()

    def to_arrow() -> None:
        for q in queries:
            tbl.search(q).select(["id"]).limit(K).ef(ef).to_arrow()

    def to_numpy() -> None:
        for q in queries:
            tbl.search(q).select(["id"]).limit(K).ef(ef).to_numpy()

    nq = len(qbytes)
    fs = {
        "to_arrow": to_arrow,
        "to_numpy": to_numpy,
        "builder": builder,
        "tiny via proxy": each(
            lambda q: tiny._inner.search(
                q, 1, None, None, K, None, None, ["id"], False, None, None, None, None, False
            )
        ),
        "tiny": each(native(raw_tiny, None, None)),
        "tiny, pinned": each(native(raw_tiny_pinned, None, None)),
        "tiny, read": each(lambda q: _results.read(native(raw_tiny_pinned, None, None)(q))),
        "pinned": each(native(raw_pinned, ef, None)),
        "pinned, re-rank k": each(native(raw_pinned, ef, 1)),
    }
    t = {name: us / nq for name, us in medians_us(fs, 1, args.rounds).items()}
    fixed = t["tiny, pinned"]
    steps = [
        ("Python: query builder (`search().select().limit().ef()`, argument checks)", t["builder"]),
        ("Python: the checked-conversion proxy", t["tiny via proxy"] - t["tiny"]),
        ("engine: look for a newer version (`stat`s)", t["tiny"] - fixed),
        ("engine: call, planning, top-k and assembly (10-row exact search)", fixed),
        (f"engine: graph walk, ef={ef}, SQ8 codes", t["pinned, re-rank k"] - fixed),
        (
            f"engine: re-rank of {ef} candidates with stored vectors (less {K})",
            t["pinned"] - t["pinned, re-rank k"],
        ),
        ("pyarrow: export and import of the result", t["tiny, read"] - fixed),
    ]
    name = f"real {args.real:,}" if args.real else "MiniLM 20k"
    print(f"k={K} HNSW query (ef={ef}, cosine), {name} set, {nq} held-out queries, us per query\n")
    print("| step | us |\n|---|---|")
    for label, us in steps:
        print(f"| {label} | {us:.1f} |")
    print(f"| sum of the steps | {sum(us for _, us in steps):.1f} |")
    print(f"| measured `to_arrow()` | {t['to_arrow']:.1f} |")
    print(f"| measured `to_numpy()` | {t['to_numpy']:.1f} |")
    if os.environ.get("OXVEC_BREAKDOWN_RAW"):
        print({k: round(v, 2) for k, v in t.items()})


if __name__ == "__main__":
    main()
