"""add_columns / alter_columns / drop_columns as LanceDB users call them."""

from __future__ import annotations

import numpy as np
import oxvec
import pyarrow as pa
import pytest


@pytest.fixture
def tbl(db):
    vecs = np.random.default_rng(0).random((500, 8), dtype="float32")
    t = db.create_table("t", [{"id": i, "text": f"t{i}", "vector": v} for i, v in enumerate(vecs)])
    t.add([{"id": 500, "text": "last", "vector": np.ones(8, dtype="float32")}])
    return t


def test_add_rename_drop_and_search_on(tbl) -> None:
    tbl.create_index(metric="l2", m=8)
    tbl.create_scalar_index("id")
    want = tbl.search(np.ones(8)).limit(5).to_arrow()["id"].to_pylist()
    assert tbl.add_columns([pa.field("note", pa.string()), pa.field("n", pa.int32())]).version == 5
    assert tbl.alter_columns(
        {"path": "vector", "rename": "emb"}, {"path": "id", "rename": "key", "nullable": True}
    ) == oxvec.AlterColumnsResult(version=6)
    assert tbl.drop_columns("text").version == 7
    assert tbl.schema.names == ["key", "emb", "note", "n"]
    assert tbl.schema.field("key").nullable
    got = tbl.search(np.ones(8)).limit(5).to_arrow()
    assert got["key"].to_pylist() == want
    assert "emb_idx" not in tbl.search(np.ones(8)).explain()  # the index keeps its name
    assert "vector_idx" in tbl.search(np.ones(8)).explain()
    assert tbl.count_rows("key = 7") == 1
    assert tbl.count_rows("note IS NULL") == 501
    tbl.add([{"key": 900, "emb": np.zeros(8), "note": "new", "n": 3}])
    assert tbl.search().where("note = 'new'").to_list()[0]["n"] == 3
    assert [i["columns"] for i in tbl.stats()["indices"]] == [["emb"], ["key"]]
    tbl.checkout(4)
    assert tbl.schema.names == ["id", "text", "vector"]
    assert len(tbl.to_arrow()) == 501


def test_changes_survive_compaction_and_reopen(tbl, db) -> None:
    tbl.alter_columns({"path": "text", "rename": "body"})
    tbl.add_columns(pa.schema([pa.field("text", pa.string())]))
    tbl.add([{"id": 1000, "body": "b", "text": "again", "vector": np.zeros(8)}])
    before = tbl.to_arrow()
    assert before["text"].to_pylist()[:2] == [None, None]
    assert before["body"].to_pylist()[0] == "t0"
    tbl.compact_files()
    assert tbl.to_arrow() == before
    assert oxvec.connect(db.uri)["t"].to_arrow() == before


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda t: t.add_columns({"x": 3}), "string keys and values"),
        (lambda t: t.add_columns({"id": "id + 1"}), "already has a column 'id'"),
        (lambda t: t.add_columns(lambda b: 5), "returns a pyarrow Table"),
        (lambda t: t.add_columns(lambda b: {"id": b["id"]}), "already has a column 'id'"),
        (lambda t: t.add_columns(pa.field("v", pa.list_(pa.float32(), 8))), "never null"),
        (lambda t: t.add_columns(pa.field("id", pa.int64())), "already has a column 'id'"),
        (lambda t: t.add_columns(pa.field("x", pa.int64(), nullable=False)), "must be nullable"),
        (lambda t: t.add_columns("x"), "pyarrow field"),
        (lambda t: t.add_columns([]), "at least one"),
        (lambda t: t.alter_columns({"path": "id", "rename": "text"}), "already has a column"),
        (lambda t: t.alter_columns({"path": "nope", "rename": "x"}), "no column named 'nope'"),
        (lambda t: t.alter_columns({"path": "vector", "data_type": pa.int64()}), "cannot be cast"),
        (lambda t: t.alter_columns({"path": "id", "data_type": pa.int8(), "rename": "x"}), "own"),
        (lambda t: t.alter_columns({"path": "text", "data_type": pa.int64()}), "cannot be cast"),
        (lambda t: t.alter_columns({"path": "id", "nullable": False}), "not supported"),
        (lambda t: t.alter_columns({"path": "id", "rename": 3}), "must be a string"),
        (lambda t: t.alter_columns({"path": "id", "colour": "red"}), "unknown alteration"),
        (lambda t: t.alter_columns({"path": "id"}), "nothing to change"),
        (lambda t: t.alter_columns(), "at least one"),
        (lambda t: t.alter_columns({"path": "a.b", "rename": "c"}), "nested"),
        (lambda t: t.drop_columns(["id", "text", "vector"]), "at least one column"),
        (lambda t: t.drop_columns([]), "non-empty"),
        (lambda t: t.drop_columns(["id", 3]), "column name"),
    ],
)
def test_bad_changes_change_nothing(tbl, call, match) -> None:
    with pytest.raises(oxvec.InvalidInputError, match=match):
        call(tbl)
    assert tbl.version == 2 and tbl.schema.names == ["id", "text", "vector"]


def test_data_type_equal_to_the_columns_is_accepted(tbl) -> None:
    tbl.alter_columns({"path": "id", "data_type": pa.int64(), "rename": "key"})
    assert tbl.schema.names[0] == "key"


def test_columns_an_embedding_function_uses_keep_their_names(db) -> None:
    from oxvec.embeddings import EmbeddingFunction, get_registry

    @get_registry().register("schema-evolution-test")
    class Fixed(EmbeddingFunction):
        def ndims(self) -> int:
            return 2

        def compute_source_embeddings(self, texts):
            return [[float(len(t)), 1.0] for t in texts]

    func = get_registry().get("schema-evolution-test").create()
    t = db.create_table("e", [{"text": "abc"}], embedding_functions=[func.config("text", "vector")])
    for call in (
        lambda: t.alter_columns({"path": "text", "rename": "body"}),
        lambda: t.drop_columns("vector"),
    ):
        with pytest.raises(oxvec.InvalidInputError, match="embedding function"):
            call()
    t.add_columns(pa.field("note", pa.string()))
    assert t.schema.names == ["text", "vector", "note"]


def test_review_findings_are_refused_with_reasons(db) -> None:
    t = db.create_table(
        "r", [{"id": i, "txt": "apple" if i % 2 else "pie", "a": i} for i in range(10)]
    )
    t.create_fts_index("txt")
    with pytest.raises(oxvec.InvalidInputError, match="full-text index 'txt_idx'"):
        t.alter_columns({"path": "txt", "rename": "body"})
    assert t.search("apple").limit(None).to_arrow().num_rows == 5
    for bad in ["a\x00b", "_score", "_relevance_score"]:
        with pytest.raises((oxvec.InvalidInputError, oxvec.SchemaError)):
            t.alter_columns({"path": "a", "rename": bad})
        with pytest.raises((oxvec.InvalidInputError, oxvec.SchemaError)):
            t.add_columns(pa.field(bad, pa.int64()))
        with pytest.raises((oxvec.InvalidInputError, oxvec.SchemaError)):
            db.create_table("x", [{bad: 1}])
    # A renamed column's index keeps its name; another index may not take it silently.
    t.create_scalar_index("a")
    t.alter_columns({"path": "a", "rename": "b"})
    t.add_columns(pa.field("a", pa.int64()))
    with pytest.raises(oxvec.InvalidInputError, match="taken by a BTREE index on column 'b'"):
        t.create_scalar_index("a")
    assert t.create_scalar_index("a", name="a_idx2") == "a_idx2"
    assert t.version == 6


def test_columns_computed_by_sql_and_by_a_function(tbl) -> None:
    import pyarrow.compute as pc

    tbl.delete("id = 3")
    before = tbl.search().with_row_id().select(["id"]).to_arrow()
    res = tbl.add_columns({"double": "id * 2", "shout": "upper(text) || '!'"})
    assert res.version == 4
    rows = tbl.search().where("id < 3").select(["id", "double", "shout"]).to_list()
    assert rows[2] == {"id": 2, "double": 4, "shout": "T2!"}
    assert tbl.search().with_row_id().select(["id"]).to_arrow() == before, "rows stay in place"
    res = tbl.add_columns(lambda b: {"chars": pc.utf8_length(b["text"])})
    assert res.version == 5
    assert tbl.search().where("id = 12").select(["chars"]).to_list() == [{"chars": 3}]
    assert tbl.schema.field("chars").nullable
    tbl.checkout(3)
    assert "double" not in tbl.schema.names, "older versions keep their schema"


def test_a_vector_column_cast_to_float16_is_searchable(tbl) -> None:
    tbl.create_index(index_type="IVF_PQ", num_partitions=2, num_sub_vectors=2, progress=False)
    q = tbl.to_arrow()["vector"][7].as_py()
    res = tbl.alter_columns({"path": "vector", "data_type": pa.list_(pa.float16(), 8)})
    assert res.version == tbl.version
    assert tbl.schema.field("vector").type == pa.list_(pa.float16(), 8)
    assert tbl.list_indices() == [], "the index over the float32 values is dropped"
    assert tbl.search(q).limit(1).to_list()[0]["id"] == 7
    tbl.alter_columns({"path": "id", "data_type": pa.int32()})
    assert tbl.schema.field("id").type == pa.int32()
