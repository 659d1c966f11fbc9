"""Tables written by earlier releases (tests/fixtures) stay readable, indexes and tags too."""

from __future__ import annotations

import shutil
from pathlib import Path

import oxvec

FIXTURES = Path(__file__).parent / "fixtures"


def _open(name: str, tmp_path: Path) -> oxvec.Table:
    shutil.copytree(FIXTURES / name, tmp_path / name)
    return oxvec.connect(tmp_path / name)["docs"]


def test_format_1_table_reads_searches_and_time_travels(tmp_path) -> None:
    t = _open("format1", tmp_path)
    assert t.version == 4 and t.schema.names == ["id", "text", "vector"]
    rows = t.to_arrow().sort_by("id")
    want = [i for i in range(60) if i % 10 != 3]
    assert rows["id"].to_pylist() == want
    assert rows["text"].to_pylist() == [f"doc {i}" for i in want]
    own = rows["vector"][5].as_py()
    assert t.search(own).limit(1).to_list()[0]["id"] == want[5]
    assert t.count_rows("id >= 50") == 9
    assert t.count_rows("id = 13") == 0 and t.count_rows("id = 8") == 1
    assert [i["index_type"] for i in t.list_indices()] == ["BTREE"]
    assert t.verify(deep=True).ok
    t.checkout("v3")
    assert len(t) == 54 and t.list_indices() == []
    t.checkout(2)
    assert len(t) == 60


def test_format_2_table_reads_its_renamed_and_added_columns(tmp_path) -> None:
    t = _open("format2", tmp_path)
    assert t.schema.names == ["id", "body", "vector", "note"]
    rows = t.to_arrow().sort_by("id")
    assert rows["body"].to_pylist() == [f"doc {i}" for i in range(31)]
    assert rows["note"].to_pylist() == [None] * 30 + ["n"]
    assert t.verify(deep=True).ok
    t.add([{"id": 31, "body": "x", "vector": [0.0, 0.0, 0.0, 1.0]}])
    assert len(t) == 32
