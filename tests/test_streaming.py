"""Scans as streams: batches read as they are asked for, with memory bounded by a batch."""

from __future__ import annotations

import numpy as np
import oxvec
import pyarrow as pa
import pytest


@pytest.fixture
def tbl(db):
    t = db.create_table(
        "t", [{"id": i, "kind": i % 5, "vector": [float(i), 1.0]} for i in range(3000)]
    )
    t.add([{"id": i, "kind": i % 5, "vector": [float(i), 1.0]} for i in range(3000, 5000)])
    t.delete("id % 11 = 0")
    return t


@pytest.mark.parametrize(
    "build",
    [
        lambda t: t.search(),
        lambda t: t.search().where("kind = 2"),
        lambda t: t.search().where("kind = ?", [3]).select(["id"]).with_row_id(),
        lambda t: t.search().offset(2990).limit(25),
        lambda t: t.search().where("id > 4990").offset(3),
        lambda t: t.search().where("id < 0"),
    ],
)
def test_batches_add_up_to_the_result(tbl, build) -> None:
    want = build(tbl).to_arrow()
    reader = build(tbl).to_batches(700)
    batches = list(reader)
    assert all(0 < b.num_rows <= 700 for b in batches)
    assert reader.schema == want.schema
    assert pa.Table.from_batches(batches, want.schema) == want


def test_scan_stream_is_indexed_like_a_scan(tbl) -> None:
    tbl.create_scalar_index("kind")
    got = pa.Table.from_batches(list(tbl.search().where("kind = 4").to_batches(100)))
    assert got == tbl.search().where("kind = 4").to_arrow()


def test_a_stream_reads_the_version_it_started_on(tbl) -> None:
    reader = tbl.to_batches(1000)
    first = reader.read_next_batch()
    tbl.delete("true")
    rest = reader.read_all()
    assert len(tbl) == 0
    assert first.num_rows + rest.num_rows == 5000 - 455


def test_a_native_stream_is_read_once(tbl) -> None:
    stream = tbl._inner.scan_stream()
    pa.RecordBatchReader.from_stream(stream).read_all()
    with pytest.raises(oxvec.InvalidInputError, match="read already"):
        stream.__arrow_c_stream__()


def test_batch_size_is_checked(tbl) -> None:
    for bad in [0, -1, 1.5, "10"]:
        with pytest.raises(oxvec.InvalidInputError, match="batch_size"):
            tbl.to_batches(bad)


def test_search_results_come_in_batches_too(tbl) -> None:
    reader = tbl.search([10.0, 1.0]).limit(25).to_batches(10)
    assert [b.num_rows for b in reader] == [10, 10, 5]


def test_polars_and_duckdb_read_the_table_as_a_stream(tbl) -> None:
    import duckdb
    import polars as pl

    assert pl.DataFrame(tbl).height == len(tbl)
    n = duckdb.sql("select count(*) from tbl where kind = 1").fetchall()[0][0]
    assert n == tbl.count_rows("kind = 1")


def _anon_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon")


def test_streaming_a_table_keeps_memory_near_one_batch(db) -> None:
    # 64 MiB of vectors in the data files; streamed with a filter that copies each batch.
    dim, n = 256, 65536
    rng = np.random.default_rng(0)
    t = db.create_table(
        "big", pa.table({"id": np.arange(n), "vector": list(rng.random((n, dim), dtype="float32"))})
    )
    del rng
    before = _anon_kib()
    peak = before
    rows = 0
    for batch in t.search().where("id % 2 = 0").to_batches(1024):
        rows += batch.num_rows
        peak = max(peak, _anon_kib())
    assert rows == n // 2
    table_kib = n * dim * 4 // 1024
    assert peak - before < table_kib // 4, (peak - before, table_kib)
