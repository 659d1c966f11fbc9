"""Full-text search through the Python API: building, querying, freshness, and refusals."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import oxvec
import pyarrow as pa
import pytest
from oxvec.fts import BooleanQuery, MatchQuery, MultiMatchQuery, Occur, PhraseQuery

DOCS = [
    {"id": 0, "title": "Vector search in Rust", "body": "fast approximate nearest neighbours"},
    {
        "id": 1,
        "title": "Full-text search with BM25",
        "body": "ranking documents by term statistics",
    },
    {"id": 2, "title": "Cooking pasta", "body": None},
    {"id": 3, "title": "Rust for data engineers", "body": "search engines and vector databases"},
    {"id": 4, "title": "The quick brown fox", "body": "jumps over the lazy dog"},
    {"id": 5, "title": "Searching vectors quickly", "body": "nearest neighbour search"},
]


def ids(q: oxvec.Query) -> list[int]:
    return [r["id"] for r in q.select(["id"]).to_list()]


@pytest.fixture
def tbl(db: oxvec.Database) -> oxvec.Table:
    t = db.create_table("docs", DOCS)
    assert t.create_fts_index(["title", "body"]) == "title_body_idx"
    return t


def test_string_queries_rank_by_bm25(tbl: oxvec.Table) -> None:
    res = tbl.search("search").to_arrow()
    assert res.column_names == ["id", "title", "body", "_score"]
    scores = res["_score"].to_pylist()
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    # Stemming: "searching" and "search" meet; both columns count.
    assert set(res["id"].to_pylist()) == {0, 1, 3, 5}
    assert ids(tbl.search("search", fts_columns="title")) in ([5, 0, 1], [0, 1, 5], [0, 5, 1])
    assert set(ids(tbl.search("rust vector", fts_columns=["title"]))) == {0, 3, 5}
    assert ids(tbl.search(MatchQuery("rust vector", "title", operator="AND"))) == [0]
    assert ids(tbl.search("nothing-here-at-all")) == []
    # where / select / limit / offset compose with a text query.
    assert ids(tbl.search("search").where("id > 2")) == [
        i for i in ids(tbl.search("search")) if i > 2
    ]
    full = ids(tbl.search("search"))
    assert ids(tbl.search("search").limit(2)) == full[:2]
    assert ids(tbl.search("search").offset(1).limit(2)) == full[1:3]
    assert ids(tbl.search("search").offset(10)) == []
    row = tbl.search("search").with_row_id().limit(1).to_list()[0]
    assert isinstance(row["_rowid"], int)


def test_structured_queries(tbl: oxvec.Table) -> None:
    assert ids(tbl.search(MatchQuery("serch", "title"))) == []
    assert set(ids(tbl.search(MatchQuery("serch", "title", fuzziness=1)))) == {0, 1, 5}
    assert ids(tbl.search(PhraseQuery("nearest neighbour", "body"))) == [5, 0]
    assert ids(tbl.search(PhraseQuery("neighbour nearest", "body"))) == []
    assert ids(tbl.search(PhraseQuery("neighbour nearest", "body", slop=2))) != []
    q = BooleanQuery(
        [(Occur.MUST, MatchQuery("search")), (Occur.MUST_NOT, MatchQuery("bm25", "title"))]
    )
    assert set(ids(tbl.search(q))) == {0, 3, 5}
    assert q == BooleanQuery(must=[MatchQuery("search")], must_not=[MatchQuery("bm25", "title")])
    # Boosting the title makes a title match outrank a body match.
    title_first = tbl.search(MultiMatchQuery("vector", ["title", "body"], boosts=[10, 1]))
    body_first = tbl.search(MultiMatchQuery("vector", ["title", "body"], boosts=[1, 10]))
    assert ids(title_first)[0] == 0 and ids(body_first)[0] == 3
    assert "MatchQuery(query='x'" in repr(MatchQuery("x"))


def test_rows_added_later_deleted_rows_and_optimize(tbl: oxvec.Table) -> None:
    tbl.add([{"id": 10, "title": "Quantum pasta search", "body": "pasta everywhere"}])
    assert ids(tbl.search("quantum")) == [10]
    assert set(ids(tbl.search("pasta"))) == {2, 10}
    assert "unindexed rows: 1" in tbl.search("pasta").explain()
    tbl.delete("id = 2")
    assert ids(tbl.search("pasta")) == [10]
    before = tbl.search("search").to_arrow()
    stats = tbl.optimize()
    assert stats["rows_indexed"] == 1
    assert tbl.index_stats("title_body_idx")["num_unindexed_rows"] == 0
    after = tbl.search("search").to_arrow()
    assert set(after["id"].to_pylist()) == set(before["id"].to_pylist())
    assert ids(tbl.search("pasta")) == [10]
    # The deleted row left the statistics: scores are those of a rebuild over the live rows.
    assert tbl.index_stats("title_body_idx")["num_nodes"] == tbl.count_rows()
    tbl.create_fts_index(["title", "body"], replace=True)
    rebuilt = tbl.search("search").to_arrow()
    assert after["id"].to_pylist() == rebuilt["id"].to_pylist()
    assert after["_score"].to_pylist() == pytest.approx(rebuilt["_score"].to_pylist(), rel=1e-5)
    # Time travel: the old version searches its own rows with its own index.
    tbl.checkout(1)
    with pytest.raises(oxvec.InvalidInputError, match="no full-text index"):
        tbl.search("pasta").to_list()
    tbl.checkout(2)
    assert ids(tbl.search("pasta")) == [2]
    tbl.checkout_latest()


def test_explain_and_index_listing(tbl: oxvec.Table) -> None:
    text = tbl.search("rust", fts_columns="title").where("id < 4").limit(3).explain()
    assert "full-text search on version 2: index 'title_body_idx' (FTS)" in text
    assert "match \"rust\" in 'title' (any word)" in text
    assert "filter: id < 4 (4 of 6 live rows match" in text
    assert text.endswith("output: id, title, body, _score")
    (meta,) = tbl.list_indices()
    assert meta == {
        "name": "title_body_idx",
        "index_type": "FTS",
        "column": "title",
        "metric": "bm25",
    }
    st = tbl.index_stats("title_body_idx")
    assert st["columns"] == ["title", "body"] and st["num_indexed_rows"] == 6
    assert st["params"]["analyzer"]["language"] == "english"
    assert tbl.verify(deep=True).ok


def test_bm25_knobs(tbl: oxvec.Table) -> None:
    a = tbl.search("search").bm25(k1=1.2, b=0.0).to_arrow()["_score"].to_pylist()
    b = tbl.search("search").bm25(k1=1.2, b=1.0).to_arrow()["_score"].to_pylist()
    assert a != b
    for bad in [dict(k1=-1), dict(b=1.5), dict(k1=math.nan), dict(b="x")]:
        with pytest.raises(oxvec.InvalidInputError):
            tbl.search("search").bm25(**bad)


def test_languages_tokenizers_and_replacing(db: oxvec.Database) -> None:
    t = db.create_table("fr", [{"t": "Les chats mangent"}, {"t": "Un chat mange"}, {"t": "Café"}])
    t.create_fts_index("t", language="french")
    assert len(t.search("chat").to_list()) == 2
    assert len(t.search("cafe").to_list()) == 1
    t.create_fts_index("t", base_tokenizer="ngram", ngram_min_length=3, ngram_max_length=3)
    assert len(t.search("hat").to_list()) == 2
    with pytest.raises(oxvec.InvalidInputError, match="exists"):
        t.create_fts_index("t", replace=False)
    t.create_fts_index("t", with_position=False)
    with pytest.raises(oxvec.InvalidInputError, match="positions"):
        t.search(PhraseQuery("chat mange", "t")).to_list()
    assert t.version == 4


def test_refusals_name_what_is_wrong(db: oxvec.Database, tbl: oxvec.Table) -> None:
    version = tbl.version
    with pytest.raises(oxvec.InvalidInputError, match="string column"):
        tbl.create_fts_index("id")
    with pytest.raises(oxvec.InvalidInputError, match="no column named 'nope'"):
        tbl.create_fts_index("nope")
    with pytest.raises(oxvec.InvalidInputError, match="already in full-text index"):
        tbl.create_fts_index("body", name="b_idx")
    with pytest.raises(oxvec.InvalidInputError, match="language"):
        tbl.create_fts_index(["title", "body"], language="klingon")
    with pytest.raises(oxvec.InvalidInputError, match="tokenizer"):
        tbl.create_fts_index(["title", "body"], base_tokenizer="bpe")
    with pytest.raises(oxvec.InvalidInputError):
        tbl.create_fts_index(["title", "title"])
    assert tbl.version == version, "refused builds commit nothing"
    with pytest.raises(oxvec.InvalidInputError, match="query_type"):
        tbl.search("x", query_type="semantic")
    with pytest.raises(oxvec.InvalidInputError, match="embedding function"):
        tbl.search("x", query_type="vector")
    with pytest.raises(oxvec.InvalidInputError, match="vector search"):
        tbl.search("x").ef(10).to_list()
    with pytest.raises(oxvec.InvalidInputError, match="covers"):
        tbl.search(MatchQuery("x", "id")).to_list()
    with pytest.raises(oxvec.InvalidInputError, match="string"):
        tbl.search(123, query_type="fts")
    with pytest.raises(oxvec.InvalidInputError):
        MatchQuery("x", fuzziness=3)
    with pytest.raises(oxvec.InvalidInputError):
        MatchQuery("x", boost=math.inf)
    with pytest.raises(oxvec.InvalidInputError, match="from 0 to"):
        MatchQuery("x", boost=1e300)
    with pytest.raises(oxvec.InvalidInputError, match="surrogate"):
        tbl.search("caf\udce9", query_type="fts")
    with pytest.raises(oxvec.InvalidInputError, match="limit must be between"):
        tbl.search("x").limit(2**64).to_list()
    with pytest.raises(oxvec.InvalidInputError):
        MatchQuery(None)  # type: ignore[arg-type]
    with pytest.raises(oxvec.InvalidInputError, match="MUST or SHOULD"):
        BooleanQuery(must_not=[MatchQuery("x")])
    with pytest.raises(oxvec.InvalidInputError):
        MultiMatchQuery("x", ["a", "b"], boosts=[1.0])
    with pytest.raises(oxvec.InvalidInputError, match="offset"):
        tbl.search("x").offset(-1)
    with pytest.raises(oxvec.InvalidInputError):
        tbl.search("x").limit(0)
    empty = db.create_table("plain", [{"id": 1, "s": "abc"}])
    with pytest.raises(oxvec.InvalidInputError, match="create_fts_index"):
        empty.search("abc").to_list()
    # Many indexes: a plain string must say which.
    two = db.create_table("two", [{"a": "red blue", "b": "blue green"}])
    two.create_fts_index("a")
    two.create_fts_index("b")
    with pytest.raises(oxvec.InvalidInputError, match="several full-text indexes"):
        two.search("blue").to_list()
    assert len(two.search("blue", fts_columns="b").to_list()) == 1
    assert two.search("red", fts_columns="b").to_list() == []


def test_long_queries_rank_as_a_boolean_of_their_words(tbl: oxvec.Table) -> None:
    words = [f"w{i}" for i in range(300)] + ["vector", "search", "rust"]
    long = " ".join(words)
    got = tbl.search(long, fts_columns="body").limit(10).to_arrow()
    should = BooleanQuery(should=[MatchQuery(w, "body") for w in words])
    want = tbl.search(should).limit(10).to_arrow()
    assert got["_score"].to_pylist() == pytest.approx(want["_score"].to_pylist(), rel=1e-5)
    assert got.num_rows > 0


def test_empty_and_null_text(db: oxvec.Database) -> None:
    schema = pa.schema([("id", pa.int64()), ("s", pa.string())])
    t = db.create_table("e", schema=schema)
    t.create_fts_index("s")
    assert t.search("anything").to_list() == []
    t.add(
        [{"id": 1, "s": None}, {"id": 2, "s": ""}, {"id": 3, "s": "a b c"}, {"id": 4, "s": "zzz"}]
    )
    assert ids(t.search("zzz")) == [4]
    t.optimize()
    assert ids(t.search("zzz")) == [4]
    assert ids(t.search("")) == []


def test_damaged_index_is_searched_around_with_a_warning(tmp_path: Path) -> None:
    db = oxvec.connect(tmp_path)
    t = db.create_table("d", DOCS)
    t.create_fts_index("title")
    want = ids(t.search("search"))
    (f,) = (tmp_path / "d.oxvec" / "indices").iterdir()
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    fresh = oxvec.connect(tmp_path).open_table("d")
    with pytest.warns(UserWarning, match="cannot be read"):
        got = ids(fresh.search("search"))
    assert got == want
    assert not fresh.verify(deep=True).ok


def test_two_processes_see_each_others_index(tmp_path: Path) -> None:
    db = oxvec.connect(tmp_path)
    t = db.create_table("p", DOCS)
    code = (
        "import oxvec, sys; t = oxvec.connect(sys.argv[1]).open_table('p'); "
        "t.create_fts_index('body'); t.add([{'id': 99, 'title': 't', 'body': 'zebra'}])"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    assert ids(t.search("zebra")) == [99]
    assert ids(t.search("nearest")) in ([5, 0], [0, 5])


def test_chinese_and_japanese_text_is_segmented(db: oxvec.Database) -> None:
    zh = db.create_table(
        "zh",
        [
            {"id": 1, "text": "南京市长江大桥欢迎你"},
            {"id": 2, "text": "向量数据库支持全文检索和GPU加速"},
            {"id": 3, "text": "今天天气很好"},
        ],
    )
    zh.create_fts_index("text", language="chinese")
    assert ids(zh.search("长江")) == [1]
    assert ids(zh.search("全文检索")) == [2]
    assert ids(zh.search("gpu")) == [2]
    assert ids(zh.search(PhraseQuery("数据库支持", "text"))) == [2]
    ja = db.create_table(
        "ja", [{"id": 1, "text": "東京都のベクトル検索"}, {"id": 2, "text": "京都の寺"}]
    )
    ja.create_fts_index("text", language="ja")
    assert ids(ja.search("ベクトル")) == [1]
    assert ids(ja.search(PhraseQuery("東京都", "text"))) == [1]
    assert set(ids(ja.search("京都"))) == {1, 2}  # bigrams also match across words
