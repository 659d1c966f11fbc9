"""Pydantic models as schemas: nested models, optional fields, lists, tuples, enums, dates."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Literal, Optional

import oxvec
import pyarrow as pa
import pytest
from oxvec.pydantic import Model, Vector, to_arrow_schema, validate_rows
from pydantic import BaseModel


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Author(BaseModel):
    name: str
    born: Optional[datetime.date] = None


class Doc(Model):
    id: int
    author: Author
    editor: Optional[Author] = None
    tags: list[str]
    point: tuple[float, float, float]
    scores: tuple[int, ...]
    color: Color
    level: Level
    kind: Literal["a", "b"]
    key: uuid.UUID
    at: datetime.datetime
    vector: Vector(2)


def test_schema_of_a_rich_model():
    s = Doc.to_arrow_schema()
    assert s.field("author").type == pa.struct(
        [pa.field("name", pa.string(), False), pa.field("born", pa.date32(), True)]
    )
    assert not s.field("author").nullable and s.field("editor").nullable
    assert s.field("tags").type == pa.list_(pa.string())
    assert s.field("point").type == pa.list_(pa.float64())
    assert s.field("scores").type == pa.list_(pa.int64())
    assert s.field("color").type == pa.string()
    assert s.field("level").type == pa.int64()
    assert s.field("kind").type == pa.string()
    assert s.field("key").type == pa.string()
    assert s.field("at").type == pa.timestamp("us")


def doc(i: int) -> Doc:
    return Doc(
        id=i,
        author=Author(name=f"a{i}", born=datetime.date(1990, 1, i + 1)),
        editor=None if i % 2 else Author(name="ed"),
        tags=["x"] * i,
        point=(1.0, 2.0, float(i)),
        scores=(i, i + 1),
        color=Color.BLUE if i % 2 else Color.RED,
        level=Level.HIGH,
        kind="a",
        key=uuid.UUID(int=i),
        at=datetime.datetime(2024, 1, 1, 12, i),
        vector=[float(i), 0.0],
    )


def test_model_instances_round_trip(tmp_path):
    db = oxvec.connect(tmp_path)
    tbl = db.create_table("docs", [doc(i) for i in range(3)], schema=Doc)
    assert tbl.schema == Doc.to_arrow_schema()
    rows = tbl.search().where("author.name = 'a1' AND color = 'blue'").to_list()
    assert len(rows) == 1
    got = Doc.model_validate({k: v for k, v in rows[0].items() if k in Doc.model_fields})
    assert got == doc(1)
    assert tbl.search([1.0, 0.0]).limit(1).to_pydantic(Doc) == [doc(1)]
    assert tbl.count_rows("editor IS NULL") == 1


def test_validation_names_the_row_and_field():
    rows = [{"name": "ok"}, {"name": 3}]
    with pytest.raises(oxvec.InvalidInputError, match=r"row 1, field 'name'"):
        validate_rows(Author, rows)
    bad = [doc(0).model_dump(), {**doc(1).model_dump(), "author": {"born": "yesterday"}}]
    with pytest.raises(oxvec.InvalidInputError, match=r"row 1, field 'author\.name'"):
        validate_rows(Doc, bad)


def test_unsupported_annotations_say_which_field():
    class Mixed(BaseModel):
        pair: tuple[int, str]

    with pytest.raises(TypeError, match=r"Mixed\.pair: a tuple field must hold one type"):
        to_arrow_schema(Mixed)

    class Odd(enum.Enum):
        A = 1
        B = "b"

    class WithOdd(BaseModel):
        odd: Odd

    with pytest.raises(TypeError, match="all strings or all ints"):
        to_arrow_schema(WithOdd)


def test_create_table_checks_rows_against_its_model(tmp_path):
    db = oxvec.connect(tmp_path)
    rows = [{"name": "ann"}, {"name": "bob", "born": "not a date"}]
    with pytest.raises(oxvec.InvalidInputError, match=r"row 1, field 'born'"):
        db.create_table("authors", rows, schema=Author)
    assert "authors" not in db
    tbl = db.create_table("authors", [{"name": "ann", "born": "1990-01-02"}], schema=Author)
    assert tbl.to_arrow().to_pylist() == [{"name": "ann", "born": datetime.date(1990, 1, 2)}]
