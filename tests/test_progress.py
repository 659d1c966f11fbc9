"""Progress bars through tqdm, fed by the engine's counters; switches; the oxvec logger."""

from __future__ import annotations

import logging

import numpy as np
import oxvec
import pytest
from oxvec import _progress


@pytest.fixture
def tbl(db):
    vecs = np.random.default_rng(0).random((3000, 16), dtype="float32")
    return db.create_table(
        "t", [{"id": i, "text": f"w{i % 7}", "vector": v} for i, v in enumerate(vecs)]
    )


def test_bars_reach_their_total_and_close(tbl, capsys) -> None:
    tbl.create_index(metric="l2", m=8, progress=True)
    err = capsys.readouterr().err
    assert "HNSW index" in err and "3000/3000" in err
    tbl.create_scalar_index("id", progress=True)
    tbl.create_fts_index("text", progress=True)
    tbl.add([{"id": 5000, "text": "x", "vector": np.zeros(16)}])
    tbl.optimize(progress=True)
    err = capsys.readouterr().err
    for label in ("BTREE index on id", "full-text index on text", "optimize"):
        assert label in err


def test_progress_false_and_the_environment_switch_draw_nothing(tbl, capsys, monkeypatch) -> None:
    tbl.create_scalar_index("id", progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.setenv("OXVEC_PROGRESS", "0")
    assert not _progress.wanted(None)
    monkeypatch.setenv("OXVEC_PROGRESS", "1")
    assert _progress.wanted(None)
    with pytest.raises(oxvec.InvalidInputError, match="progress"):
        tbl.create_scalar_index("id", progress="yes")


def test_long_operations_log_to_the_oxvec_logger(tbl, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="oxvec"):
        tbl.create_index(metric="l2", m=8, progress=False)
        tbl.optimize(progress=False)
    messages = [r.getMessage() for r in caplog.records if r.name == "oxvec"]
    assert any("built HNSW index vector_idx" in m for m in messages)
    assert any("optimize indexed" in m for m in messages)


def test_counted_reader_draws_rows_as_the_engine_reads_them(tmp_path, capsys):
    import pyarrow as pa

    data = pa.table({"id": list(range(5000))})
    reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=1000))
    counted = _progress.counted(reader, "importing x", data.num_rows, progress=True)
    tbl = oxvec.connect(tmp_path).create_table("t", counted)
    assert len(tbl) == 5000
    err = capsys.readouterr().err
    assert "importing x" in err and "5.00k/5.00k" in err
    quiet = pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
    assert _progress.counted(quiet, "x", 5, progress=False) is quiet


def test_a_large_add_draws_its_rows(tmp_path, capsys):
    import pyarrow as pa

    tbl = oxvec.connect(tmp_path).create_table("t", [{"id": -1}])
    tbl.add(pa.table({"id": list(range(150_000))}), progress=True)
    assert "adding to t" in capsys.readouterr().err
    tbl.add(pa.table({"id": [1, 2]}), progress=True)  # small: no bar
    tbl.add(pa.table({"id": list(range(150_000))}), progress=False)
    assert "adding" not in capsys.readouterr().err
    assert len(tbl) == 300_003
