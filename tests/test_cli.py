from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import oxvec
from conftest import make_rows
from oxvec.cli import main


def test_demo_runs_and_keeps_database(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--path", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    for part in [
        "Dataset:",
        "create_table:",
        "Vector search",
        "Filtered search",
        "Batched exact search",
        "ANN index",
        "restore(1)",
        "table stdlib",
    ]:
        assert part in out
    t = oxvec.connect(tmp_path / "demo").open_table("stdlib")
    assert len(t) > 1000 and t.version == 5


def test_info(tmp_path: Path, capsys) -> None:
    db = oxvec.connect(tmp_path)
    db.create_table("docs", make_rows(7)).delete("id = 0")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "table docs: version 2, 6 rows, 2 versions" in out
    assert "vector: fixed_size_list<item: float>[16]" in out
    assert main(["info", str(tmp_path / "missing")]) == 2


def test_console_script_is_installed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "oxvec.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in out.stdout and "info" in out.stdout
