"""Table operations: counts, writes, reads, exports and time travel."""

from __future__ import annotations

import datetime

import oxvec
import pyarrow as pa
import pytest
from conftest import make_rows, make_table


def test_count_head_exports(db: oxvec.Database) -> None:
    t = db.create_table("t", make_table(100))
    assert len(t) == t.count_rows() == 100
    assert t.count_rows("category = 'alpha'") == 34
    assert t.count_rows("price > ? AND id < ?", [40, 50]) == 10
    assert t.head(3).num_rows == 3 and t.head().num_rows == 5
    assert t.to_arrow().num_rows == 100
    assert pa.table(t).num_rows == 100
    assert repr(t).startswith("oxvec.Table('t', version=1, rows=")


def test_add_creates_versions(db: oxvec.Database) -> None:
    t = db.create_table("t", make_rows(10))
    t.add(make_rows(5, start=10))
    t.add(make_table(5, start=15))
    assert t.version == 3 and len(t) == 20
    versions = t.list_versions()
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["operation"] for v in versions] == ["create", "append", "append"]
    assert [v["rows"] for v in versions] == [10, 15, 20]
    assert all(isinstance(v["timestamp"], datetime.datetime) for v in versions)
    assert versions[0]["timestamp"] <= versions[-1]["timestamp"]


def test_delete(db: oxvec.Database) -> None:
    t = db.create_table("t", make_rows(30))
    assert t.delete("id < ?", [10]) == 10
    assert len(t) == 20 and t.version == 2
    assert t.delete("id < 10") == 0
    assert t.version == 2  # nothing matched: no new version
    assert t.delete("category = 'alpha' OR id = 29") == 7
    ids = sorted(t.to_arrow().column("id").to_pylist())
    assert 29 not in ids and all(i % 3 != 0 for i in ids) and min(ids) >= 10
    assert t.delete("true") == len(ids)
    assert len(t) == 0 and t.to_arrow().num_rows == 0


def test_update_values_and_sql(db: oxvec.Database) -> None:
    t = db.create_table("t", make_rows(10))
    assert t.update("id < 3", values={"category": "new", "price": 7}) == 3
    assert t.update(values_sql={"price": "price * 2"}) == 10
    rows = {r["id"]: r for r in t.to_arrow().to_pylist()}
    assert len(rows) == 10
    assert [rows[i]["category"] for i in range(3)] == ["new"] * 3
    assert rows[0]["price"] == 14.0 and rows[5]["price"] == 11.0
    assert t.update("id = ?", values={"vector": [1.0] * 16}, params=[9]) == 1
    hit = t.search([1.0] * 16).limit(1).to_list()[0]
    assert hit["id"] == 9 and hit["_distance"] == 0
    assert t.update("id = 1000", values={"price": 1}) == 0
    assert [v["operation"] for v in t.list_versions()] == ["create", "update", "update", "update"]


def test_update_errors(db: oxvec.Database) -> None:
    t = db.create_table("t", make_rows(3))
    with pytest.raises(oxvec.InvalidInputError, match="unknown column 'nope'"):
        t.update(values={"nope": 1})
    with pytest.raises(oxvec.InvalidInputError, match="at least one column"):
        t.update("id = 1")
    with pytest.raises(oxvec.FilterError):
        t.update("id = 1", values_sql={"price": "price +"})
    with pytest.raises(oxvec.InvalidInputError, match="dimension 3, expected 16"):
        t.update("id = 1", values={"vector": [1.0, 2.0, 3.0]})
    assert t.version == 1


def test_checkout_restore(db: oxvec.Database) -> None:
    t = db.create_table("t", make_rows(10))
    t.add(make_rows(10, start=10))
    t.delete("id >= 15")
    t.checkout(1)
    assert t.version == 1 and len(t) == 10
    assert t.search(make_rows(1)[0]["vector"]).to_arrow().num_rows == 10
    with pytest.raises(oxvec.InvalidInputError, match="checked out"):
        t.add(make_rows(1))
    t.checkout(2)
    assert len(t) == 20
    t.checkout_latest()
    assert t.version == 3 and len(t) == 15
    assert t.restore(2) == 4
    assert len(t) == 20
    t.checkout(1)
    assert t.restore() == 5
    assert len(t) == 10 and t.version == 5
    with pytest.raises(oxvec.InvalidInputError, match="no version 99"):
        t.checkout(99)


def test_restore_a_tag(db: oxvec.Database) -> None:
    t = db.create_table("t", make_rows(10))
    t.tags.create("ten")
    t.add(make_rows(5, start=10))
    assert t.restore("ten") == 3 and len(t) == 10
    with pytest.raises(oxvec.InvalidInputError, match="no tag named 'nope'"):
        t.restore("nope")
    assert t.version == 3
    with pytest.raises(oxvec.InvalidInputError):
        t.restore(1.5)  # type: ignore[arg-type]


def test_handles_see_other_writers_after_checkout_latest(db: oxvec.Database) -> None:
    a = db.create_table("t", make_rows(5))
    b = oxvec.connect(db.uri, read_consistency_interval=None).open_table("t")
    fresh = db.open_table("t")
    a.add(make_rows(5, start=5))
    assert len(b) == 5  # pinned to the version it opened
    assert len(fresh) == 10  # the default: every read looks for a newer version
    b.checkout_latest()
    assert len(b) == 10
    b.add(make_rows(1, start=10))  # writes go on top of the newest version
    assert len(a) == 11


def test_data_survives_reopen_in_new_process(db: oxvec.Database) -> None:
    import subprocess
    import sys

    db.create_table("t", make_rows(50)).delete("id < 5")
    code = (
        "import oxvec, sys; t = oxvec.connect(sys.argv[1]).open_table('t'); "
        "print(len(t), t.version, t.count_rows('id < 5'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, db.uri], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["45", "2", "0"]
