"""Ctrl-C during a long write raises KeyboardInterrupt and commits nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_ctrl_c_during_add_commits_nothing(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        import numpy as np, pyarrow as pa
        import oxvec

        db = oxvec.connect(sys.argv[1])
        t = db.create_table("t", [{"id": 0, "v": [0.0, 1.0]}])

        def batches():
            for i in range(1000):
                if i == 5:
                    os.kill(os.getpid(), signal.SIGINT)
                if i >= 5:
                    time.sleep(0.05)
                yield pa.record_batch({"id": pa.array([i + 1]), "v": pa.array([[1.0, 2.0]])})

        try:
            t.add(batches())
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted", t.version, len(t))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "interrupted 1 1", out.stderr
    data_files = list((tmp_path / "t.oxvec" / "data").iterdir())
    assert len(data_files) == 1  # only the create's fragment; the interrupted one was removed
