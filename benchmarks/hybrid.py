"""Hybrid search (vector + BM25, fused by reciprocal rank fusion): oxvec against LanceDB,
same corpus, same queries, same vectors, one run.

The corpus is that of ``bm25.py`` (``text_corpus.py``: passages of the installed packages'
docstrings and comments). Two labelled query sets (``--set``): ``known-item``, the queries of
``bm25.py`` (4 words drawn from one passage, whose one relevant document is that passage; a
lexical task), and ``summaries``, each the summary line of a docstring (3 to 9 words, never
itself a passage) whose relevant documents are the passages of the rest of that docstring
(a paraphrase task: the summary says what the body explains, mostly in other words).

The dense leg (``--embedder``): ``minilm``, the sentence-transformer all-MiniLM-L6-v2 (384
dimensions) run by ``minilm.py`` from the model's PyPI wheel, passages' vectors cached in
``benchmarks/data/``; or ``lsa``, an embedding trained offline on the passages alone:
scikit-learn ``TfidfVectorizer`` (the same words as the full-text index: lower-cased runs of
letters and digits; sublinear tf, words in at least 2 passages) then ``TruncatedSVD`` to
``--dims`` (128) dimensions (randomized, seed 0), L2-normalised, float32. Queries are
embedded by the same model; the relevance labels are never seen by it.

Both engines get the same table (id, text, vector), the same full-text analysis as
``bm25.py`` (no stemming, stop words or folding; BM25 k1 = 1.2, b = 0.75), an HNSW index
over 8-bit scalar-quantized vectors (oxvec ``HNSW``, LanceDB ``IVF_HNSW_SQ`` with one
partition; m = 16, ef_construction = 150; ``--index none``: exact / flat search), cosine
distance and each library's default reciprocal rank fusion (k = 60; for a top 10, oxvec's
legs fetch 20 rows each, LanceDB's 10, which it runs on a thread pool). Reports MRR@10,
nDCG@10 and recall@10 against the labels for each leg alone and for the hybrid, the vector
legs' recall@10 against exact search, and single-query QPS (one query at a time from one
Python thread, query vectors embedded beforehand; median of ``--rounds`` passes, engines
interleaved), with the ratio oxvec / LanceDB.

    python benchmarks/hybrid.py [--docs 100000] [--queries 1000] [--lance-queries 1000]
                                [--embedder lsa|minilm] [--set known-item|summaries]
                                [--dims 128] [--index hnsw] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before lancedb is imported: its Rust logger reads this once (else every query whose
# select() leaves out _distance / _score logs a deprecation warning).
os.environ.setdefault("LANCEDB_LOG", "error")

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
import text_corpus
from bm25 import quality

K = 10
M, EF_CONSTRUCTION = 16, 150
# LanceDB's HNSW search breadth: its recall@10 against exact search levels off near 0.97
# from ef 80 up on this set (8-bit codes, no re-ranking); its QPS hardly changes with ef.
LANCE_EF = 160
FTS = {"stem": False, "remove_stop_words": False, "ascii_folding": False, "with_position": False}


class Embedder:
    """LSA: tf-idf over the passages, truncated SVD, unit length."""

    def __init__(self, docs: list[str], dims: int) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        t = time.perf_counter()
        self.tfidf = TfidfVectorizer(
            token_pattern=text_corpus.WORD.pattern,
            lowercase=True,
            sublinear_tf=True,
            min_df=2,
            dtype=np.float32,
        )
        x = self.tfidf.fit_transform(docs)
        self.svd = TruncatedSVD(dims, algorithm="randomized", n_iter=5, random_state=0)
        self.docs = self._unit(self.svd.fit_transform(x))
        self.fit_seconds = time.perf_counter() - t
        self.vocab = len(self.tfidf.vocabulary_)

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float32)
        n = np.linalg.norm(v, axis=1, keepdims=True)
        return np.ascontiguousarray(v / np.where(n > 0, n, 1), dtype=np.float32)

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self._unit(self.svd.transform(self.tfidf.transform(texts)))

    def describe(self) -> str:
        return f"LSA {self.svd.n_components} dims over {self.vocab:,} words"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384-d, unit length) through ``minilm.py``; the passages' vectors are
    cached in ``benchmarks/data/`` (embedding them takes about 0.1 s each on 2 cores)."""

    def __init__(self, docs: list[str]) -> None:
        from minilm import DATA, MiniLM

        self.model = MiniLM()
        digest = hashlib.sha256("\n".join(docs).encode()).hexdigest()[:16]
        cache = DATA / f"minilm-passages-{len(docs)}-{digest}.npy"
        t = time.perf_counter()
        if cache.exists():
            self.docs = np.load(cache)
        else:
            print(f"embedding {len(docs):,} passages with MiniLM...", file=sys.stderr)
            self.docs = self.model.encode(docs, progress=True)
            np.save(cache, self.docs)
        self.fit_seconds = time.perf_counter() - t

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts)

    def describe(self) -> str:
        return "all-MiniLM-L6-v2 384 dims"


def exact_top(docs: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    out: list[set[int]] = []
    for i in range(0, len(queries), 256):
        sims = queries[i : i + 256] @ docs.T
        top = np.argpartition(-sims, K, axis=1)[:, :K]
        out.extend(set(r.tolist()) for r in top)
    return out


def arrow_table(docs: list[str], vecs: np.ndarray) -> pa.Table:
    flat = pa.array(vecs.reshape(-1), pa.float32())
    return pa.table(
        {
            "id": np.arange(len(docs)),
            "text": docs,
            "vector": pa.FixedSizeListArray.from_arrays(flat, vecs.shape[1]),
        }
    )


class Oxvec:
    name = "oxvec"

    def build(self, table: pa.Table, index: bool, calibration: np.ndarray) -> float:
        import oxvec

        self.tbl = oxvec.connect(tempfile.mkdtemp()).create_table("t", table)
        t = time.perf_counter()
        self.tbl.create_fts_index("text", progress=False, **FTS)
        if index:
            self.tbl.create_index(
                "vector",
                index_type="HNSW",
                metric="cosine",
                m=M,
                ef_construction=EF_CONSTRUCTION,
                calibration_queries=calibration,
                progress=False,
            )
        return time.perf_counter() - t

    def vector(self, v: np.ndarray, _: str) -> list[int]:
        q = self.tbl.search(v).metric("cosine").select(["id"]).limit(K)
        return q.to_arrow()["id"].to_pylist()

    def fts(self, _: np.ndarray, t: str) -> list[int]:
        q = self.tbl.search(t, query_type="fts").select(["id"]).limit(K)
        return q.to_arrow()["id"].to_pylist()

    def hybrid(self, v: np.ndarray, t: str) -> list[int]:
        q = self.tbl.search(query_type="hybrid").vector(v).text(t).metric("cosine")
        return q.select(["id"]).limit(K).to_arrow()["id"].to_pylist()


class LanceDB:
    name = "LanceDB"

    def build(self, table: pa.Table, index: bool, calibration: np.ndarray) -> float:
        import lancedb

        self.tbl = lancedb.connect(tempfile.mkdtemp()).create_table("t", table)
        self.index = index
        t = time.perf_counter()
        with warnings.catch_warnings():  # both calls are the deprecated (but working) API
            warnings.simplefilter("ignore", DeprecationWarning)
            self.tbl.create_fts_index(
                "text", use_tantivy=False, base_tokenizer="simple", lower_case=True, **FTS
            )
            if index:
                self.tbl.create_index(
                    metric="cosine",
                    vector_column_name="vector",
                    index_type="IVF_HNSW_SQ",
                    num_partitions=1,
                    m=M,
                    ef_construction=EF_CONSTRUCTION,
                )
        return time.perf_counter() - t

    def _vq(self, q: Any) -> Any:  # a LanceDB query builder
        q = q.distance_type("cosine")
        return q.ef(LANCE_EF) if self.index else q

    def vector(self, v: np.ndarray, _: str) -> list[int]:
        q = self._vq(self.tbl.search(v)).select(["id", "_distance"]).limit(K)
        return q.to_arrow()["id"].to_pylist()

    def fts(self, _: np.ndarray, t: str) -> list[int]:
        q = self.tbl.search(t, query_type="fts").select(["id"]).limit(K)
        return q.to_arrow()["id"].to_pylist()

    def hybrid(self, v: np.ndarray, t: str) -> list[int]:
        q = self._vq(self.tbl.search(query_type="hybrid").vector(v).text(t))
        return q.select(["id"]).limit(K).to_arrow()["id"].to_pylist()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument(
        "--lance-queries", type=int, default=None, help="LanceDB on the first N (default: all)"
    )
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--embedder", choices=("lsa", "minilm"), default="lsa")
    ap.add_argument(
        "--set",
        choices=("known-item", "summaries"),
        default="known-item",
        help="4 words drawn from a passage, or a docstring's summary line for its body",
    )
    ap.add_argument("--index", choices=("hnsw", "none"), default="hnsw")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    docs = text_corpus.documents(args.docs)
    make: Callable[..., list[Any]] = (
        text_corpus.queries if args.set == "known-item" else text_corpus.summary_queries
    )
    qs = make(docs, args.queries)
    labels = [d for _, d in qs]
    texts = [q for q, _ in qs]
    emb: Embedder | MiniLMEmbedder = (
        Embedder(docs, args.dims) if args.embedder == "lsa" else MiniLMEmbedder(docs)
    )
    qvecs = emb(texts)
    # Calibration for oxvec's HNSW: known-item queries drawn with another seed, unlabelled.
    calibration = emb([q for q, _ in text_corpus.queries(docs, 300, seed=8)])
    truth = exact_top(emb.docs, qvecs)
    print(
        f"{len(docs):,} passages, {len(qs)} {args.set} queries; {emb.describe()}, "
        f"ready in {emb.fit_seconds:.1f} s",
        file=sys.stderr,
    )

    table = arrow_table(docs, emb.docs)
    n_lance = min(args.lance_queries or len(qs), len(qs))
    engines = [(Oxvec(), len(qs)), (LanceDB(), n_lance)]
    builds = {e.name: e.build(table, args.index == "hnsw", calibration) for e, _ in engines}
    legs = ("vector", "fts", "hybrid")
    runs: list[tuple[str, str, Callable[[np.ndarray, str], list[int]], int]] = [
        (e.name, leg, getattr(e, leg), n) for e, n in engines for leg in legs
    ]
    ranked = {  # also warms up
        (name, leg): [fn(qvecs[i], texts[i]) for i in range(n)] for name, leg, fn, n in runs
    }
    qps: dict[tuple[str, str], list[float]] = {(name, leg): [] for name, leg, _, _ in runs}
    for _ in range(args.rounds):
        for name, leg, fn, n in runs:
            t = time.perf_counter()
            for i in range(n):
                fn(qvecs[i], texts[i])
            qps[name, leg].append(n / (time.perf_counter() - t))

    index = (
        "HNSW (oxvec HNSW, LanceDB IVF_HNSW_SQ x 1 partition)"
        if args.index == "hnsw"
        else "none (exact / flat)"
    )
    print(
        f"{len(docs):,} passages, {len(qs)} {args.set} queries (LanceDB: {n_lance}); "
        f"{emb.describe()}; vector index: {index}; "
        f"index builds: oxvec {builds['oxvec']:.1f} s, LanceDB {builds['LanceDB']:.1f} s "
        "(full-text + vector)"
    )
    print("| engine | search | MRR@10 | nDCG@10 | recall@10 | vector recall@10 vs exact | QPS |")
    print("|---|---|---|---|---|---|---|")
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for name, leg, _, n in runs:
        m = scores[name, leg] = quality(ranked[name, leg], labels[:n])
        ann = "-"
        if leg == "vector":
            ann = f"{np.mean([len(set(r) & t) / K for r, t in zip(ranked[name, leg], truth)]):.4f}"
        label = "hybrid (RRF)" if leg == "hybrid" else f"{leg} leg"
        print(
            f"| {name} | {label} | {m['MRR@10']:.4f} | {m['nDCG@10']:.4f} | "
            f"{m['recall@10']:.4f} | {ann} | {statistics.median(qps[name, leg]):,.0f} |"
        )
    hyb = scores["oxvec", "hybrid"]
    for metric in ("MRR@10", "nDCG@10"):
        best = max(scores["oxvec", "vector"][metric], scores["oxvec", "fts"][metric])
        verdict = "met" if hyb[metric] > best else "NOT met"
        print(f"oxvec hybrid {metric} {hyb[metric]:.4f} vs best leg {best:.4f}: {verdict}")
    ratio = statistics.median(qps["oxvec", "hybrid"]) / statistics.median(qps["LanceDB", "hybrid"])
    print(f"hybrid QPS oxvec / LanceDB: {ratio:.2f}x ({'met' if ratio >= 5 else 'NOT met'})")


if __name__ == "__main__":
    main()
