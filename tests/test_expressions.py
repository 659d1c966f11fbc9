"""The filter language's functions, struct fields, list parameters and computed selects,
through the Python API."""

from __future__ import annotations

import numpy as np
import oxvec
import pyarrow as pa
import pytest


@pytest.fixture
def tbl(tmp_path):
    db = oxvec.connect(tmp_path)
    rows = [
        {"id": 0, "name": "Ann", "meta": {"lang": "en", "n": 0}, "tags": [], "v": [0.0, 0.0]},
        {"id": 1, "name": "bob", "meta": {"lang": "fr", "n": 1}, "tags": ["x"], "v": [1.0, 0.0]},
        {"id": 2, "name": "Cy", "meta": {"lang": "en", "n": 2}, "tags": ["x", "y"], "v": [2, 0]},
        {"id": 3, "name": None, "meta": None, "tags": None, "v": [3.0, 0.0]},
    ]
    t = db.create_table("t", rows)
    t.create_fts_index("name")
    return t


def ids(q):
    return [r["id"] for r in q.to_list()]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("lower(name) = 'ann'", [0]),
        ("upper(name) = 'BOB'", [1]),
        ("contains(lower(name), 'y')", [2]),
        ("starts_with(name, 'A') OR ends_with(name, 'b')", [0, 1]),
        ("regexp_match(name, '^[ac]', 'i')", [0, 2]),
        ("length(name) = 2", [2]),
        ("name || '!' = 'Cy!'", [2]),
        ("coalesce(name, '?') = '?'", [3]),
        ("meta.lang = 'en'", [0, 2]),
        ("meta.n > 0 AND meta.lang = 'en'", [2]),
        ("meta.lang IS NULL", [3]),
        ("array_length(tags) = 2", [2]),
        ("abs(id - 2) = 1", [1, 3]),
    ],
)
def test_filter_functions(tbl, sql, expected):
    assert ids(tbl.search().where(sql)) == expected
    assert tbl.count_rows(sql) == len(expected)


@pytest.mark.parametrize("values", [[1, 3], (1, 3), {1, 3}, np.array([1, 3])])
def test_in_binds_a_list_parameter(tbl, values):
    assert ids(tbl.search().where("id IN ?", [values])) == [1, 3]
    assert ids(tbl.search().where("id NOT IN ? AND id < ?", [values, 3])) == [0, 2]
    assert ids(tbl.search().where("array_has_any(tags, ?)", [["y", "z"]])) == [2]


def test_a_list_parameter_elsewhere_is_refused(tbl):
    with pytest.raises(oxvec.FilterError, match=r"list parameter \(2 values\) can only follow IN"):
        tbl.search().where("id = ?", [[1, 2]]).to_list()
    with pytest.raises(oxvec.InvalidInputError, match="single values, not lists"):
        tbl.search().where("id IN ?", [[[1]]]).to_list()


def test_filter_function_errors_are_typed(tbl):
    with pytest.raises(oxvec.FilterError, match=r"unknown function 'soundex'.*starts_with"):
        tbl.count_rows("soundex(name) = 'x'")
    with pytest.raises(oxvec.FilterError, match="regexp_match pattern"):
        tbl.count_rows("regexp_match(name, '(')")
    with pytest.raises(oxvec.FilterError, match="has no field 'nope'"):
        tbl.count_rows("meta.nope = 1")
    with pytest.raises(oxvec.FilterError, match="lower needs text"):
        tbl.count_rows("lower(tags) = 'x'")
    # A failed filter in a write writes nothing.
    v = tbl.version
    with pytest.raises(oxvec.FilterError):
        tbl.delete("lower(meta) = 'x'")
    assert tbl.version == v


def test_select_computes_columns_on_a_scan(tbl):
    out = tbl.search().where("id < 3").select({"id": "id", "shout": "upper(name) || '!'"})
    assert out.to_list() == [
        {"id": 0, "shout": "ANN!"},
        {"id": 1, "shout": "BOB!"},
        {"id": 2, "shout": "CY!"},
    ]
    assert out.output_schema().names == ["id", "shout"]
    assert out.to_arrow().schema.names == ["id", "shout"]
    batches = list(out.to_batches(2))
    assert [b.num_rows for b in batches] == [2, 1]
    assert batches[0].schema.names == ["id", "shout"]
    assert list(out.to_numpy()["shout"]) == ["ANN!", "BOB!", "CY!"]


def test_select_names_the_distance(tbl):
    q = tbl.search([1.0, 0.0], vector_column="v").limit(2)
    got = q.select({"lang": "meta.lang", "near": "_distance < 0.5"}).to_list()
    assert got == [
        {"lang": "fr", "near": True, "_distance": 0.0},
        {"lang": "en", "near": False, "_distance": 1.0},
    ]
    assert q.select(["_distance", "id"]).to_arrow().schema.names == ["_distance", "id"]
    schema = q.select({"lang": "meta.lang"}).output_schema()
    assert schema.names == ["lang", "_distance"]
    assert schema.field("lang").type == pa.string()
    ranked = q.select({"id": "id", "score": "1 - _distance"}).with_row_id().to_arrow()
    assert ranked.schema.names == ["id", "score", "_distance", "_rowid"]


def test_select_on_text_and_hybrid_searches(tbl):
    got = tbl.search("bob", query_type="fts").select({"who": "upper(name)"}).to_list()
    assert [r["who"] for r in got] == ["BOB"]
    assert "_score" in got[0]
    hybrid = (
        tbl.search(query_type="hybrid", vector_column="v")
        .vector([1.0, 0.0])
        .text("bob")
        .select({"who": "lower(name)"})
        .limit(2)
        .to_arrow()
    )
    assert hybrid.column_names[0] == "who"
    assert "_relevance_score" in hybrid.column_names
    assert hybrid["who"][0].as_py() == "bob"


def test_select_errors_name_the_output(tbl):
    with pytest.raises(oxvec.FilterError, match="select expression: 'x': unknown column 'nope'"):
        tbl.search().select({"x": "nope + 1"}).to_list()
    with pytest.raises(oxvec.FilterError, match="unknown column '_distance'"):
        tbl.search().select({"d": "_distance"}).to_list()
    with pytest.raises(oxvec.InvalidInputError, match="at least one"):
        tbl.search().select({})
    with pytest.raises(oxvec.InvalidInputError, match="string keys and values"):
        tbl.search().select({"x": 1})


def test_rowid_is_selectable_without_with_row_id(tbl):
    ids = tbl.search().with_row_id().to_arrow()["_rowid"].to_pylist()
    got = tbl.search().select({"r": "_rowid"}).to_arrow()
    assert got.column_names == ["r"] and got["r"].to_pylist() == ids
    assert tbl.search().select(["_rowid", "id"]).to_arrow().column_names == ["_rowid", "id"]
    assert tbl.search().select({"r": "_rowid"}).output_schema().names == ["r"]
    near = tbl.search([1.0, 0.0], vector_column="v").select({"r": "_rowid"}).limit(1).to_arrow()
    assert near.column_names == ["r", "_distance"]
    hybrid = (
        tbl.search(query_type="hybrid", vector_column="v")
        .vector([1.0, 0.0])
        .text("bob")
        .select({"r": "_rowid", "d": "_distance"})
    )
    assert hybrid.to_arrow().column_names[:2] == ["r", "d"]
    assert "fused" in hybrid.explain()


def test_stream_errors_keep_their_type(tbl):
    reader = tbl.search().select({"x": "abs(id - 9223372036854775807 - 1)"}).to_batches(2)
    with pytest.raises(oxvec.FilterError, match="overflows"):
        reader.read_all()


def test_merge_conditions_reach_struct_fields(tmp_path):
    t = oxvec.connect(tmp_path).create_table(
        "m", [{"id": 1, "meta": {"lang": "en", "v": 1}}, {"id": 2, "meta": {"lang": "fr", "v": 1}}]
    )
    src = [{"id": 1, "meta": {"lang": "en", "v": 9}}, {"id": 2, "meta": {"lang": "fr", "v": 9}}]
    res = (
        t.merge_insert("id")
        .when_matched_update_all(where="target.meta.lang = 'en' AND source.meta.v > 5")
        .execute(src)
    )
    assert res.num_updated_rows == 1
    assert t.search().where("meta.v = 9").to_list()[0]["id"] == 1
