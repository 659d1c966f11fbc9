"""Hybrid search and rerankers."""

from __future__ import annotations

import itertools
import random

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from oxvec.fts import MatchQuery
from oxvec.rerankers import (
    CrossEncoderReranker,
    DBSFReranker,
    LinearCombinationReranker,
    Reranker,
    RRFReranker,
)

FUSIONS = [
    RRFReranker(),
    RRFReranker(k=0),
    LinearCombinationReranker(),
    LinearCombinationReranker(weight=0.2, normalize="rank"),
    LinearCombinationReranker(weight=1.0),
    DBSFReranker(),
]


def legs(rng: random.Random) -> tuple[pa.Table, pa.Table]:
    pool = list(range(1, 30))
    v_ids = rng.sample(pool, rng.randint(0, 15))
    f_ids = rng.sample(pool, rng.randint(0, 15))
    dists = sorted(rng.choice([rng.random(), 0.5]) for _ in v_ids)
    scores = sorted((rng.choice([rng.random() * 10, 5.0]) for _ in f_ids), reverse=True)
    v = pa.table(
        {
            "id": pa.array(v_ids, pa.int64()),
            "_rowid": pa.array(v_ids, pa.uint64()),
            "_distance": pa.array(dists, pa.float32()),
        }
    )
    f = pa.table(
        {
            "id": pa.array(f_ids, pa.int64()),
            "_rowid": pa.array(f_ids, pa.uint64()),
            "_score": pa.array(scores, pa.float32()),
        }
    )
    return v, f


@pytest.mark.parametrize("reranker", FUSIONS, ids=repr)
def test_a_row_better_in_both_legs_never_ranks_below_a_worse_one(reranker: Reranker) -> None:
    rng = random.Random(7)
    for _ in range(300):
        v, f = legs(rng)
        out = reranker.rerank_hybrid("q", v, f)
        pos = {r: i for i, r in enumerate(out["_rowid"].to_pylist())}
        assert sorted(pos) == sorted(set(v["_rowid"].to_pylist()) | set(f["_rowid"].to_pylist()))
        rel = out["_relevance_score"].to_pylist()
        assert rel == sorted(rel, reverse=True)
        # A leg's value per row (missing: worse than any found row).
        vd = dict(zip(v["_rowid"].to_pylist(), v["_distance"].to_pylist()))
        fs = dict(zip(f["_rowid"].to_pylist(), f["_score"].to_pylist()))
        for a, b in itertools.permutations(pos, 2):
            v_better = a in vd and (b not in vd or vd[a] < vd[b])
            f_better = a in fs and (b not in fs or fs[a] > fs[b])
            if v_better and f_better:
                assert pos[a] < pos[b], (reranker, a, b, out.to_pylist())
        # The legs' values ride along.
        for r in out.to_pylist():
            assert r["_distance"] == vd.get(r["_rowid"])
            assert r["_score"] == fs.get(r["_rowid"])


def test_fusion_formulas() -> None:
    v = pa.table(
        {"_rowid": pa.array([1, 2], pa.uint64()), "_distance": pa.array([0.0, 1.0], pa.float32())}
    )
    f = pa.table(
        {"_rowid": pa.array([2, 3], pa.uint64()), "_score": pa.array([4.0, 2.0], pa.float32())}
    )
    rrf = RRFReranker(k=60).rerank_hybrid("q", v, f)
    got = dict(zip(rrf["_rowid"].to_pylist(), rrf["_relevance_score"].to_pylist()))
    assert got == pytest.approx({1: 1 / 61, 2: 1 / 62 + 1 / 61, 3: 1 / 62})
    lin = LinearCombinationReranker(weight=0.7).rerank_hybrid("q", v, f)
    got = dict(zip(lin["_rowid"].to_pylist(), lin["_relevance_score"].to_pylist()))
    assert got == pytest.approx({1: 0.7, 2: 0.3, 3: 0.0})
    rank = LinearCombinationReranker(weight=0.5, normalize="rank").rerank_hybrid("q", v, f)
    got = dict(zip(rank["_rowid"].to_pylist(), rank["_relevance_score"].to_pylist()))
    assert got == pytest.approx({1: 0.5, 2: 0.25 + 0.5, 3: 0.25})
    assert RRFReranker(return_score="relevance").rerank_hybrid("q", v, f).column_names == [
        "_rowid",
        "_relevance_score",
    ]
    for bad in [
        lambda: RRFReranker(k=-1),
        lambda: LinearCombinationReranker(weight=2),
        lambda: LinearCombinationReranker(normalize="z"),
        lambda: Reranker(return_score="x"),
    ]:
        with pytest.raises(oxvec.InvalidInputError):
            bad()


def test_a_user_defined_reranker(db: oxvec.Database) -> None:
    class ShortestText(Reranker):
        def score(self, query: str, merged: pa.Table) -> np.ndarray:
            return -np.array([len(t) for t in merged["text"].to_pylist()], dtype=float)

    tbl = db.create_table(
        "t",
        [
            {"id": 1, "text": "vector search is fast", "vector": [1.0, 0.0]},
            {"id": 2, "text": "vector", "vector": [0.0, 1.0]},
        ],
    )
    tbl.create_fts_index("text")
    q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector").rerank(ShortestText())
    assert [r["id"] for r in q.to_list()] == [2, 1]


@pytest.fixture
def docs(db: oxvec.Database) -> oxvec.Table:
    rng = np.random.default_rng(3)
    words = ["rust", "python", "vector", "index", "graph", "pasta", "salad", "bread"]
    rows = [
        {
            "id": i,
            "kind": "even" if i % 2 == 0 else "odd",
            "text": " ".join(rng.choice(words, size=4)),
            "vector": rng.standard_normal(8).astype(np.float32),
        }
        for i in range(300)
    ]
    t = db.create_table("docs", rows)
    t.create_fts_index("text")
    return t


def test_hybrid_query_composes(docs: oxvec.Table) -> None:
    v = np.ones(8, dtype=np.float32)
    q = docs.search(query_type="hybrid").vector(v).text("pasta salad")
    full = q.limit(20).to_arrow()
    assert full.num_rows == 20
    rel = full["_relevance_score"].to_pylist()
    assert rel == sorted(rel, reverse=True)
    assert "_rowid" not in full.column_names
    # Pages of the same depth (limit + offset) page through the same fused list.
    page = docs.search(query_type="hybrid").vector(v).text("pasta salad").offset(5).limit(15)
    assert page.to_arrow()["id"].to_pylist() == full["id"].to_pylist()[5:20]
    # The filter applies to both legs.
    odd = docs.search(query_type="hybrid").vector(v).text("pasta").where("kind = 'odd'").limit(50)
    assert {r["id"] % 2 for r in odd.to_list()} == {1}
    sel = docs.search(query_type="hybrid").vector(v).text(MatchQuery("rust", "text"))
    cols = sel.select(["id"]).with_row_id().to_arrow().column_names
    assert cols == ["id", "_rowid", "_distance", "_score", "_relevance_score"]
    # Both legs' best rows are in the fused list.
    vec_best = docs.search(v).limit(1).to_list()[0]["id"]
    txt_best = docs.search("pasta salad").limit(1).to_list()[0]["id"]
    ids = set(
        docs.search(query_type="hybrid").vector(v).text("pasta salad").to_arrow()["id"].to_pylist()
    )
    assert {vec_best, txt_best} <= ids
    text = docs.search(query_type="hybrid").vector(v).text("pasta").explain()
    assert "vector leg:" in text and "full-text leg:" in text and "RRFReranker" in text


def test_hybrid_refusals(docs: oxvec.Table) -> None:
    with pytest.raises(oxvec.InvalidInputError, match="text\\(\\)"):
        docs.search(query_type="hybrid").vector(np.ones(8)).to_list()
    with pytest.raises(oxvec.InvalidInputError, match="vector\\(\\)"):
        docs.search(query_type="hybrid").text("x").to_list()
    with pytest.raises(oxvec.InvalidInputError, match="embedding function"):
        docs.search("pasta", query_type="hybrid")
    with pytest.raises(oxvec.InvalidInputError, match="one query vector"):
        docs.search(query_type="hybrid").vector(np.ones((2, 8))).text("x").to_list()
    with pytest.raises(oxvec.InvalidInputError, match="dimension"):
        docs.search(query_type="hybrid").vector(np.ones(3)).text("x").to_list()
    with pytest.raises(oxvec.InvalidInputError, match="Reranker"):
        docs.search(query_type="hybrid").rerank("rrf")  # type: ignore[arg-type]
    # Limits name the user's numbers, not the legs' internal depth.
    q = docs.search(query_type="hybrid").vector(np.ones(8)).text("pasta")
    with pytest.raises(oxvec.InvalidInputError, match="limit 10 \\+ offset 2000000"):
        q.offset(2_000_000).to_list()
    assert q.offset(0).limit(1 << 19).to_arrow().num_rows == 300
    with pytest.raises(oxvec.InvalidInputError, match="got limit 18446744073709551616"):
        q.limit(2**64)


def test_cross_encoder_reranker_runs_offline_when_a_model_is_installed(docs: oxvec.Table) -> None:
    pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed")
    try:
        r = CrossEncoderReranker(column="text")
        r._model()
    except Exception as e:  # no model in the local cache: say so
        pytest.skip(f"no cross-encoder model installed locally ({type(e).__name__})")
    out = docs.search(query_type="hybrid").vector(np.ones(8)).text("pasta").rerank(r).to_arrow()
    assert out.num_rows > 0


def test_tied_scores_keep_the_legs_own_order() -> None:
    # The text leg returned rows 3 and 9 with equal scores, 3 first (ties by row id); the
    # vector leg also found 9. Row 9's text rank stays 2, as the leg ranked it.
    vec = pa.table({"_rowid": pa.array([5, 9], pa.uint64()), "_distance": [0.1, 0.2]})
    fts = pa.table({"_rowid": pa.array([3, 9], pa.uint64()), "_score": [2.0, 2.0]})
    out = RRFReranker(k=0).rerank_hybrid("q", vec, fts).to_pylist()
    rel = {r["_rowid"]: r["_relevance_score"] for r in out}
    assert rel[3] == pytest.approx(1.0)
    assert rel[9] == pytest.approx(1 / 2 + 1 / 2)
    assert rel[5] == pytest.approx(1.0)


def test_hybrid_takes_what_a_query_takes(tmp_path):
    """limit(None), to_batches, output_schema and timeout, as on a vector query."""
    db = oxvec.connect(tmp_path)
    tbl = db.create_table(
        "t", [{"id": i, "text": f"rust vector {i}", "vector": [1.0, float(i)]} for i in range(30)]
    )
    tbl.create_fts_index("text")
    q = tbl.search(query_type="hybrid").vector([1.0, 0.0]).text("vector")
    assert q.output_schema() == q.to_arrow().schema
    assert q.with_row_id().output_schema() == q.to_arrow().schema
    every = q.limit(None)
    assert every.to_arrow().num_rows == 30
    assert [b.num_rows for b in every.to_batches(7)] == [7, 7, 7, 7, 2]
    assert q.limit(3).to_list(timeout=30)[0]["id"] == 0
    sel = q.select({"twice": "id * 2"})  # builders change the query they are called on
    assert sel.output_schema() == sel.to_arrow().schema
    with pytest.raises(oxvec.InvalidInputError, match="limit"):
        q.limit(-1)
