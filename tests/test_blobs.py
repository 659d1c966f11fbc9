"""Binary columns read lazily through file-like handles."""

from __future__ import annotations

import io

import numpy as np
import oxvec
import pytest


@pytest.fixture
def tbl(tmp_path):
    rows = [
        {"id": i, "data": bytes([i]) * (1000 * (i + 1)), "vector": [float(i), 0.0]}
        for i in range(5)
    ]
    rows.append({"id": 9, "data": None, "vector": [9.0, 0.0]})
    return oxvec.connect(tmp_path).create_table("t", rows)


def test_handles_read_seek_and_size(tbl):
    (h,) = tbl.search().where("id = 2").to_blobs("data")
    assert h.size == 3000
    assert h.read(2) == b"\x02\x02"
    assert h.tell() == 2
    h.seek(-1, io.SEEK_END)
    assert h.read() == b"\x02"
    h.seek(0)
    assert io.BufferedReader(h).read() == bytes([2]) * 3000
    (null,) = tbl.search().where("id = 9").to_blobs("data")
    assert null.read() == b""
    h.close()
    with pytest.raises(ValueError, match="closed"):
        h.read()


def test_vector_search_and_take(tbl):
    handles = tbl.search(np.array([3.1, 0.0])).limit(2).to_blobs("data")
    assert [h.read(1) for h in handles] == [b"\x03", b"\x04"]
    ids = tbl.search().with_row_id().to_arrow()["_rowid"].to_pylist()
    assert [len(h.read()) for h in tbl.take_blobs(ids[:2], "data")] == [1000, 2000]


def test_wrong_columns_are_refused(tbl):
    with pytest.raises(oxvec.InvalidInputError, match="not binary"):
        tbl.search().to_blobs("id")
    with pytest.raises(oxvec.InvalidInputError, match="unknown column"):
        tbl.take_blobs([0], "nope")
