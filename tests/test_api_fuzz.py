"""Arbitrary values thrown at every public parameter (Hypothesis): each call either returns
or raises an ``oxvec.OxvecError``, never another exception (``TypeError``, ``OverflowError``,
a pyo3 ``PanicException``), and a call that raised wrote nothing.

The short run is part of ``make test``; a long one is behind a flag:
``OXVEC_API_FUZZ_EXAMPLES=100000 pytest tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import datetime
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import oxvec
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("OXVEC_API_FUZZ_EXAMPLES", "300"))
DIM = 4

#: Values of every kind a caller might pass by mistake or malice.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, 1, -1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "id", "vector", "text", "cosine", "l2", "HNSW", "id > 1", "?", "'"]),
    # Lone surrogates: what Python makes of a non-UTF-8 file name.
    st.sampled_from(["\ud800", "t\udcff", "id > '\udfff'"]),
    st.binary(max_size=8),
    st.sampled_from(
        [datetime.timedelta(0), datetime.timedelta.max, datetime.date(2020, 1, 1), object()]
    ),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=5),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
    st.tuples(scalars, scalars),
    st.sampled_from([np.float32(1.5), np.int64(-3), np.array([1.0, 2.0]), np.zeros((2, 2))]),
)


def rows(start: int, n: int) -> pa.Table:
    rng = np.random.default_rng(start)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    return pa.table(
        {
            "id": pa.array(np.arange(start, start + n), pa.int64()),
            "text": pa.array([f"t{i}" for i in range(start, start + n)]),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), DIM),
        }
    )


Q = [0.5] * DIM

#: name -> call with the fuzzed value `v` in one parameter, the others valid.
OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "connect(read_consistency_interval)": lambda db, t, v: oxvec.connect(
        db.uri, read_consistency_interval=v
    ),
    "connect(auto_compact_fragments)": lambda db, t, v: oxvec.connect(
        db.uri, auto_compact_fragments=v
    ),
    "connect(auto_cleanup_every)": lambda db, t, v: oxvec.connect(db.uri, auto_cleanup_every=v),
    "connect(auto_cleanup_older_than)": lambda db, t, v: oxvec.connect(
        db.uri, auto_cleanup_older_than=v
    ),
    "connect(monitor_recall)": lambda db, t, v: oxvec.connect(db.uri, monitor_recall=v),
    "create_table(name)": lambda db, t, v: db.create_table(v, rows(0, 3)),
    "create_table(data)": lambda db, t, v: db.create_table("other", v),
    "create_table(schema)": lambda db, t, v: db.create_table("other", rows(0, 3), schema=v),
    "create_table(mode)": lambda db, t, v: db.create_table("t", rows(0, 3), mode=v),
    "open_table(name)": lambda db, t, v: db.open_table(v),
    "drop_table(name)": lambda db, t, v: (
        None if isinstance(v, str) and v == "t" else db.drop_table(v)
    ),
    "add(data)": lambda db, t, v: t.add(v),
    "delete(where)": lambda db, t, v: t.delete(v),
    "delete(params)": lambda db, t, v: t.delete("id = ?", params=v),
    "update(where)": lambda db, t, v: t.update(v, values={"text": "x"}),
    "update(values)": lambda db, t, v: t.update("id = 1", values=v),
    "update(values_sql)": lambda db, t, v: t.update("id = 1", values_sql=v),
    "count_rows(filter)": lambda db, t, v: t.count_rows(v),
    "head(n)": lambda db, t, v: t.head(v),
    "search(vector)": lambda db, t, v: t.search(v).to_list(),
    "search(vector_column)": lambda db, t, v: t.search(Q, vector_column=v).to_list(),
    "limit": lambda db, t, v: t.search(Q).limit(v).to_list(),
    "scan limit": lambda db, t, v: t.search().limit(v).to_list(),
    "where(sql)": lambda db, t, v: t.search(Q).where(v).to_list(),
    "where(params)": lambda db, t, v: t.search(Q).where("id > ?", v).to_list(),
    "select": lambda db, t, v: t.search(Q).select(v).to_list(),
    "metric": lambda db, t, v: t.search(Q).metric(v).to_list(),
    "ef": lambda db, t, v: t.search(Q).ef(v).to_list(),
    "nprobes": lambda db, t, v: t.search(Q).nprobes(v).to_list(),
    "refine_factor": lambda db, t, v: t.search(Q).refine_factor(v).to_list(),
    "target_recall": lambda db, t, v: t.search(Q).target_recall(v).to_list(),
    "with_row_id": lambda db, t, v: t.search(Q).with_row_id(v).to_list(),
    "explain": lambda db, t, v: t.search(v).explain(),
    "checkout(version)": lambda db, t, v: t.checkout(v),
    "restore(version)": lambda db, t, v: t.restore(v),
    "tags.create(name)": lambda db, t, v: t.tags.create(v, 1),
    "tags.create(version)": lambda db, t, v: t.tags.create("tag", v),
    "tags.delete(name)": lambda db, t, v: t.tags.delete(v),
    "cleanup_old_versions(older_than)": lambda db, t, v: t.cleanup_old_versions(older_than=v),
    "optimize(cleanup_older_than)": lambda db, t, v: t.optimize(cleanup_older_than=v),
    "verify(deep)": lambda db, t, v: t.verify(deep=v),
    "create_index(column)": lambda db, t, v: t.create_index(v, m=4),
    "create_index(index_type)": lambda db, t, v: t.create_index(index_type=v),
    "create_index(metric)": lambda db, t, v: t.create_index(metric=v, m=4),
    "create_index(m)": lambda db, t, v: t.create_index(m=v),
    "create_index(num_partitions)": lambda db, t, v: t.create_index(
        index_type="IVF_PQ", num_partitions=v
    ),
    "index_stats(name)": lambda db, t, v: t.index_stats(v),
    "drop_index(name)": lambda db, t, v: t.drop_index(v),
    "merge_insert(on)": lambda db, t, v: (
        t.merge_insert(v).when_not_matched_insert_all().execute(rows(100, 2))
    ),
    "merge_insert(condition)": lambda db, t, v: (
        t.merge_insert("id").when_matched_update_all(v).execute(rows(0, 2))
    ),
    "merge_insert(data)": lambda db, t, v: (
        t.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(v)
    ),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api_fuzz")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(op=st.sampled_from(sorted(OPS)), value=values, n=st.integers(0, 10**9))
def test_every_parameter_takes_anything_or_raises_an_oxvec_error(
    base: Path, op: str, value: Any, n: int
) -> None:
    db = oxvec.connect(base / f"db{n}")
    t = db.create_table("t", rows(0, 20), mode="overwrite")
    version, count = t.version, t.count_rows()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            OPS[op](db, t, value)
    except oxvec.OxvecError:
        t.checkout_latest()
        assert (t.version, t.count_rows()) == (version, count), f"{op}({value!r}) wrote"
    except BaseException as e:  # a PanicException is a BaseException
        pytest.fail(f"{op}({value!r}) raised {type(e).__module__}.{type(e).__name__}: {e}")
    t.checkout_latest()
    assert t.verify().ok
