"""ANN search: oxvec's indexes against hnswlib, FAISS (HNSW, IVF-PQ), usearch and LanceDB.

One process, one run, the same data and queries for everyone. For every library and every
setting of its search knob: recall@10 against exact float64 ground truth, and single-query
QPS (one query per call through the library's Python API, one thread). Then, per library:
the best single-query QPS at recall@10 >= 0.95, batched QPS at that setting on all cores,
build time and index memory. Last, filtered search at 1% selectivity against LanceDB's
prefiltered indexed search.

Ratios are ours / theirs. Run ``python benchmarks/ann_search.py --help`` for sizes;
``make bench-ann`` runs the recorded configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

# Before lancedb is imported: its Rust logger reads this once.
os.environ.setdefault("RUST_LOG", "error")

import numpy as np
import pyarrow as pa
from bench_data import clustered, docs_minilm, real_minilm
from exact_search import machine

K = 10
M, EF_CONSTRUCTION = 16, 150
EFS = (10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 384)
PROBES = (2, 4, 8, 16, 32, 64, 128)
# IVF indexes: (nprobes, refine factor) pairs, cheapest first; every IVF library gets the same.
IVF = tuple((p, r) for r in (10, 40, 160) for p in (2, 4, 8, 16, 32, 64))
RESULTS = Path(__file__).parent / "results"


def ground_truth(data, queries, metric, allowed=None):
    """Exact top-K ids in float64, in blocks (optionally among `allowed` rows only)."""
    d = data.astype(np.float64)
    q = queries.astype(np.float64)
    if metric == "cosine":
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-30)
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
    ids = np.arange(len(d)) if allowed is None else np.flatnonzero(allowed)
    d = d[ids]
    norms = (d * d).sum(1)
    out = np.zeros((len(q), K), dtype=np.int64)
    for s in range(0, len(q), 64):
        score = norms[None, :] - 2 * q[s : s + 64] @ d.T
        top = np.argpartition(score, K, axis=1)[:, :K]
        for j, row in enumerate(top):
            out[s + j] = ids[row[np.argsort(score[j, row])]]
    return out


def recall(got, truth):
    return (
        sum(len(set(np.asarray(g).tolist()) & set(t.tolist())) for g, t in zip(got, truth))
        / truth.size
    )


class Lib:
    name = ""
    knob = ""
    settings: tuple[int, ...] = ()

    def build(self, data, metric, root): ...
    def set(self, s): ...
    def one(self, q): ...
    def batch(self, qs):
        return [self.one(q) for q in qs]

    def memory(self) -> int:
        return 0


def arrow_table(data):
    n, dim = data.shape
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "cat": pa.array((np.arange(n) % 100).astype(np.int32)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()), dim),
        }
    )


def per_query(query_index, ids, n):
    """A batched oxvec result's ids split by the query they answer."""
    return [ids[query_index == i] for i in range(n)]


class Oxvec(Lib):
    def __init__(self, index_type):
        self.index_type = index_type
        self.name = f"oxvec {index_type}"
        self.knob = "ef" if index_type == "HNSW" else "nprobes,refine"
        self.settings = EFS if index_type == "HNSW" else IVF
        self.setting = None

    def build(self, data, metric, root):
        import oxvec

        # The sweeps set the knob on every query, so served-query recall monitoring (a
        # background thread now and then) would only add noise to the timings.
        self.db = oxvec.connect(os.path.join(root, "oxvec"), monitor_recall=False)
        self.tbl = self.db.create_table(self.index_type.lower(), arrow_table(data))
        params = {"m": M, "ef_construction": EF_CONSTRUCTION} if self.index_type == "HNSW" else {}
        self.tbl.create_index(index_type=self.index_type, metric=metric, progress=False, **params)
        self.stats = self.tbl.index_stats("vector_idx")

    def set(self, s):
        self.setting = s

    def _q(self, q):
        query = self.tbl.search(q).select(["id"]).limit(K)
        if isinstance(self.setting, tuple):
            query = query.nprobes(self.setting[0]).refine_factor(self.setting[1])
        elif self.setting is not None:
            query = query.ef(self.setting)
        return query

    # NumPy out, like hnswlib, FAISS and usearch; `OxvecArrow` measures the Arrow path.
    def one(self, q):
        return self._q(q).to_numpy()["id"]

    def batch(self, qs):
        t = self._q(qs).to_numpy()
        return per_query(t["query_index"], t["id"], len(qs))

    def filtered(self, q, where):
        return self.tbl.search(q).where(where).select(["id"]).limit(K).to_numpy()["id"]

    def memory(self):
        return self.stats["size_in_memory"]


class OxvecArrow(Lib):
    """oxvec's HNSW table as built by `of`, read through `to_arrow()` (a pyarrow Table)."""

    shared = True

    def __init__(self, of: Oxvec):
        self.of = of
        self.name = f"{of.name} (to_arrow)"
        self.knob = of.knob
        self.settings = of.settings

    def build(self, data, metric, root):
        pass

    def set(self, s):
        self.of.set(s)

    def one(self, q):
        return self.of._q(q).to_arrow()["id"].to_numpy()

    def batch(self, qs):
        t = self.of._q(qs).to_arrow()
        return per_query(t["query_index"].to_numpy(), t["id"].to_numpy(), len(qs))

    def memory(self):
        return self.of.memory()


class Hnswlib(Lib):
    name, knob, settings = "hnswlib", "ef", EFS

    def build(self, data, metric, root):
        import hnswlib

        self.p = hnswlib.Index(space="cosine" if metric == "cosine" else "l2", dim=data.shape[1])
        self.p.init_index(max_elements=len(data), ef_construction=EF_CONSTRUCTION, M=M)
        self.p.add_items(data, np.arange(len(data)), num_threads=os.cpu_count())
        self.p.set_num_threads(1)

    def set(self, s):
        self.p.set_ef(s)

    def one(self, q):
        return self.p.knn_query(q, k=K)[0][0]

    def batch(self, qs):
        return list(self.p.knn_query(qs, k=K, num_threads=os.cpu_count())[0])

    def memory(self):
        return self.p.index_file_size()


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-30)


class FaissHNSW(Lib):
    name, knob, settings = "FAISS HNSWFlat", "efSearch", EFS

    def build(self, data, metric, root):
        import faiss

        self.faiss = faiss
        self.cos = metric == "cosine"
        mt = faiss.METRIC_INNER_PRODUCT if self.cos else faiss.METRIC_L2
        self.ix = faiss.IndexHNSWFlat(data.shape[1], M, mt)
        self.ix.hnsw.efConstruction = EF_CONSTRUCTION
        faiss.omp_set_num_threads(os.cpu_count())
        self.ix.add(_unit(data) if self.cos else data)
        faiss.omp_set_num_threads(1)

    def set(self, s):
        self.ix.hnsw.efSearch = s

    def one(self, q):
        q = (_unit(q) if self.cos else q)[None, :]
        return self.ix.search(q, K)[1][0]

    def batch(self, qs):
        self.faiss.omp_set_num_threads(os.cpu_count())
        out = list(self.ix.search(_unit(qs) if self.cos else qs, K)[1])
        self.faiss.omp_set_num_threads(1)
        return out

    def memory(self):
        return len(self.faiss.serialize_index(self.ix))


class FaissIVFPQ(FaissHNSW):
    name, knob, settings = "FAISS IVFPQ+refine", "nprobe,k_factor", IVF

    def build(self, data, metric, root):
        import faiss

        self.faiss = faiss
        self.cos = metric == "cosine"
        n, d = data.shape
        x = _unit(data) if self.cos else data
        nlist = max(1, int(np.sqrt(n)))
        mt = faiss.METRIC_INNER_PRODUCT if self.cos else faiss.METRIC_L2
        quant = faiss.IndexFlat(d, mt)
        self.ivf = faiss.IndexIVFPQ(quant, d, nlist, d // 8, 8, mt)
        faiss.omp_set_num_threads(os.cpu_count())
        self.ivf.train(x[np.random.default_rng(0).choice(n, min(n, 256 * nlist), replace=False)])
        self.ix = faiss.IndexRefineFlat(self.ivf)
        self.ix.k_factor = 10
        self.ix.add(x)
        faiss.omp_set_num_threads(1)
        self._quant = quant

    def set(self, s):
        self.ivf.nprobe, self.ix.k_factor = s


class Usearch(Lib):
    name, knob, settings = "usearch", "expansion_search", EFS

    def build(self, data, metric, root):
        from usearch.index import Index

        self.ix = Index(
            ndim=data.shape[1],
            metric="cos" if metric == "cosine" else "l2sq",
            connectivity=M,
            expansion_add=EF_CONSTRUCTION,
        )
        self.ix.add(np.arange(len(data)), data, threads=os.cpu_count())

    def set(self, s):
        self.ix.expansion_search = s

    def one(self, q):
        return self.ix.search(q, K, threads=1).keys

    def batch(self, qs):
        return list(self.ix.search(qs, K, threads=os.cpu_count()).keys)

    def memory(self):
        return self.ix.memory_usage


class Lance(Lib):
    knob, settings = "nprobes,refine", IVF

    def __init__(self, index_type):
        self.index_type = index_type
        self.name = f"LanceDB {index_type}"

    def build(self, data, metric, root):
        import lancedb

        self.path = os.path.join(root, f"lance-{self.index_type}")
        self.db = lancedb.connect(self.path)
        self.tbl = self.db.create_table("t", arrow_table(data))
        self.metric = metric
        kw = {"num_sub_vectors": data.shape[1] // 8} if self.index_type == "IVF_PQ" else {}
        self.tbl.create_index(
            metric=metric,
            vector_column_name="vector",
            index_type=self.index_type,
            num_partitions=max(1, int(np.sqrt(len(data)))),
            **kw,
        )
        self.setting = (16, 10)

    def set(self, s):
        self.setting = s

    def _q(self, q):
        nprobes, refine = self.setting
        query = self.tbl.search(q).distance_type(self.metric).limit(K).nprobes(nprobes)
        return query.refine_factor(refine).select(["id"])

    def one(self, q):
        return self._q(q).to_arrow()["id"].to_numpy()

    def filtered(self, q, where):
        return self._q(q).where(where, prefilter=True).to_arrow()["id"].to_numpy()

    def memory(self):
        idx = Path(self.path) / "t.lance" / "_indices"
        return sum(f.stat().st_size for f in idx.rglob("*") if f.is_file())


def timed_qps(fn, queries, min_seconds=0.5):
    """Queries per second of `fn` called once per query (repeated to last min_seconds)."""
    got = [fn(q) for q in queries[:5]]  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        got = [fn(q) for q in queries]
        n += len(queries)
        el = time.perf_counter() - t0
        if el >= min_seconds:
            return n / el, got


def run_dataset(name, data, queries, metric, libs, args):
    print(f"\n== {name}: {data.shape[0]:,} x {data.shape[1]} ({metric}), {len(queries)} queries")
    truth = ground_truth(data, queries, metric)
    rows = []
    root = tempfile.mkdtemp(prefix="oxvec-ann-")
    try:
        for lib in libs:
            t0 = time.perf_counter()
            lib.build(data, metric, root)
            build = time.perf_counter() - t0
            curve = []
            for s in lib.settings:
                lib.set(s)
                qps, got = timed_qps(lib.one, queries, args.min_seconds)
                r = recall(got, truth)
                curve.append((s, r, qps))
                print(f"  {lib.name:22s} {lib.knob}={s!s:<9} recall {r:.3f}  {qps:8.0f} QPS")
                if r >= 0.995:
                    break
            ok = [c for c in curve if c[1] >= 0.95]
            best = max(ok, key=lambda c: c[2]) if ok else None
            batched = None
            if best is not None:
                lib.set(best[0])
                t0 = time.perf_counter()
                reps = 0
                while time.perf_counter() - t0 < args.min_seconds:
                    got = lib.batch(queries)
                    reps += 1
                batched = reps * len(queries) / (time.perf_counter() - t0)
            row = {
                "lib": lib.name,
                "build_s": build,
                "memory": lib.memory(),
                "curve": curve,
                "qps95": best[2] if best else None,
                "setting95": best[0] if best else None,
                "recall95": best[1] if best else None,
                "batched95": batched,
            }
            if getattr(lib, "shared", False):
                row["shared"] = True
            if hasattr(lib, "stats"):
                row["calibration"] = lib.stats.get("calibration")
            rows.append(row)
            print(
                f"  {lib.name:22s} build {build:6.1f} s  memory {row['memory'] / 2**20:7.1f} MiB"
                f"  QPS@0.95 {row['qps95'] or 0:8.0f}  batched {batched or 0:8.0f}"
            )
        filt = filtered(data, queries, metric, libs, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "name": name,
        "n": len(data),
        "dim": data.shape[1],
        "metric": metric,
        "rows": rows,
        "filtered": filt,
    }


def filtered(data, queries, metric, libs, args):
    """1% selectivity (`cat = 7`): oxvec default settings vs LanceDB prefiltered IVF_PQ."""
    allowed = (np.arange(len(data)) % 100) == 7
    truth = ground_truth(data, queries, metric, allowed)
    out = []
    for lib in libs:
        if not hasattr(lib, "filtered") or lib.name in ("oxvec IVF_PQ", "oxvec IVF_RQ"):
            continue
        lib.set(None if lib.name.startswith("oxvec") else (32, 10))
        qps, got = timed_qps(
            lambda q, lib=lib: lib.filtered(q, "cat = 7"), queries, args.min_seconds
        )
        r = recall(got, truth)
        full = all(len(g) == K for g in got)
        print(f"  filtered 1%: {lib.name:22s} recall {r:.3f}  {qps:8.0f} QPS  k returned: {full}")
        out.append({"lib": lib.name, "qps": qps, "recall": r, "k_returned": full})
    return out


def report(results):
    lines = []
    for ds in results["datasets"]:
        rows = ds["rows"]
        lines.append(f"\n### {ds['name']}: {ds['n']:,} x {ds['dim']} ({ds['metric']})\n")
        lines.append(
            "| library | build s | index MiB | QPS @ recall>=0.95 (1 thread) | setting | recall | batched QPS |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for r in rows:
            if r.get("shared"):
                lines.append(
                    f"| {r['lib']} | (same index) | | {r['qps95'] or 0:.0f} | {r['setting95']} | "
                    f"{r['recall95'] or 0:.3f} | {r['batched95'] or 0:.0f} |"
                )
                continue
            q = f"{r['qps95']:.0f}" if r["qps95"] else "never reached"
            b = f"{r['batched95']:.0f}" if r["batched95"] else "-"
            s = r["setting95"] if r["setting95"] is not None else "-"
            rc = f"{r['recall95']:.3f}" if r["recall95"] else "-"
            lines.append(
                f"| {r['lib']} | {r['build_s']:.1f} | {r['memory'] / 2**20:.1f} | {q} | {s} | {rc} | {b} |"
            )
        ours = max(
            (r for r in rows if r["lib"] == "oxvec HNSW" and r["qps95"]),
            key=lambda r: r["qps95"],
            default=None,
        )
        graph = [
            r
            for r in rows
            if r["lib"] in ("hnswlib", "FAISS HNSWFlat", "FAISS IVFPQ+refine", "usearch")
            and r["qps95"]
        ]
        lance = [r for r in rows if r["lib"].startswith("LanceDB") and r["qps95"]]
        if ours:
            lines.append("")
            if graph:
                b = max(graph, key=lambda r: r["qps95"])
                lines.append(
                    f"- QPS@0.95, oxvec HNSW / best of hnswlib, FAISS, usearch ({b['lib']}): **{ours['qps95'] / b['qps95']:.2f}x**"
                )
            if lance:
                b = max(lance, key=lambda r: r["qps95"])
                lines.append(
                    f"- QPS@0.95, oxvec HNSW / LanceDB's best index ({b['lib']}): **{ours['qps95'] / b['qps95']:.2f}x**"
                )
            h = next((r for r in rows if r["lib"] == "hnswlib"), None)
            if h:
                lines.append(
                    f"- HNSW build time, oxvec / hnswlib (m={M}, ef_construction={EF_CONSTRUCTION}): **{ours['build_s'] / h['build_s']:.2f}x**"
                )
        rq = next((r for r in rows if r["lib"] == "oxvec IVF_RQ"), None)
        if rq:
            raw = ds["n"] * ds["dim"] * 4
            lines.append(
                f"- IVF_RQ index memory / raw vectors: **{rq['memory'] / raw:.3f}** (recall@10 {rq['recall95'] or max(c[1] for c in rq['curve']):.3f})"
            )
        f = {x["lib"]: x for x in ds["filtered"]}
        if "oxvec HNSW" in f and any(k.startswith("LanceDB") for k in f):
            lb = max((x for k, x in f.items() if k.startswith("LanceDB")), key=lambda x: x["qps"])
            o = f["oxvec HNSW"]
            lines.append(
                f"- filtered 1%: oxvec {o['qps']:.0f} QPS recall {o['recall']:.3f} vs {lb['lib']} prefilter "
                f"{lb['qps']:.0f} QPS recall {lb['recall']:.3f}: **{o['qps'] / lb['qps']:.1f}x**"
            )
    return "\n".join(lines)


def plot(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    dss = results["datasets"]
    fig, axes = plt.subplots(1, len(dss), figsize=(7 * len(dss), 5))
    axes = np.atleast_1d(axes)
    for ax, ds in zip(axes, dss):
        for r in ds["rows"]:
            c = np.array([(x[1], x[2]) for x in r["curve"]])
            ax.plot(c[:, 0], c[:, 1], marker="o", label=r["lib"])
        ax.set_yscale("log")
        ax.axvline(0.95, color="grey", linestyle=":")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("single-query QPS (1 thread)")
        ax.set_title(f"{ds['name']} {ds['n']:,} x {ds['dim']}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--n", type=int, default=1_000_000, help="rows of the clustered synthetic set (0 skips it)"
    )
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--minilm", type=int, default=20_000, help="MiniLM rows (0 skips the real set)")
    ap.add_argument(
        "--real",
        type=int,
        default=0,
        help="rows of the large real set (docstrings + manual pages, held-out queries; "
        "e.g. 120000; built once, see bench_data.py)",
    )
    ap.add_argument("--min-seconds", type=float, default=0.5, help="time per measurement")
    ap.add_argument("--skip", default="", help="comma-separated library names to leave out")
    args = ap.parse_args()
    os.environ.setdefault("RUST_LOG", "error")

    def libs():
        hnsw = Oxvec("HNSW")
        all_libs = [
            hnsw,
            OxvecArrow(hnsw),
            Oxvec("IVF_PQ"),
            Oxvec("IVF_RQ"),
            Hnswlib(),
            FaissHNSW(),
            FaissIVFPQ(),
            Usearch(),
            Lance("IVF_PQ"),
            Lance("IVF_HNSW_SQ"),
        ]
        skip = {s.strip() for s in args.skip.split(",") if s.strip()}
        return [lib for lib in all_libs if lib.name not in skip]

    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "datasets": []}
    if args.minilm:
        vecs, _ = docs_minilm(args.minilm)
        nq = min(args.queries, len(vecs) // 10)
        results["datasets"].append(
            run_dataset("MiniLM docs", vecs[:-nq], vecs[-nq:], "cosine", libs(), args)
        )
    if args.real:
        base, held_out = real_minilm(args.real)
        results["datasets"].append(
            run_dataset("real sentences", base, held_out[: args.queries], "cosine", libs(), args)
        )
    if args.n:
        allv = clustered(args.n + args.queries, args.dim)
        results["datasets"].append(
            run_dataset("clustered synthetic", allv[: args.n], allv[args.n :], "l2", libs(), args)
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"ann-{stamp}.json").write_text(json.dumps(results, indent=1))
    print(f"\n{results['machine']}, {results['date']}")
    print(report(results))
    plot(results, RESULTS / f"ann-{stamp}.png")


if __name__ == "__main__":
    main()
