"""The ``oxvec`` command: ``oxvec demo``, and the database commands of ``_commands``
(``info``, ``versions``, ``tags``, ``verify``, ``optimize``, ``import``, ``export``,
``query``). ``oxvec --help`` lists them."""

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
    from ._commands import info

    info(root, as_json=False)
    if path is None:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"\nThe database is kept at {root}.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oxvec`` command (also ``python -m oxvec``)."""
    import oxvec

    from . import _commands as cmd

    parser = argparse.ArgumentParser(prog="oxvec", description="oxvec embedded vector database")
    parser.add_argument(
        "--version",
        action="version",
        version=f"oxvec {oxvec.__version__} (SIMD kernels: {oxvec.simd_kernels()})",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, *, table: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("path", help="the database directory")
        if table:
            p.add_argument("table", help="the table's name")
        return p

    p = sub.add_parser("demo", help="build a demo database, search it, print timings")
    p.add_argument("--path", help="keep the demo database here (default: a temp dir)")
    p = command(
        "info", "describe a database's tables: rows, sizes, indexes, tags, schema", table=False
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("versions", "list a table's versions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("tags", "list a table's tags")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(
        "verify", "check that every file of every version is present and intact", table=False
    )
    p.add_argument("table", nargs="?", help="only this table")
    p.add_argument("--deep", action="store_true", help="also check every file's checksum")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("optimize", "compact a table and fold new rows into its indexes")
    p.add_argument(
        "--cleanup-older-than",
        type=float,
        metavar="DAYS",
        help="also remove versions older than DAYS days",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("import", "load a Parquet, CSV or JSON Lines file into a table (one version)")
    p.add_argument("file", help="a .parquet, .csv or .jsonl file")
    p.add_argument(
        "--mode",
        choices=["create", "append", "overwrite"],
        default="create",
        help="when the table exists: fail (create), append, or overwrite",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("export", "write a table's rows to a Parquet, CSV or JSON Lines file")
    p.add_argument("file", help="a .parquet, .csv or .jsonl file")
    p.add_argument("--where", help="a SQL filter")
    p = command("query", "print the rows of a filtered scan, vector search or full-text search")
    p.add_argument("--where", help="a SQL filter")
    p.add_argument(
        "--vector", help="a query vector: a .npy file, a JSON file or an inline JSON list"
    )
    p.add_argument("--text", help="a full-text query")
    p.add_argument("--select", nargs="+", metavar="COLUMN", help="columns to show")
    p.add_argument(
        "--limit", type=int, help="rows to show (default 10 for a search, 20 for a scan)"
    )
    p.add_argument("--json", action="store_true", help="print JSON (vectors included)")

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args.path)
        if args.command == "info":
            return cmd.info(args.path, args.json)
        if args.command == "versions":
            return cmd.versions(args.path, args.table, args.json)
        if args.command == "tags":
            return cmd.tags(args.path, args.table, args.json)
        if args.command == "verify":
            return cmd.verify(args.path, args.table, args.deep, args.json)
        if args.command == "optimize":
            return cmd.optimize(args.path, args.table, args.cleanup_older_than, args.json)
        if args.command == "import":
            return cmd.import_file(args.path, args.table, args.file, args.mode, args.json)
        if args.command == "export":
            return cmd.export(args.path, args.table, args.file, args.where)
        return cmd.query(
            args.path,
            args.table,
            args.where,
            args.vector,
            args.text,
            args.select,
            args.limit,
            args.json,
        )
    except (cmd.CommandError, oxvec.OxvecError) as e:
        print(f"oxvec {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
