"""The async API: generated from the sync one, off the event loop, cancellable."""

from __future__ import annotations

import asyncio
import inspect
import time

import numpy as np
import oxvec
import pytest
from oxvec import aio


def rows(n, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return [{"id": i, "vector": v[i]} for i in range(n)]


def test_every_sync_method_has_an_async_form():
    for sync, wrapped in [
        (oxvec.Database, aio.AsyncDatabase),
        (oxvec.Table, aio.AsyncTable),
        (oxvec.Query, aio.AsyncQuery),
        (oxvec.MergeInsertBuilder, aio.AsyncMergeInsertBuilder),
    ]:
        public = {n for n in dir(sync) if not n.startswith("_")}
        assert public <= set(dir(wrapped)), public - set(dir(wrapped))
    assert inspect.iscoroutinefunction(aio.AsyncTable.add)
    assert inspect.iscoroutinefunction(aio.AsyncQuery.to_arrow)
    assert not inspect.iscoroutinefunction(aio.AsyncTable.search)
    assert not inspect.iscoroutinefunction(aio.AsyncQuery.where)
    assert aio.AsyncTable.add.__doc__ == oxvec.Table.add.__doc__


async def test_the_surface_end_to_end(tmp_path):
    db = await oxvec.connect_async(str(tmp_path))
    tbl = await db.create_table("t", rows(100))
    assert isinstance(tbl, aio.AsyncTable) and tbl.name == "t"
    assert await db.table_names() == ["t"]
    assert await tbl.count_rows("id < 10") == 10
    q = tbl.search(rows(100)[5]["vector"]).where("id >= ?", [5]).limit(3)
    assert (await q.to_list())[0]["id"] == 5
    assert [b.num_rows async for b in tbl.search().where("id < 30").to_batches(20)] == [20, 10]
    res = await (
        tbl.merge_insert("id")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute(rows(105)[100:])
    )
    assert res.num_inserted_rows == 5
    await tbl.tags.create("v", tbl.version)
    assert list(await tbl.tags.list()) == ["v"]
    again = await db.open_table("t")
    assert await again.count_rows() == 105


@pytest.mark.filterwarnings("ignore:index 'vector_idx' reached at most")
async def test_a_long_call_leaves_the_event_loop_free(tmp_path):
    db = await oxvec.connect_async(str(tmp_path))
    tbl = await db.create_table("t", rows(20_000, dim=64))
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    t = asyncio.create_task(ticker())
    start = time.perf_counter()
    await tbl.create_index(
        index_type="IVF_PQ", num_partitions=16, num_sub_vectors=8, progress=False
    )
    took = time.perf_counter() - start
    t.cancel()
    assert ticks >= 0.3 * took / 0.01, f"{ticks} ticks in {took:.2f} s: the loop was blocked"


async def test_cancelling_the_task_stops_the_engine(tmp_path):
    db = await oxvec.connect_async(str(tmp_path))
    tbl = await db.create_table("t", rows(60_000, dim=64))
    version = tbl.version
    task = asyncio.create_task(tbl.create_index(index_type="HNSW", progress=False))
    await asyncio.sleep(0.3)
    start = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - start < 5, "the build went on after the cancel"
    assert await tbl.list_indices() == []
    assert (await db.open_table("t")).version == version
