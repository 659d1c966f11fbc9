"""T8: a Hypothesis state machine against an in-memory model.

Operations: add, upsert, delete, update, create index, optimize, cleanup, reopen (in this
process and in a new one), checkout of an older version, restore. After every step: the row
count, no duplicate keys, every field as modelled, every live row found by exact and by
indexed search with its own vector, and no deleted row ever returned.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import hypothesis.strategies as st
import numpy as np
import oxvec
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

DIM = 4


def vec(i: int) -> list[float]:
    return np.random.default_rng(i).random(DIM).tolist()


def rows(model_items: list[tuple[int, int]]) -> list[dict]:
    return [{"id": i, "val": v, "vector": vec(i)} for i, v in model_items]


READ_ELSEWHERE = """
import json, sys, oxvec
t = oxvec.connect(sys.argv[1]).open_table("t")
a = t.to_arrow()
print(json.dumps(sorted(zip(a["id"].to_pylist(), a["val"].to_pylist()))))
"""

keys = st.integers(0, 60)


class TableModel(RuleBasedStateMachine):
    @initialize(first=st.dictionaries(keys, st.integers(-5, 5), min_size=1, max_size=10))
    def create(self, first: dict[int, int]) -> None:
        self.path = tempfile.mkdtemp()
        self.db = oxvec.connect(self.path)
        self.tbl = self.db.create_table("t", rows(sorted(first.items())))
        self.model = dict(first)
        self.history = {self.tbl.version: dict(first)}

    def committed(self) -> None:
        self.history[self.tbl.version] = dict(self.model)

    @rule(new=st.dictionaries(keys, st.integers(-5, 5), min_size=1, max_size=8))
    def add(self, new: dict[int, int]) -> None:
        fresh = {k: v for k, v in new.items() if k not in self.model}
        if fresh:
            self.tbl.add(rows(sorted(fresh.items())))
            self.model.update(fresh)
            self.committed()

    @rule(src=st.dictionaries(keys, st.integers(-5, 5), min_size=1, max_size=8))
    def upsert(self, src: dict[int, int]) -> None:
        res = (
            self.tbl.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(rows(sorted(src.items())))
        )
        assert res.num_updated_rows == sum(k in self.model for k in src)
        assert res.num_inserted_rows == sum(k not in self.model for k in src)
        self.model.update(src)
        self.committed()

    @rule(lo=keys, width=st.integers(0, 15))
    def delete(self, lo: int, width: int) -> None:
        n = self.tbl.delete("id >= ? AND id < ?", [lo, lo + width])
        gone = [k for k in self.model if lo <= k < lo + width]
        assert n == len(gone)
        for k in gone:
            del self.model[k]
        if n:
            self.committed()

    @rule(mod=st.integers(2, 5), rem=st.integers(0, 4))
    def update(self, mod: int, rem: int) -> None:
        n = self.tbl.update("id % ? = ?", values_sql={"val": "val * 2 + 1"}, params=[mod, rem])
        hit = [k for k in self.model if k % mod == rem]
        assert n == len(hit)
        for k in hit:
            self.model[k] = self.model[k] * 2 + 1
        if n:
            self.committed()

    @precondition(lambda self: len(self.model) >= 2)
    @rule(kind=st.sampled_from(["HNSW", "IVF_PQ"]))
    def index(self, kind: str) -> None:
        params = {"num_partitions": 2, "num_sub_vectors": 2} if kind == "IVF_PQ" else {}
        self.tbl.create_index(index_type=kind, metric="l2", progress=False, **params)
        self.committed()

    @rule()
    def optimize(self) -> None:
        self.tbl.optimize(progress=False)
        self.committed()

    @rule()
    def cleanup(self) -> None:
        self.tbl.cleanup_old_versions(older_than=0)
        kept = {v["version"] for v in self.tbl.list_versions()}
        self.history = {v: m for v, m in self.history.items() if v in kept}

    @rule()
    def reopen(self) -> None:
        self.tbl = oxvec.connect(self.path).open_table("t")

    @rule()
    def read_in_new_process(self) -> None:
        out = subprocess.run(
            [sys.executable, "-c", READ_ELSEWHERE, self.path],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert [tuple(p) for p in json.loads(out)] == sorted(self.model.items())

    @rule(data=st.data())
    def checkout_and_restore(self, data: st.DataObject) -> None:
        v = data.draw(st.sampled_from(sorted(self.history)))
        self.tbl.checkout(v)
        assert self.read() == self.history[v]
        if data.draw(st.booleans()):
            self.tbl.restore()
            self.model = dict(self.history[v])
            self.committed()
        else:
            self.tbl.checkout_latest()

    def read(self) -> dict[int, int]:
        a = self.tbl.to_arrow()
        ids = a["id"].to_pylist()
        assert len(ids) == len(set(ids)), "duplicate keys"
        return dict(zip(ids, a["val"].to_pylist()))

    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "tbl"):
            return
        assert len(self.tbl) == len(self.model)
        assert self.read() == self.model
        for k in list(self.model)[:8]:
            for q in (self.tbl.search(vec(k)), self.tbl.search(vec(k)).bypass_vector_index()):
                hits = q.metric("l2").limit(3).to_list()
                assert hits[0]["id"] == k and hits[0]["val"] == self.model[k]
                assert all(h["id"] in self.model for h in hits), "a deleted row came back"


TableModel.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_table_model = TableModel.TestCase
