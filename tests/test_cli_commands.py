"""The database commands of ``oxvec``: info, versions, tags, verify, optimize, import,
export, query; human tables and --json; a folder that is not a database is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from oxvec.cli import main


@pytest.fixture
def dbdir(tmp_path: Path) -> Path:
    db = oxvec.connect(tmp_path / "db")
    t = db.create_table(
        "docs", [{"id": i, "text": f"doc {i}", "vector": [float(i), 1.0]} for i in range(30)]
    )
    t.create_scalar_index("id")
    t.tags.create("first", 1)
    t.delete("id = 0")
    return tmp_path / "db"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_info_shows_indexes_tags_and_sizes(dbdir, capsys) -> None:
    code, out, _ = run(capsys, "info", str(dbdir))
    assert code == 0
    assert "table docs: version 3, 29 rows, 3 versions" in out
    assert "index id_idx: BTREE on id" in out and "tag first: version 1" in out
    code, out, _ = run(capsys, "info", str(dbdir), "--json")
    data = json.loads(out)
    assert data["tables"][0]["stats"]["num_rows"] == 29
    assert data["tables"][0]["tags"]["first"]["version"] == 1


def test_info_refuses_what_is_not_a_database(tmp_path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    for path in [tmp_path, tmp_path / "missing", tmp_path / "notes.txt"]:
        code, out, err = run(capsys, "info", str(path))
        assert code == 2 and out == ""
        assert "not an oxvec database" in err or "not a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_versions_tags_verify_optimize(dbdir, capsys) -> None:
    code, out, _ = run(capsys, "versions", str(dbdir), "docs", "--json")
    assert [v["operation"] for v in json.loads(out)] == ["create", "create_index", "delete"]
    code, out, _ = run(capsys, "tags", str(dbdir), "docs")
    assert out.startswith("first: version 1")
    code, out, _ = run(capsys, "verify", str(dbdir), "--deep")
    assert code == 0 and "docs: ok" in out
    code, out, _ = run(capsys, "optimize", str(dbdir), "docs", "--json")
    assert code == 0 and "fragments_removed" in json.loads(out)
    code, _, err = run(capsys, "versions", str(dbdir), "nope")
    assert code == 2 and "no table 'nope'" in err


def test_verify_fails_on_a_damaged_file(dbdir, capsys) -> None:
    data = next((dbdir / "docs.oxvec" / "data").iterdir())
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    code, out, _ = run(capsys, "verify", str(dbdir), "docs", "--deep")
    assert code == 1 and "PROBLEMS" in out


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".jsonl"])
def test_export_then_import_round_trips(dbdir, tmp_path, capsys, ext) -> None:
    out_file = tmp_path / f"out{ext}"
    if ext == ".csv":
        where = ["--where", "id < 5"]
        code, _, _ = run(capsys, "query", str(dbdir), "docs", "--json")  # warm
        # CSV holds no lists: export the scalar columns through a table without vectors.
        db = oxvec.connect(dbdir)
        db.create_table("flat", db["docs"].search().select(["id", "text"]).to_arrow())
        code, _, err = run(capsys, "export", str(dbdir), "flat", str(out_file), *where)
    else:
        code, _, err = run(capsys, "export", str(dbdir), "docs", str(out_file), "--where", "id < 5")
    assert code == 0 and "4 rows written" in err
    code, out, _ = run(capsys, "import", str(dbdir), "copy", str(out_file), "--json")
    assert code == 0 and json.loads(out)["rows"] == 4
    code, _, err = run(capsys, "import", str(dbdir), "copy", str(out_file))
    assert code == 2 and "--mode append" in err
    code, out, _ = run(capsys, "import", str(dbdir), "copy", str(out_file), "--mode", "append")
    assert code == 0 and "8 rows" in out
    assert sorted(oxvec.connect(dbdir)["copy"].to_arrow()["id"].to_pylist()) == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]


def test_import_checks_the_file(dbdir, tmp_path, capsys) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_text("")
    code, _, err = run(capsys, "import", str(dbdir), "t", str(bad))
    assert code == 2 and "format" in err
    code, _, err = run(capsys, "import", str(dbdir), "t", str(tmp_path / "none.parquet"))
    assert code == 2 and "not a file" in err
    pq.write_table(pa.table({"_distance": [1.0]}), tmp_path / "r.parquet")
    code, _, err = run(capsys, "import", str(dbdir), "t", str(tmp_path / "r.parquet"))
    assert code == 2 and "reserved" in err
    assert "t" not in oxvec.connect(dbdir)


def test_query_scan_vector_and_text(dbdir, tmp_path, capsys) -> None:
    code, out, _ = run(
        capsys, "query", str(dbdir), "docs", "--where", "id < 3", "--select", "id", "text"
    )
    assert (
        code == 0 and out.splitlines()[0].split() == ["id", "text"] and len(out.splitlines()) == 3
    )
    np.save(tmp_path / "q.npy", np.array([5.0, 1.0], dtype="float32"))
    code, out, _ = run(
        capsys,
        "query",
        str(dbdir),
        "docs",
        "--vector",
        str(tmp_path / "q.npy"),
        "--limit",
        "1",
        "--json",
    )
    assert json.loads(out)[0]["id"] == 5
    code, out, _ = run(capsys, "query", str(dbdir), "docs", "--vector", "[7, 1]", "--limit", "2")
    assert "not shown" in out and out.splitlines()[1].split()[0] == "7"
    oxvec.connect(dbdir)["docs"].create_fts_index("text")
    code, out, _ = run(
        capsys, "query", str(dbdir), "docs", "--text", "doc", "--limit", "3", "--json"
    )
    assert len(json.loads(out)) == 3
    code, _, err = run(capsys, "query", str(dbdir), "docs", "--where", "nope = 1")
    assert code == 2 and "nope" in err


def test_version_flag_and_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "oxvec", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(f"oxvec {oxvec.__version__}")
