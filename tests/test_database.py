from __future__ import annotations

import os
from pathlib import Path

import oxvec
import pytest
from conftest import listing, make_rows, make_table


def test_connect_creates_directory(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    db = oxvec.connect(target)
    assert target.is_dir()
    assert db.table_names() == []
    assert db.uri == str(target.resolve())
    assert oxvec.connect(str(target)).uri == db.uri
    assert oxvec.connect(f"file://{target}").uri == db.uri


def test_connect_rejects_remote_uris() -> None:
    with pytest.raises(oxvec.InvalidInputError, match="s3://"):
        oxvec.connect("s3://bucket/x")


def test_create_open_list_contains_drop(db: oxvec.Database) -> None:
    t = db.create_table("docs", make_rows(10))
    assert t.name == "docs" and t.version == 1 and len(t) == 10
    db.create_table("other", make_table(3))
    assert db.table_names() == ["docs", "other"]
    assert "docs" in db and "nope" not in db and 3 not in db
    again = db.open_table("docs")
    assert len(again) == 10 and again.schema == t.schema
    db.drop_table("docs")
    assert db.table_names() == ["other"]
    with pytest.raises(oxvec.TableNotFoundError):
        db.open_table("docs")
    with pytest.raises(KeyError):
        db.drop_table("docs")


def test_database_reads_like_a_mapping_of_names_to_tables(db: oxvec.Database) -> None:
    assert len(db) == 0 and list(db) == []
    db.create_table("b", make_rows(2))
    db.create_table("a", make_rows(3))
    assert len(db) == 2 and list(db) == ["a", "b"] and sorted(db) == ["a", "b"]
    assert db["a"].count_rows() == 3 and db["b"].name == "b"
    with pytest.raises(KeyError):
        db["missing"]
    with pytest.raises(oxvec.TableNotFoundError, match="missing"):
        db["missing"]
    with pytest.raises(oxvec.InvalidInputError):
        db[3]  # type: ignore[index]
    with pytest.raises(oxvec.InvalidInputError, match="invalid table name"):
        db["../a"]


def test_drop_table_ignore_missing_and_drop_all(db: oxvec.Database, tmp_path: Path) -> None:
    t = db.create_table("t", make_rows(4))
    db.drop_table("t")
    db.drop_table("t", ignore_missing=True)
    with pytest.raises(oxvec.TableNotFoundError):
        db.drop_table("t", ignore_missing=False)
    with pytest.raises(oxvec.InvalidInputError, match="ignore_missing"):
        db.drop_table("t", ignore_missing="yes")  # type: ignore[arg-type]
    # An invalid name is not a missing table: still refused.
    with pytest.raises(oxvec.InvalidInputError, match="invalid table name"):
        db.drop_table("../t", ignore_missing=True)
    # A handle open on the dropped table says so instead of reading stale files.
    with pytest.raises(oxvec.TableNotFoundError):
        t.count_rows()
    for name in ["a", "b", "c"]:
        db.create_table(name, make_rows(1))
    db.drop_all_tables()
    assert len(db) == 0
    # Nothing is left in the database directory, hidden or not.
    assert listing(Path(db.uri)) == []
    db.drop_all_tables()


def test_create_existing(db: oxvec.Database) -> None:
    db.create_table("t", make_rows(5))
    with pytest.raises(oxvec.TableExistsError, match="'t' already exists"):
        db.create_table("t", make_rows(5))
    t = db.create_table("t", make_rows(7), exist_ok=True)
    assert len(t) == 5
    t = db.create_table("t", make_rows(7), mode="overwrite")
    assert len(t) == 7 and t.version == 2
    assert [v["operation"] for v in t.list_versions()] == ["create", "overwrite"]
    t.checkout(1)
    assert len(t) == 5
    with pytest.raises(ValueError, match="mode"):
        db.create_table("t", make_rows(1), mode="append")  # type: ignore[arg-type]


def test_create_from_schema_only(db: oxvec.Database) -> None:
    import pyarrow as pa

    schema = pa.schema([pa.field("id", pa.int64()), pa.field("v", pa.list_(pa.float32(), 4))])
    t = db.create_table("empty", schema=schema)
    assert len(t) == 0 and t.schema == schema
    assert t.search([0, 0, 0, 1]).to_arrow().num_rows == 0
    t.add([{"id": 1, "v": [0, 0, 0, 1]}])
    assert t.search([0, 0, 0, 1]).to_list()[0]["id"] == 1


def test_create_needs_data_or_schema(db: oxvec.Database) -> None:
    with pytest.raises(oxvec.SchemaError, match="data or a schema"):
        db.create_table("t")


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../evil", "/abs", "a/b", "a\\b", ".hidden", "-dash", "x" * 129, "sp ace", "é"],
)
def test_invalid_table_names_touch_nothing(db: oxvec.Database, tmp_path: Path, name: str) -> None:
    before = listing(tmp_path)
    with pytest.raises(oxvec.InvalidInputError, match="invalid table name"):
        db.create_table(name, make_rows(2))
    with pytest.raises(ValueError):
        db.open_table(name)
    assert listing(tmp_path) == before


def test_symlinked_table_is_refused(db: oxvec.Database, tmp_path: Path) -> None:
    outside = oxvec.connect(tmp_path / "outside")
    outside.create_table("t", make_rows(2))
    (Path(db.uri) / "t.oxvec").symlink_to(Path(outside.uri) / "t.oxvec")
    with pytest.raises(oxvec.InvalidInputError, match="symbolic link"):
        db.open_table("t")
    with pytest.raises(oxvec.InvalidInputError, match="symbolic link"):
        db.drop_table("t")
    assert len(outside.open_table("t")) == 2


def test_error_hierarchy() -> None:
    assert issubclass(oxvec.TableNotFoundError, KeyError)
    for cls in (
        oxvec.TableExistsError,
        oxvec.SchemaError,
        oxvec.InvalidInputError,
        oxvec.FilterError,
    ):
        assert issubclass(cls, ValueError)
    assert issubclass(oxvec.StorageError, OSError)
    for cls in (
        oxvec.TableNotFoundError,
        oxvec.TableExistsError,
        oxvec.SchemaError,
        oxvec.InvalidInputError,
        oxvec.FilterError,
        oxvec.CommitConflictError,
        oxvec.CorruptFileError,
        oxvec.StorageError,
    ):
        assert issubclass(cls, oxvec.OxvecError)


def test_memory_databases_are_separate_and_gone_at_exit(tmp_path) -> None:
    import subprocess
    import sys

    a, b = oxvec.connect("memory://"), oxvec.connect("memory://")
    a.create_table("t", [{"x": 1}])
    assert a.table_names() == ["t"] and b.table_names() == []
    a["t"].add([{"x": 2}])
    assert a["t"].to_arrow()["x"].to_pylist() == [1, 2]
    with pytest.raises(oxvec.InvalidInputError, match="memory://"):
        oxvec.connect("memory://name")
    script = (
        "import oxvec; db = oxvec.connect('memory://'); "
        "db.create_table('t', [{'x': 1}]); print(db.uri)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert not os.path.exists(out.stdout.strip())


def test_rename_table(db: oxvec.Database) -> None:
    t = db.create_table("a", make_rows(5))
    db.create_table("b", make_rows(2))
    with pytest.raises(oxvec.TableExistsError):
        db.rename_table("a", "b")
    with pytest.raises(oxvec.TableNotFoundError):
        db.rename_table("nope", "c")
    for bad in ["", "../x", "a/b", 3, None]:
        with pytest.raises(oxvec.InvalidInputError):
            db.rename_table("a", bad)
    db.rename_table("a", "c")
    assert db.table_names() == ["b", "c"] and len(db["c"]) == 5
    with pytest.raises(oxvec.TableNotFoundError):
        t.search().to_arrow()
    with pytest.raises(oxvec.TableNotFoundError):
        t.add(make_rows(1))
    db["c"].add(make_rows(1, start=100))
    assert len(oxvec.connect(db.uri)["c"]) == 6


def test_two_renames_to_one_name_one_wins(db: oxvec.Database) -> None:
    import threading

    for _ in range(10):
        for n in ("x", "y"):
            db.create_table(n, make_rows(1))
        errors: list[Exception] = []

        def move(name: str, errors: list[Exception] = errors) -> None:
            try:
                db.rename_table(name, "z")
            except oxvec.TableExistsError as e:
                errors.append(e)

        threads = [threading.Thread(target=move, args=(n,)) for n in ("x", "y")]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(errors) == 1 and len(db.table_names()) == 2
        db.drop_all_tables()
