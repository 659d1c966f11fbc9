"""T3 on a real full filesystem: a 4 MiB tmpfs (needs root and mount rights; skipped with the
reason otherwise)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import oxvec
import pytest


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; not root here")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_keeps_the_table_and_recovers(small_fs: Path) -> None:
    db = oxvec.connect(small_fs / "db")
    rng = np.random.default_rng(0)
    tbl = db.create_table("t", [{"id": i, "vector": rng.random(64)} for i in range(100)])
    ballast = small_fs / "ballast"
    ballast.write_bytes(b"\0" * (1 << 20))
    added = 100
    with pytest.raises(oxvec.StorageError) as err:
        for _ in range(100):
            tbl.add([{"id": added + i, "vector": rng.random(64)} for i in range(2000)])
            added += 2000
    assert "No space left" in str(err.value) and str(small_fs) in str(err.value)
    version = tbl.version
    assert len(tbl) == added
    assert tbl.verify(deep=True).ok
    # Nothing of the failed write is left behind taking space.
    referenced = {p.name for p in (Path(tbl._inner.path) / "data").iterdir()}
    assert len(referenced) == version  # one fragment per committed write
    ballast.unlink()
    tbl.add([{"id": -1, "vector": rng.random(64)}])
    assert len(tbl) == added + 1 and tbl.version == version + 1
    assert tbl.verify(deep=True).ok
