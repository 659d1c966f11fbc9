"""The ``oxvec`` command: ``oxvec demo`` and ``oxvec info PATH``."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence

import numpy as np

__all__ = ["main"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} us"


def _show(rows: list[dict], width: int = 70) -> None:
    for r in rows:
        doc = r["doc"] if len(r["doc"]) <= width else r["doc"][: width - 3] + "..."
        print(f"    {r['_distance']:.3f}  {r['name']:<38} {doc}")


def demo(path: str | None) -> int:
    """Builds a database from the stdlib docs, then searches, filters and time-travels it."""
    import oxvec
    from oxvec._corpus import Embedder, stdlib_docs

    root = path or tempfile.mkdtemp(prefix="oxvec-demo-")
    print(
        f"oxvec {oxvec.__version__} demo  (SIMD kernels: {oxvec.simd_kernels()}, database: {root})"
    )
    t0 = time.perf_counter()
    rows = stdlib_docs()
    texts = [f"{r['name']} {r['name']} {r['doc']}" for r in rows]
    emb = Embedder(texts)
    vecs = emb.embed(texts)
    for r, v in zip(rows, vecs):
        r["vector"] = v
    print(
        f"\n1. Dataset: {len(rows)} documented functions and classes of Python's standard "
        f"library, embedded to {emb.dim}-d vectors in {_ms(time.perf_counter() - t0)}"
    )

    db = oxvec.connect(root)
    t0 = time.perf_counter()
    tbl = db.create_table("stdlib", rows, mode="overwrite")
    dt = time.perf_counter() - t0
    print(
        f"2. create_table: {len(tbl)} rows in {_ms(dt)} ({len(tbl) / dt:,.0f} rows/s, fsynced), "
        f"version {tbl.version}"
    )

    print("\n3. Vector search (cosine), top 3:")
    for text in [
        "read a file line by line",
        "parse json text into objects",
        "compress bytes with gzip",
        "run a shell command and capture its output",
    ]:
        q = emb.embed([text])[0]
        t0 = time.perf_counter()
        hits = tbl.search(q).metric("cosine").select(["name", "doc"]).limit(3).to_list()
        print(f"  '{text}'  ({_ms(time.perf_counter() - t0)})")
        _show(hits)

    q = emb.embed(["create a temporary directory"])[0]
    print(
        "\n4. Filtered search: 'create a temporary directory' WHERE kind = 'function' "
        "AND module IN ('os', 'shutil', 'tempfile'):"
    )
    t0 = time.perf_counter()
    hits = (
        tbl.search(q)
        .metric("cosine")
        .where("kind = ? AND module IN ('os', 'shutil', 'tempfile')", ["function"])
        .select(["name", "doc"])
        .limit(3)
        .to_list()
    )
    print(f"  ({_ms(time.perf_counter() - t0)})")
    _show(hits)

    queries = vecs[np.random.default_rng(0).integers(0, len(vecs), 1000)]
    t0 = time.perf_counter()
    res = tbl.search(queries).metric("cosine").select(["id"]).limit(10).to_arrow()
    dt = time.perf_counter() - t0
    print(
        f"\n5. Batched exact search: 1000 queries x {len(tbl)} rows in {_ms(dt)} "
        f"({1000 / dt:,.0f} queries/s), {res.num_rows} results"
    )
    lat = []
    for v in queries[:300]:
        t0 = time.perf_counter()
        tbl.search(v).limit(10).to_arrow()
        lat.append(time.perf_counter() - t0)
    print(
        f"   Single-query latency, k=10: median {_ms(float(np.median(lat)))}, "
        f"p99 {_ms(float(np.quantile(lat, 0.99)))}"
    )

    t0 = time.perf_counter()
    tbl.create_index(index_type="HNSW", metric="cosine", progress=False)
    built = time.perf_counter() - t0
    curve = tbl.index_stats("vector_idx")["calibration"]["points"]
    print(
        f"\n5b. ANN index: HNSW over 8-bit codes built in {_ms(built)} -> version {tbl.version}; "
        "calibrated recall@10 by ef: " + ", ".join(f"{ef}: {r:.3f}" for ef, r in curve[:5])
    )
    lat, hits = [], 0
    for v in queries[:300]:
        t0 = time.perf_counter()
        got = tbl.search(v).select(["id"]).limit(10).to_arrow()["id"].to_pylist()
        lat.append(time.perf_counter() - t0)
        exact = tbl.search(v).bypass_vector_index().select(["id"]).limit(10).to_arrow()
        hits += len(set(got) & set(exact["id"].to_pylist()))
    print(
        f"   Indexed single-query latency: median {_ms(float(np.median(lat)))}, "
        f"recall@10 vs exact {hits / 3000:.3f} (default settings)"
    )

    print("\n6. Writes are versions; time travel:")
    n_del = tbl.delete("module = ?", ["os"])
    print(f"  delete module = 'os': {n_del} rows removed -> version {tbl.version}, {len(tbl)} rows")
    n_up = tbl.update("module = 'json'", values_sql={"doc_len": "doc_len * 10"})
    print(f"  update module = 'json' (doc_len * 10): {n_up} rows -> version {tbl.version}")
    tbl.checkout(1)
    print(
        f"  checkout(1): {len(tbl)} rows, "
        f"os functions present: {tbl.count_rows('module = ?', ['os'])}"
    )
    tbl.checkout_latest()
    v = tbl.restore(1)
    print(f"  restore(1): now version {v} with {len(tbl)} rows")
    for row in tbl.list_versions():
        print(
            f"    v{row['version']:<3} {row['operation']:<12} {row['rows']:>6} rows  "
            f"{row['timestamp']:%Y-%m-%d %H:%M:%S} UTC"
        )

    print("\n7. oxvec info:")
    info(root)
    if path is None:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"\nThe database is kept at {root}.")
    return 0


def info(path: str) -> int:
    """Prints the tables of the database at ``path``: versions, rows and schema."""
    import os

    import oxvec

    if not os.path.isdir(path):
        print(f"oxvec info: {path} is not a directory", file=sys.stderr)
        return 2
    db = oxvec.connect(path)
    names = db.table_names()
    print(f"database {db.uri}: {len(names)} table(s)")
    for name in names:
        tbl = db.open_table(name)
        versions = tbl.list_versions()
        print(f"  table {name}: version {tbl.version}, {len(tbl)} rows, {len(versions)} versions")
        for field in tbl.schema:
            print(f"    {field.name}: {field.type}{'' if field.nullable else ' not null'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oxvec`` command."""
    parser = argparse.ArgumentParser(prog="oxvec", description="oxvec embedded vector database")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="build a demo database, search it, print timings")
    p_demo.add_argument("--path", help="keep the demo database here (default: a temp dir)")
    p_info = sub.add_parser("info", help="describe the tables of a database")
    p_info.add_argument("path")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.path)
    return info(args.path)


if __name__ == "__main__":
    sys.exit(main())
