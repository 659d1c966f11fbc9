"""LanceDB's spellings, accepted beside oxvec's own: code moved over changes its import only."""

from __future__ import annotations

import datetime

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from oxvec.pydantic import Model, Vector


@pytest.fixture
def tbl(db):
    vecs = np.random.default_rng(0).random((400, 8), dtype="float32")
    return db.create_table("t", [{"id": i, "emb": v, "other": v[::-1]} for i, v in enumerate(vecs)])


def test_vector_column_name_on_search_and_create_index(tbl) -> None:
    q = np.ones(8, dtype="float32")
    ours = tbl.search(q, vector_column="other").limit(3).to_arrow()["id"]
    theirs = tbl.search(q, vector_column_name="other").limit(3).to_arrow()["id"]
    assert ours == theirs
    with pytest.raises(oxvec.InvalidInputError, match="pass one"):
        tbl.search(q, vector_column="emb", vector_column_name="other")
    assert tbl.create_index(vector_column_name="other", m=8) == "other_idx"
    assert [i["column"] for i in tbl.list_indices()] == ["other"]


def test_an_index_takes_a_name(tbl) -> None:
    assert tbl.create_index("emb", name="my-ann", m=8) == "my-ann"
    assert "my-ann" in tbl.search(np.ones(8), vector_column="emb").explain()
    # Rebuilt under its name; another name for the same column's index is refused.
    assert tbl.create_index("emb", name="my-ann", m=8) == "my-ann"
    with pytest.raises(oxvec.InvalidInputError, match="already has vector index 'my-ann'"):
        tbl.create_index("emb", m=8)
    tbl.create_scalar_index("id", name="by-id")
    with pytest.raises(oxvec.InvalidInputError, match="taken by a BTREE index"):
        tbl.create_index("other", name="by-id", m=8)
    with pytest.raises(oxvec.InvalidInputError, match="taken by the vector index on column"):
        tbl.create_index("other", name="my-ann", m=8)
    for bad in ["", "a/b", "../x", "x" * 200]:
        with pytest.raises(oxvec.InvalidInputError, match="invalid index name"):
            tbl.create_index("other", name=bad, m=8)
    with pytest.raises(oxvec.InvalidInputError, match="invalid index name"):
        tbl.create_scalar_index("id", name="a b")
    assert sorted(i["name"] for i in tbl.list_indices()) == ["by-id", "my-ann"]


def test_prefilter_is_accepted_and_filters_first(tbl) -> None:
    q = np.ones(8, dtype="float32")
    for prefilter in (True, False):
        got = (
            tbl.search(q, vector_column="emb")
            .where("id < 5", prefilter=prefilter)
            .limit(10)
            .to_arrow()
        )
        assert sorted(got["id"].to_pylist()) == [0, 1, 2, 3, 4]
    with pytest.raises(oxvec.InvalidInputError, match="prefilter"):
        tbl.search(q, vector_column="emb").where("id < 5", prefilter="yes")


def test_compact_files(db) -> None:
    t = db.create_table("c", [{"x": 0}])
    for i in range(1, 5):
        t.add([{"x": i}])
    t.delete("x = 2")  # its fragment goes with its only row
    assert t.compact_files() == {"fragments_removed": 4, "fragments_added": 1}
    assert sorted(t.to_arrow()["x"].to_pylist()) == [0, 1, 3, 4]


def test_tags_list_gives_version_and_creation_time(db) -> None:
    t = db.create_table("g", [{"x": 0}])
    t.add([{"x": 1}])
    before = datetime.datetime.now(datetime.timezone.utc)
    t.tags.create("first", 1)
    tags = t.tags.list()
    assert list(tags) == ["first"] and tags["first"]["version"] == 1
    made = tags["first"]["created_at"]
    assert abs((made - before).total_seconds()) < 60
    assert t.tags.get_version("first") == 1
    with pytest.raises(oxvec.InvalidInputError, match="no tag named 'nope'"):
        t.tags.get_version("nope")
    assert repr(t.tags) == "Tags({'first': 1})"


def test_vector_value_type_and_the_model_base_class(db) -> None:
    class Doc(Model):
        id: int
        half: Vector(3, value_type=pa.float16())
        full: Vector(3)

    schema = Doc.to_arrow_schema()
    assert schema.field("half").type == pa.list_(pa.float16(), 3)
    assert schema.field("full").type == pa.list_(pa.float32(), 3)
    assert Doc.field_names() == ["id", "half", "full"]
    t = db.create_table("m", schema=Doc)
    t.add([Doc(id=1, half=[1, 2, 3], full=[1, 2, 3])])
    assert t.to_arrow()["half"].to_pylist() == [[1.0, 2.0, 3.0]]
    for bad in [pa.float64(), "float16", pa.int8()]:
        with pytest.raises(ValueError, match="value_type"):
            Vector(3, value_type=bad)
