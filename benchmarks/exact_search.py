"""Exact search: oxvec against numpy, FAISS IndexFlat and LanceDB (unindexed), in one run,
on the same data and machine.

Measures ingest rows/s (oxvec and LanceDB persist; FAISS only adds to memory), single-query
QPS (one query per call through each library's Python API), batched QPS, the latency of a
k=10 query on a 1,000-row table, and recall@10 of each library against a float64 numpy ground
truth. Prints ratios oxvec / other. Every timing is the median of ``--repeat`` runs.

    python benchmarks/exact_search.py                      # 1M x 128 synthetic + 20k MiniLM
    python benchmarks/exact_search.py --rows 200000 --real 10000 --repeat 3   # quicker
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")  # LanceDB logs a deprecation warning per query

import faiss
import lancedb
import numpy as np
import oxvec
import pyarrow as pa
from bench_data import docs_minilm, synthetic

K = 10
RESULTS = Path(__file__).parent / "results"


def arrow_table(vecs: np.ndarray) -> pa.Table:
    n, dim = vecs.shape
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), dim),
        }
    )


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ground_truth(data: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    out = np.zeros((len(queries), K), dtype=np.int64)
    d64 = data.astype(np.float64)
    norms = (d64 * d64).sum(1)
    for i, q in enumerate(queries.astype(np.float64)):
        score = norms - 2 * d64 @ q if metric == "l2" else -(d64 @ q)
        idx = np.argpartition(score, K)[:K]
        out[i] = idx[np.argsort(score[idx])]
    return out


def recall(got: list[np.ndarray], truth: np.ndarray) -> float:
    hits = sum(len(set(g.tolist()) & set(t.tolist())) for g, t in zip(got, truth))
    return hits / truth.size


class Lib:
    """One library under test: how it ingests, searches one query and a batch."""

    name: str

    def ingest(self, data: np.ndarray, table: pa.Table, metric: str, root: str) -> None: ...
    def one(self, q: np.ndarray) -> np.ndarray: ...
    def batch(self, qs: np.ndarray) -> list[np.ndarray]:
        return [self.one(q) for q in qs]


class Oxvec(Lib):
    name = "oxvec"

    def ingest(self, data, table, metric, root):
        self.metric = metric
        self.tbl = oxvec.connect(root).create_table("t", table, mode="overwrite")

    def one(self, q):
        res = self.tbl.search(q).metric(self.metric).select(["id"]).limit(K).to_arrow()
        return res.column("id").to_numpy()

    def batch(self, qs):
        res = self.tbl.search(qs).metric(self.metric).select(["id"]).limit(K).to_arrow()
        ids = res.column("id").to_numpy()
        return [ids[i * K : (i + 1) * K] for i in range(len(qs))]


class Numpy(Lib):
    name = "numpy"

    def ingest(self, data, table, metric, root):
        self.data, self.metric = data, metric
        self.norms = (data * data).sum(1)

    def _top(self, score):
        idx = np.argpartition(score, K)[:K]
        return idx[np.argsort(score[idx])]

    def one(self, q):
        dots = self.data @ q
        return self._top(self.norms - 2 * dots if self.metric == "l2" else -dots)

    def batch(self, qs):
        dots = qs @ self.data.T
        scores = self.norms[None, :] - 2 * dots if self.metric == "l2" else -dots
        return [self._top(s) for s in scores]


class Faiss(Lib):
    name = "FAISS IndexFlat"

    def ingest(self, data, table, metric, root):
        # Cosine on unit vectors is inner product (the MiniLM set is normalised).
        self.index = (
            faiss.IndexFlatL2(data.shape[1]) if metric == "l2" else faiss.IndexFlatIP(data.shape[1])
        )
        self.index.add(data)

    def one(self, q):
        return self.index.search(q[None, :], K)[1][0]

    def batch(self, qs):
        return list(self.index.search(qs, K)[1])


class Lance(Lib):
    name = "LanceDB (no index)"

    def ingest(self, data, table, metric, root):
        self.metric = metric
        self.tbl = lancedb.connect(root).create_table("t", table, mode="overwrite")

    def one(self, q):
        res = self.tbl.search(q).distance_type(self.metric).select(["id"]).limit(K).to_arrow()
        return res.column("id").to_numpy()


def run_dataset(name: str, data: np.ndarray, queries: np.ndarray, metric: str, args) -> dict:
    print(f"\n## {name}: {data.shape[0]:,} x {data.shape[1]}, {metric}, {len(queries)} queries")
    table = arrow_table(data)
    truth = ground_truth(data, queries, metric)
    nb = min(len(queries), args.batch)
    libs = [Oxvec(), Numpy(), Faiss(), Lance()]
    out: dict = {"rows": data.shape[0], "dim": data.shape[1], "metric": metric, "libs": {}}
    for lib in libs:
        res: dict = {}
        root = tempfile.mkdtemp(prefix=f"bench-{lib.name.split()[0].lower()}-")
        try:
            secs = median_time(lambda: lib.ingest(data, table, metric, root), args.repeat)  # noqa: B023
            res["ingest_rows_s"] = data.shape[0] / secs
            lib.one(queries[0])  # warm up (maps files, loads caches)
            nq = (
                len(queries)
                if not isinstance(lib, Lance)
                else min(len(queries), args.lance_queries)
            )
            got = []

            def singles(lib=lib, nq=nq, got=got):
                got.clear()
                got.extend(lib.one(q) for q in queries[:nq])

            res["single_qps"] = nq / median_time(singles, args.repeat)
            res["recall"] = recall(got, truth[:nq])
            if not isinstance(lib, Lance):
                res["batch_qps"] = nb / median_time(
                    lambda lib=lib: lib.batch(queries[:nb]), args.repeat
                )
                res["batch_recall"] = recall(lib.batch(queries[:nb]), truth[:nb])
        finally:
            shutil.rmtree(root, ignore_errors=True)
        out["libs"][lib.name] = res
        print(f"  {lib.name:<20} " + "  ".join(f"{k}={v:,.3f}" for k, v in res.items()), flush=True)
    return out


def latency_1k(data: np.ndarray, metric: str, args) -> dict:
    small = data[:1000]
    table = arrow_table(small)
    q = data[1000 + 7]
    out = {}
    for lib, runs in [(Oxvec(), 3000), (Numpy(), 3000), (Faiss(), 3000), (Lance(), 300)]:
        root = tempfile.mkdtemp()
        try:
            lib.ingest(small, table, metric, root)
            for _ in range(50):
                lib.one(q)
            reps = []
            for _ in range(args.repeat):
                lat = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    lib.one(q)
                    lat.append(time.perf_counter() - t0)
                reps.append(statistics.median(lat))
            out[lib.name] = statistics.median(reps) * 1e6
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(
        f"  k=10 latency on 1,000 x {data.shape[1]} ({metric}), median us: "
        + ", ".join(f"{k}={v:.1f}" for k, v in out.items())
    )
    return out


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def report(results: dict) -> str:
    lines = [
        f"Run {results['date']} on {results['machine']}; oxvec kernels: {results['kernels']}; "
        f"median of {results['repeat']} runs.",
        "",
    ]
    for ds, r in results["datasets"].items():
        libs = r["libs"]
        ox = libs["oxvec"]
        lines += [
            f"### {ds}: {r['rows']:,} x {r['dim']}, {r['metric']}",
            "",
            "| library | ingest rows/s | single-query QPS | recall@10 | batched QPS | "
            "oxvec/lib single | oxvec/lib ingest |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, v in libs.items():
            single = ox["single_qps"] / v["single_qps"]
            ingest = ox["ingest_rows_s"] / v["ingest_rows_s"]
            batch = v.get("batch_qps", float("nan"))
            lines.append(
                f"| {name} | {v['ingest_rows_s']:,.0f} | {v['single_qps']:,.1f} | "
                f"{v['recall']:.3f} | {batch:,.1f} | {single:.2f}x | {ingest:.2f}x |"
            )
        lines.append("")
    for ds, lat in results["latency_us"].items():
        lines += [
            f"k=10 query on a 1,000-row table ({ds}), median latency: "
            + ", ".join(f"{k} {v:.1f} us" for k, v in lat.items()),
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--real", type=int, default=20_000, help="MiniLM sentences (0 to skip)")
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--lance-queries", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "kernels": oxvec.simd_kernels(),
        "repeat": args.repeat,
        "datasets": {},
        "latency_us": {},
    }
    syn = synthetic(args.rows + args.queries, args.dim)
    data, queries = syn[: args.rows], syn[args.rows :]
    results["datasets"]["synthetic"] = run_dataset("synthetic", data, queries, "l2", args)
    results["latency_us"][f"synthetic {args.dim}-d, l2"] = latency_1k(data, "l2", args)
    if args.real:
        vecs, _ = docs_minilm(args.real)
        data, queries = vecs[: -args.queries], vecs[-args.queries :]
        results["datasets"]["MiniLM docs"] = run_dataset(
            "MiniLM docs", data, queries, "cosine", args
        )
        results["latency_us"]["MiniLM 384-d, cosine"] = latency_1k(data, "cosine", args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"exact_{results['date']}.json").write_text(json.dumps(results, indent=1))
    text = report(results)
    (RESULTS / f"exact_{results['date']}.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
