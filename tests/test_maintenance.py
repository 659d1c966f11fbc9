"""merge_insert, tags, cleanup_old_versions, verify, read consistency and the automatic
compaction and cleanup defaults."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from conftest import DIM, make_rows


def ids_of(tbl: oxvec.Table) -> list[int]:
    return sorted(tbl.to_arrow()["id"].to_pylist())


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# merge_insert ----------------------------------------------------------------------------


def test_upsert_updates_inserts_and_counts(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(10))
    src = make_rows(5, start=8, seed=1)  # ids 8..12: 2 matched, 3 new
    for r in src:
        r["category"] = "new"
    res = (
        tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(src)
    )
    assert res == oxvec.MergeResult(3, 2, 0, 2)
    assert ids_of(tbl) == list(range(13))
    got = {r["id"]: r["category"] for r in tbl.to_arrow().to_pylist()}
    assert all(got[i] == "new" for i in range(8, 13))
    assert all(got[i] != "new" for i in range(8))
    # The updated rows are found by exact search with their new vectors.
    hit = tbl.search(src[0]["vector"]).limit(1).to_list()[0]
    assert hit["id"] == 8 and hit["category"] == "new"


def test_matched_condition_uses_target_and_source(db: oxvec.Database) -> None:
    tbl = db.create_table("t", [{"id": i, "ts": 10, "vector": [float(i)]} for i in range(4)])
    src = [{"id": i, "ts": 5 + 5 * (i % 2) + 1, "vector": [9.0]} for i in range(4)]
    res = tbl.merge_insert("id").when_matched_update_all(where="source.ts > target.ts").execute(src)
    assert (res.num_updated_rows, res.num_inserted_rows) == (2, 0)
    ts = {r["id"]: r["ts"] for r in tbl.to_arrow().to_pylist()}
    assert ts == {0: 10, 1: 11, 2: 10, 3: 11}


def test_delete_not_matched_by_source(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(10))
    res = (
        tbl.merge_insert("id")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .when_not_matched_by_source_delete(where="id >= ?")
        .execute(make_rows(3, start=0), params=[5])
    )
    assert res.num_deleted_rows == 5 and res.num_updated_rows == 3
    assert ids_of(tbl) == [0, 1, 2, 3, 4]


def test_composite_key_and_null_keys(db: oxvec.Database) -> None:
    rows = [{"a": i % 2, "b": i // 2, "x": 0, "vector": [0.0]} for i in range(4)]
    tbl = db.create_table("t", rows)
    src = pa.table(
        {
            "a": pa.array([1, None], pa.int64()),
            "b": pa.array([1, 0], pa.int64()),
            "x": pa.array([7, 7], pa.int64()),
            "vector": pa.array([[1.0], [1.0]], pa.list_(pa.float32(), 1)),
        }
    )
    res = (
        tbl.merge_insert(["a", "b"])
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute(src)
    )
    # (1, 1) matched; the null key matches nothing and is inserted.
    assert (res.num_updated_rows, res.num_inserted_rows) == (1, 1)
    assert len(tbl) == 5


def test_merge_is_atomic_and_validated(db: oxvec.Database, tmp_path: Path) -> None:
    tbl = db.create_table("t", make_rows(5))
    root = Path(tbl._inner.path)
    before = listing(root)
    builder = tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
    dup = make_rows(2) + make_rows(1)
    with pytest.raises(oxvec.InvalidInputError, match="same key"):
        builder.execute(dup)
    bad = make_rows(2, start=3)
    bad[1]["vector"] = [0.0] * (DIM + 1)
    with pytest.raises(oxvec.InvalidInputError, match="row 1 has a vector of dimension 17"):
        builder.execute(bad)
    with pytest.raises(oxvec.InvalidInputError, match="nope"):
        tbl.merge_insert("nope").when_not_matched_insert_all().execute(make_rows(1))
    with pytest.raises(oxvec.FilterError):
        tbl.merge_insert("id").when_matched_update_all(where="source.nope > 1").execute(
            make_rows(1)
        )
    assert tbl.version == 1 and listing(root) == before


def test_merge_keeps_index_results_fresh(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(600))
    tbl.create_index(index_type="HNSW", metric="l2", progress=False)
    moved = make_rows(1, start=5, seed=99)
    tbl.merge_insert("id").when_matched_update_all().execute(moved)
    hits = tbl.search(moved[0]["vector"]).limit(3).to_list()
    assert hits[0]["id"] == 5 and hits[0]["_distance"] < 1e-6
    assert [h["id"] for h in hits].count(5) == 1


# tags, cleanup, verify ----------------------------------------------------------------------


def test_tags_survive_cleanup(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(3))
    tbl.add(make_rows(3, start=3))
    tbl.tags.create("first", 1)
    with pytest.raises(oxvec.InvalidInputError, match="already exists"):
        tbl.tags.create("first", 2)
    with pytest.raises(oxvec.InvalidInputError, match="no version 99"):
        tbl.tags.create("later", 99)
    with pytest.raises(oxvec.InvalidInputError, match="invalid tag name"):
        tbl.tags.create("../escape", 1)
    tbl.delete("id = 0")
    stats = tbl.cleanup_old_versions(older_than=datetime.timedelta(0))
    assert stats["versions_removed"] == 1  # version 2; 1 is tagged, 3 is the newest
    assert [v["version"] for v in tbl.list_versions()] == [1, 3]
    tbl.checkout("first")
    assert ids_of(tbl) == [0, 1, 2]
    tbl.checkout_latest()
    assert ids_of(tbl) == [1, 2, 3, 4, 5]
    assert tbl.verify(deep=True).ok
    tbl.tags.delete("first")
    assert tbl.tags.list() == {}
    tbl.cleanup_old_versions(older_than=0)
    assert [v["version"] for v in tbl.list_versions()] == [3]
    assert tbl.verify(deep=True).ok
    assert ids_of(tbl) == [1, 2, 3, 4, 5]


def test_cleanup_removes_only_unreferenced_files(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(200))
    tbl.create_index(index_type="IVF_PQ", metric="l2", progress=False)
    for i in range(4):
        tbl.add(make_rows(10, start=200 + 10 * i))
    tbl.delete("id < 50")
    tbl.optimize()
    root = Path(tbl._inner.path)
    files_before = len(list((root / "data").iterdir()))
    stats = tbl.cleanup_old_versions(older_than=0)
    assert stats["files_removed"] > 0 and stats["bytes_removed"] > 0
    assert len(list((root / "data").iterdir())) < files_before
    report = tbl.verify(deep=True)
    assert report.ok, report.problems
    assert len(tbl) == 190
    v100 = tbl.search().where("id = 100").to_list()[0]["vector"]
    assert tbl.search(v100).limit(1).to_list()[0]["id"] == 100
    # A second cleanup has nothing left to do.
    assert tbl.cleanup_old_versions(older_than=0) == {
        "versions_removed": 0,
        "files_removed": 0,
        "bytes_removed": 0,
    }


def test_cleanup_keeps_recent_versions_and_unverified_files(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(3))
    tbl.add(make_rows(3, start=3))
    orphan = Path(tbl._inner.path) / "data" / "orphan.arrow"
    orphan.write_bytes(b"left by a crashed writer")
    assert tbl.cleanup_old_versions()["versions_removed"] == 0  # default: 7 days
    tbl.cleanup_old_versions(older_than=0)
    assert orphan.exists()  # younger than the grace period
    tbl.cleanup_old_versions(older_than=0, delete_unverified=True)
    assert not orphan.exists()


@pytest.mark.parametrize("inline", [True, False])
def test_small_deletions_live_in_the_manifest_unless_off(tmp_path: Path, inline: bool) -> None:
    db = oxvec.connect(tmp_path, inline_deletions=inline)
    tbl = db.create_table("t", make_rows(300))
    tbl.delete("id % 3 = 0")
    tbl.update("id % 3 = 1", values_sql={"id": "id + 1000"})
    tbl.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(
        make_rows(20, start=290)
    )
    deletion_files = list((Path(tbl._inner.path) / "deletions").iterdir())
    assert len(deletion_files) == (0 if inline else 3)
    want = sorted(
        [i for i in range(290) if i % 3 == 2] + [i + 1000 for i in range(300) if i % 3 == 1]
    )
    want = sorted(want + list(range(290, 310)))
    assert ids_of(tbl) == want
    # Another process reads the same rows; time travel and restore see each version.
    assert ids_of(oxvec.connect(tmp_path).open_table("t")) == want
    tbl.checkout(2)
    assert ids_of(tbl) == [i for i in range(300) if i % 3]
    tbl.restore()
    tbl.cleanup_old_versions(older_than=0, delete_unverified=True)
    assert ids_of(tbl) == [i for i in range(300) if i % 3]
    assert tbl.verify(deep=True).ok
    with pytest.raises(oxvec.InvalidInputError, match="inline_deletions"):
        oxvec.connect(tmp_path, inline_deletions="no")  # type: ignore[arg-type]


def test_verify_reports_missing_and_corrupt_files(db: oxvec.Database) -> None:
    tbl = db.create_table("t", make_rows(50))
    tbl.add(make_rows(50, start=50))
    root = Path(tbl._inner.path)
    frags = sorted((root / "data").iterdir())
    data = bytearray(frags[0].read_bytes())
    data[len(data) // 2] ^= 0x40
    frags[0].write_bytes(bytes(data))
    assert tbl.verify().ok  # same size: only the deep check reads the bytes
    deep = tbl.verify(deep=True)
    assert not deep.ok and any(frags[0].name in p and "checksum" in p for p in deep.problems)
    frags[1].unlink()
    shallow = tbl.verify()
    assert any(frags[1].name in p for p in shallow.problems)


# read consistency ---------------------------------------------------------------------------


WRITER = f"""
import sys, oxvec
db = oxvec.connect(sys.argv[1])
t = db.open_table("t")
t.add([{{"id": int(sys.argv[2]), "vector": [0.5] * {DIM}}}])
"""


def test_reader_sees_other_process_writes_by_default(tmp_path: Path) -> None:
    strong = oxvec.connect(tmp_path)
    tbl = strong.create_table("t", make_rows(2))
    pinned = oxvec.connect(tmp_path, read_consistency_interval=None).open_table("t")
    lazy = oxvec.connect(tmp_path, read_consistency_interval=3600).open_table("t")
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "100"], check=True)
    assert len(tbl) == 3 and tbl.version == 2
    assert len(pinned) == 2 and pinned.version == 1
    assert len(lazy) == 2
    pinned.checkout_latest()
    assert len(pinned) == 3


def test_reader_follows_writes_past_a_cleanup(tmp_path: Path) -> None:
    # The cleanup removes the version after the reader's, so only the `versions/` change
    # tells the reader to look again.
    tbl = oxvec.connect(tmp_path).create_table("t", make_rows(2))
    assert tbl.version == 1
    writer = WRITER + f"t.add([{{'id': 101, 'vector': [0.5] * {DIM}}}])\n"
    writer += "t.cleanup_old_versions(older_than=0)\n"
    subprocess.run([sys.executable, "-c", writer, str(tmp_path), "100"], check=True)
    assert not (Path(tbl._inner.path) / "versions" / f"{2:020}.manifest").exists()
    assert len(tbl) == 4 and tbl.version == 3


def test_reader_follows_a_dropped_and_recreated_table(tmp_path: Path) -> None:
    tbl = oxvec.connect(tmp_path).create_table("t", make_rows(2))
    tbl.add(make_rows(1, start=2))
    other = oxvec.connect(tmp_path)
    other.drop_table("t")
    other.create_table("t", make_rows(5, start=10))
    assert sorted(ids_of(tbl)) == list(range(10, 15))


def test_checked_out_handle_stays_pinned(tmp_path: Path) -> None:
    tbl = oxvec.connect(tmp_path).create_table("t", make_rows(2))
    tbl.add(make_rows(1, start=2))
    tbl.checkout(1)
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "7"], check=True)
    assert len(tbl) == 2 and tbl.version == 1


# automatic maintenance ----------------------------------------------------------------------


def test_row_at_a_time_writes_stay_bounded(tmp_path: Path) -> None:
    db = oxvec.connect(
        tmp_path, auto_compact_fragments=8, auto_cleanup_every=10, auto_cleanup_older_than=0
    )
    tbl = db.create_table("t", make_rows(1))
    rng = np.random.default_rng(0)
    for i in range(1, 120):
        tbl.add([{"id": i, "category": "a", "price": 1.0, "vector": rng.random(DIM).tolist()}])
    root = Path(tbl._inner.path)
    assert len(tbl) == 120 and ids_of(tbl) == list(range(120))
    assert len(list((root / "data").iterdir())) <= 2 * 8 + 2
    assert len(list((root / "versions").iterdir())) <= 2 * 10 + 2
    assert tbl.verify(deep=True).ok


def test_maintenance_defaults_are_documented() -> None:
    doc = oxvec.connect.__doc__ or ""
    for name in ("read_consistency_interval", "auto_compact_fragments", "auto_cleanup_every"):
        assert name in doc
