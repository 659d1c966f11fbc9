"""Embedding functions: declared on a table, applied on every write and on string queries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import oxvec
import pyarrow as pa
import pytest
from oxvec.embeddings import EmbeddingFunction, get_registry
from pydantic import BaseModel

CALLS: list[int] = []


@get_registry().register("test-bag-of-letters")
class BagOfLetters(EmbeddingFunction):
    """Counts of a few letters: deterministic, so results can be checked exactly."""

    batch_size = 4

    def ndims(self) -> int:
        return 4

    def compute_source_embeddings(self, texts: list[str]) -> list[list[float]]:
        CALLS.append(len(texts))
        return [[t.count(c) + 0.5 * self.bias for c in "abcd"] for t in texts]

    def compute_query_embeddings(self, query: str) -> list[list[float]]:
        return [[query.count(c) for c in "abcd"]]


def func(bias: float = 0.0) -> EmbeddingFunction:
    return get_registry().get("test-bag-of-letters").create(bias=bias)


def test_every_write_and_query_embeds(db: oxvec.Database) -> None:
    f = func()
    rows = [{"id": i, "text": t} for i, t in enumerate(["aaaa", "bbbb", "cccc", "dddd", "ab"])]
    CALLS.clear()
    tbl = db.create_table("t", rows, embedding_functions=[f.config("text", "vector")])
    assert CALLS and max(CALLS) <= 4, "batched by the function's batch_size"
    vec = dict(zip(tbl.to_arrow()["id"].to_pylist(), tbl.to_arrow()["vector"].to_pylist()))
    assert vec[0] == [4, 0, 0, 0] and vec[4] == [1, 1, 0, 0]
    # add: embedded; explicit vectors are kept.
    tbl.add([{"id": 5, "text": "dd"}])
    tbl.add([{"id": 6, "text": "zz", "vector": [9.0, 9.0, 9.0, 9.0]}])
    got = {r["id"]: r["vector"] for r in tbl.to_arrow().to_pylist()}
    assert got[5] == [0, 0, 0, 2] and got[6] == [9, 9, 9, 9]
    # search with a string embeds the query.
    assert tbl.search("cc").limit(1).to_list()[0]["id"] == 2
    # update of the source column re-embeds it; SQL on it is refused.
    tbl.update("id = 2", values={"text": "bbb"})
    assert tbl.search("cc").limit(1).to_list()[0]["id"] != 2
    assert {r["id"]: r["vector"] for r in tbl.to_arrow().to_pylist()}[2] == [0, 3, 0, 0]
    with pytest.raises(oxvec.InvalidInputError, match="values_sql"):
        tbl.update("id = 2", values_sql={"text": "'x'"})
    # merge_insert embeds source rows.
    tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(
        [{"id": 0, "text": "cccc"}, {"id": 7, "text": "aab"}]
    )
    got = {r["id"]: r["vector"] for r in tbl.to_arrow().to_pylist()}
    assert got[0] == [0, 0, 4, 0] and got[7] == [2, 1, 0, 0]
    # Full-text still searches text when asked; hybrid embeds one string for its vector leg.
    tbl.create_fts_index("text")
    assert tbl.search("dd", query_type="fts").to_list()[0]["id"] == 5
    hyb = tbl.search("dd", query_type="hybrid").limit(3).to_list()
    assert hyb[0]["id"] == 5 and "_relevance_score" in hyb[0]


def test_configuration_is_stored_with_the_table(tmp_path: Path) -> None:
    db = oxvec.connect(tmp_path)
    db.create_table("t", [{"text": "abcd"}], embedding_functions=[func(1.0).config("text", "v")])
    again = oxvec.connect(tmp_path).open_table("t")
    again.add([{"text": "a"}])
    assert again.to_arrow()["v"].to_pylist()[-1] == [1.5, 0.5, 0.5, 0.5]
    # In a process where the function is not registered, the table reads, and says what is
    # missing only when something must be embedded.
    code = (
        "import oxvec, sys\n"
        "t = oxvec.connect(sys.argv[1]).open_table('t')\n"
        "assert len(t.to_arrow()) == 2\n"
        "assert t.search([1.0, 0.0, 0.0, 0.0]).limit(1).to_list()\n"
        "try:\n"
        "    t.add([{'text': 'x'}])\n"
        "except oxvec.InvalidInputError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert "test-bag-of-letters" in out.stdout and "not available" in out.stdout, out


def test_pydantic_model_declares_the_function(db: oxvec.Database) -> None:
    from oxvec.pydantic import Vector

    f = func()

    class Doc(BaseModel):
        id: int
        text: str = f.SourceField()
        vector: Vector(4) = f.VectorField()  # type: ignore[valid-type]

    tbl = db.create_table("docs", schema=Doc)
    tbl.add([Doc(id=1, text="bbb"), Doc(id=2, text="aaa")])
    assert tbl.search("a").limit(1).to_list()[0]["id"] == 2


def test_bad_functions_and_inputs_are_refused(db: oxvec.Database) -> None:
    @get_registry().register("test-wrong-shape")
    class Wrong(EmbeddingFunction):
        def ndims(self) -> int:
            return 3

        def compute_source_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 2.0] for _ in texts]

    with pytest.raises(oxvec.InvalidInputError, match="shape"):
        db.create_table(
            "w",
            [{"text": "x"}],
            embedding_functions=[get_registry().get("test-wrong-shape").create().config("text")],
        )
    assert "w" not in db

    @get_registry().register("test-nan")
    class Nan(EmbeddingFunction):
        def ndims(self) -> int:
            return 2

        def compute_source_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float("nan"), 1.0] for _ in texts]

    with pytest.raises(oxvec.InvalidInputError, match="NaN"):
        db.create_table(
            "n",
            [{"text": "x"}],
            embedding_functions=[get_registry().get("test-nan").create().config("text")],
        )
    with pytest.raises(oxvec.InvalidInputError, match="no embedding function named"):
        get_registry().get("nope")
    with pytest.raises(oxvec.InvalidInputError, match="JSON"):
        func(bias=object())  # type: ignore[arg-type]
    tbl = db.create_table("t", [{"text": "ab"}], embedding_functions=[func().config("text")])
    v = tbl.version
    with pytest.raises(oxvec.InvalidInputError, match="need column 'text'"):
        tbl.add([{"other": 1}])
    assert tbl.version == v


def test_nulls_mappings_and_mismatched_columns_get_clear_errors(db: oxvec.Database) -> None:
    from types import MappingProxyType

    tbl = db.create_table(
        "t", [{"id": 0, "text": "ab"}], embedding_functions=[func().config("text")]
    )
    v = tbl.version
    # A row with neither a text nor a vector: refused by row, nothing written.
    with pytest.raises(oxvec.InvalidInputError, match="row 1: column 'text' is null"):
        tbl.add([{"id": 1, "text": "a"}, {"id": 2, "text": None}])
    with pytest.raises(oxvec.InvalidInputError, match="row 0: column 'text' is null"):
        tbl.add([{"id": 3, "text": None}])
    with pytest.raises(oxvec.InvalidInputError, match="cannot set 'text' to null"):
        tbl.update("id = 0", values={"text": None})
    with pytest.raises(oxvec.InvalidInputError, match="null vector"):
        tbl.update("id = 0", values={"vector": None})
    with pytest.raises(oxvec.InvalidInputError, match="null vector"):
        tbl.update("id = 0", values={"vector": pa.scalar(None, pa.list_(pa.float32(), 4))})
    with pytest.raises(oxvec.InvalidInputError, match="dimension 2"):
        tbl.add([{"id": 4, "text": "a", "vector": [1.0, 2.0]}, {"id": 5, "text": "b"}])
    assert tbl.version == v
    tbl.update("id = 0", values={"vector": pa.scalar([1.0, 2.0, 3.0, 4.0], pa.list_(pa.float32()))})
    # A null text with its vector given is fine; any Mapping of values re-embeds.
    tbl.add([{"id": 6, "text": None, "vector": [1.0, 1.0, 1.0, 1.0]}])
    tbl.update("id = 0", values=MappingProxyType({"text": "ccc"}))
    got = {r["id"]: r["vector"] for r in tbl.to_arrow().to_pylist()}
    assert got[0] == [0, 0, 3, 0] and got[6] == [1, 1, 1, 1]
    # Configurations that cannot work are refused before anything is created.
    bad = [
        (
            {"schema": pa.schema([("text", pa.string())])},
            func().config("text", "text"),
            "overwrite",
        ),
        (
            {"schema": pa.schema([("text", pa.string()), ("v", pa.list_(pa.float32(), 3))])},
            func().config("text", "v"),
            "dimension 3",
        ),
        (
            {"schema": pa.schema([("text", pa.string()), ("v", pa.string())])},
            func().config("text", "v"),
            "float vectors",
        ),
        ({"schema": pa.schema([("text", pa.int64())])}, func().config("text"), "must hold text"),
        (
            {"data": [{"text": "a"}]},
            [func().config("text", "v"), func().config("v", "w")],
            "itself",
        ),
        ({"data": [{"text": "a", "v": [1.0, 2.0]}]}, func().config("text", "v"), "dimension"),
    ]
    for i, (kw, config, msg) in enumerate(bad):
        with pytest.raises(oxvec.InvalidInputError, match=msg):
            configs = config if isinstance(config, list) else [config]
            db.create_table(f"bad{i}", embedding_functions=configs, **kw)
        assert f"bad{i}" not in db


@pytest.mark.parametrize(
    "output",
    [
        lambda texts: [[1.0, 2.0], [1.0]][: len(texts)] if len(texts) > 1 else [["x", "y"]],
        lambda texts: (row for row in [[1.0, 2.0]] * len(texts)),
        lambda texts: "not vectors",
        lambda texts: 7,
    ],
)
def test_malformed_function_outputs_are_refused(db: oxvec.Database, output: object) -> None:
    class Odd(EmbeddingFunction):
        def ndims(self) -> int:
            return 2

        def compute_source_embeddings(self, texts: list[str]) -> object:
            return output(texts)  # type: ignore[operator]

    f = Odd.create()
    try:
        tbl = db.create_table(
            "t", [{"text": "a"}, {"text": "b"}], embedding_functions=[f.config("text")]
        )
    except oxvec.InvalidInputError:
        assert "t" not in db
        return
    # A generator of rows is a fine answer.
    assert tbl.to_arrow()["vector"].to_pylist() == [[1.0, 2.0], [1.0, 2.0]]


def test_sentence_transformers_offline_with_a_real_model(db: oxvec.Database) -> None:
    pytest.importorskip(
        "sentence_transformers", reason="sentence-transformers is not installed: skipped"
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    f = get_registry().get("sentence-transformers").create(name="all-MiniLM-L6-v2")
    try:
        dim = f.ndims()
    except Exception as e:
        pytest.skip(f"no local all-MiniLM-L6-v2 model ({type(e).__name__}: {e}); skipped")
    tbl = db.create_table(
        "st",
        [{"text": "a cat sat on the mat"}, {"text": "stock markets fell sharply"}],
        embedding_functions=[f.config("text", "vector")],
    )
    assert tbl.schema.field("vector").type.list_size == dim
    assert tbl.search("kitten").limit(1).to_list()[0]["text"] == "a cat sat on the mat"


def test_a_name_argument_does_not_replace_the_registry_name(tmp_path):
    """A function made with `name=` (a model's name, as sentence-transformers takes) is
    still stored under its registry name, so another handle can make it again."""
    from oxvec.embeddings import EmbeddingFunction, get_registry

    @get_registry().register("named-model-counts")
    class Named(EmbeddingFunction):
        def ndims(self):
            return 2

        def compute_source_embeddings(self, texts):
            return [[len(t), 1.0] for t in texts]

    func = Named.create(name="my-model")
    assert func.to_json() == {"name": "named-model-counts", "params": {"name": "my-model"}}
    db = oxvec.connect(tmp_path)
    db.create_table("t", [{"text": "ab"}], embedding_functions=[func.config("text")])
    again = oxvec.connect(tmp_path)["t"]
    again.add([{"text": "abcd"}])
    assert again.search().where("text = 'abcd'").to_list()[0]["vector"] == [4.0, 1.0]
