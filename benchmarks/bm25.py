"""BM25 full-text search: oxvec against bm25s and LanceDB, same corpus, same queries, one run.

The corpus and labelled queries come from ``text_corpus.py`` (passages of the installed
packages' docstrings and comments; known-item queries of 4 words drawn from one passage).
Every engine tokenises the same way: lower-cased runs of letters and digits, no stemming,
no stop words, no folding (oxvec and LanceDB are configured so; bm25s is handed the tokens).
BM25 with k1 = 1.2, b = 0.75 everywhere. Reports MRR@10, nDCG@10 and recall@10 against the
labels, single-query QPS (median of ``--rounds`` passes over the queries, engines
interleaved) and index build time, with ratios ours / theirs.

    python benchmarks/bm25.py [--docs 100000] [--queries 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

# LanceDB's log switch (RUST_LOG does not reach it): its per-query warnings drown the table.
os.environ.setdefault("LANCEDB_LOG", "error")

sys.path.insert(0, str(Path(__file__).parent))
import text_corpus

K = 10


def tokens(text: str) -> list[str]:
    return [t for t in text_corpus.WORD.findall(text.lower()) if len(t.encode()) <= 40]


def quality(ranked: list[list[int]], labels: Sequence[int | set[int]]) -> dict[str, float]:
    """MRR@10, nDCG@10 (binary relevance) and recall@10; a label is the one relevant document
    or the set of them."""
    mrr = ndcg = recall = 0.0
    for r, want in zip(ranked, labels):
        rel = want if isinstance(want, set) else {want}
        hits = [pos for pos, doc in enumerate(r[:K]) if doc in rel]
        ideal = min(len(rel), K)
        if hits:
            mrr += 1 / (hits[0] + 1)
        ndcg += sum(1 / math.log2(p + 2) for p in hits) / sum(
            1 / math.log2(p + 2) for p in range(ideal)
        )
        recall += len(hits) / ideal
    n = len(labels)
    return {"MRR@10": mrr / n, "nDCG@10": ndcg / n, "recall@10": recall / n}


class Oxvec:
    name = "oxvec"

    def build(self, docs: list[str]) -> float:
        import oxvec

        db = oxvec.connect(tempfile.mkdtemp())
        self.tbl = db.create_table("t", pa.table({"id": np.arange(len(docs)), "text": docs}))
        t = time.perf_counter()
        self.tbl.create_fts_index(
            "text", stem=False, remove_stop_words=False, ascii_folding=False, with_position=False
        )
        return time.perf_counter() - t

    def search(self, q: str) -> list[int]:
        res = self.tbl.search(q, query_type="fts").select(["id"]).limit(K).to_numpy()
        return res["id"].tolist()


class Bm25s:
    name = "bm25s"

    def build(self, docs: list[str]) -> float:
        import bm25s

        toks = [tokens(d) for d in docs]
        t = time.perf_counter()
        self.r = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        self.r.index(toks, show_progress=False)
        return time.perf_counter() - t

    def search(self, q: str) -> list[int]:
        vocab = self.r.vocab_dict
        qt = [t for t in tokens(q) if t in vocab]
        if not qt:
            return []
        docs, _ = self.r.retrieve([qt], k=K, show_progress=False, n_threads=1)
        return [int(x) for x in docs[0]]


class LanceDB:
    name = "LanceDB"

    def build(self, docs: list[str]) -> float:
        import lancedb

        db = lancedb.connect(tempfile.mkdtemp())
        self.tbl = db.create_table("t", pa.table({"id": np.arange(len(docs)), "text": docs}))
        t = time.perf_counter()
        self.tbl.create_fts_index(
            "text",
            use_tantivy=False,
            base_tokenizer="simple",
            stem=False,
            remove_stop_words=False,
            ascii_folding=False,
            lower_case=True,
            with_position=False,
        )
        return time.perf_counter() - t

    def search(self, q: str) -> list[int]:
        res = self.tbl.search(q, query_type="fts").select(["id"]).limit(K).to_arrow()
        return res["id"].to_pylist()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    docs = text_corpus.documents(args.docs)
    qs = text_corpus.queries(docs, args.queries)
    labels = [d for _, d in qs]
    engines = [Oxvec(), Bm25s(), LanceDB()]
    builds = {e.name: e.build(docs) for e in engines}
    ranked = {e.name: [e.search(q) for q, _ in qs] for e in engines}  # also warms up
    qps: dict[str, list[float]] = {e.name: [] for e in engines}
    for _ in range(args.rounds):
        for e in engines:
            t = time.perf_counter()
            for q, _ in qs:
                e.search(q)
            qps[e.name].append(len(qs) / (time.perf_counter() - t))
    # Agreement with the reference: the same top-10 ids (order within ties aside).
    same = np.mean([set(a) == set(b) for a, b in zip(ranked["oxvec"], ranked["bm25s"])])
    print(
        f"{len(docs):,} passages, {len(qs)} queries; oxvec top-10 equals bm25s's on "
        f"{same:.1%} of queries"
    )
    print("| engine | MRR@10 | nDCG@10 | recall@10 | QPS (1 thread) | build (s) |")
    print("|---|---|---|---|---|---|")
    for e in engines:
        m = quality(ranked[e.name], labels)
        print(
            f"| {e.name} | {m['MRR@10']:.4f} | {m['nDCG@10']:.4f} | {m['recall@10']:.4f} | "
            f"{statistics.median(qps[e.name]):,.0f} | {builds[e.name]:.2f} |"
        )
    ours = quality(ranked["oxvec"], labels)
    for other in ("bm25s", "LanceDB"):
        m = quality(ranked[other], labels)
        print(
            f"oxvec / {other}: MRR {ours['MRR@10'] / m['MRR@10']:.3f}, "
            f"nDCG {ours['nDCG@10'] / m['nDCG@10']:.3f}, "
            f"QPS {statistics.median(qps['oxvec']) / statistics.median(qps[other]):.2f}x, "
            f"build time {builds['oxvec'] / builds[other]:.2f}x"
        )


if __name__ == "__main__":
    main()
