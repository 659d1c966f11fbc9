"""Scalar indexes: every filtered read gives the scan's answer, faster where it can."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa
import pytest

N = 3000


def table(n: int, start: int = 0, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed + start)
    ids = np.arange(start, start + n)
    f = rng.normal(size=n)
    f[rng.random(n) < 0.02] = np.nan
    f[rng.random(n) < 0.02] = -0.0
    f32 = f.astype(np.float32)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "i32": pa.array(rng.integers(-50, 50, n), pa.int32(), mask=rng.random(n) < 0.05),
            "u64": pa.array(rng.integers(0, 2**63, n, dtype=np.uint64) * 2, pa.uint64()),
            "f": pa.array(f, pa.float64()),
            "f32": pa.array(f32, pa.float32()),
            "s": pa.array([f"k{v}" for v in rng.integers(0, 40, n)], mask=rng.random(n) < 0.05),
            "b": pa.array(rng.random(n) < 0.3),
            "d": pa.array(rng.integers(19000, 19100, n).astype("datetime64[D]")),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(rng.random(n * 4, dtype=np.float32)), 4
            ),
        }
    )


def predicates(rng: random.Random) -> list[str]:
    i = rng.randint(-55, 55)
    x = rng.choice([0.0, -0.0, 0.5, -1.25, rng.gauss(0, 1)])
    s = f"k{rng.randint(0, 42)}"
    return [
        f"i32 = {i}",
        f"i32 < {i}",
        f"i32 >= {i} AND i32 <= {i + 7}",
        f"{i} > i32",
        f"i32 BETWEEN {i} AND {i + 3}",
        f"i32 IN ({i}, {i + 1}, NULL)",
        "i32 IS NULL",
        f"i32 = {i}.0",
        f"i32 = {i}.5",
        f"f = {x}",
        f"f > {x}",
        f"f <= {x} OR f IS NULL",
        f"f32 = {x}",
        "f32 < 0.1",
        "f32 = 0.5",
        f"u64 > {rng.randint(0, 2**63)}",
        f"s = '{s}'",
        f"s >= '{s}' AND s < 'k3'",
        f"s IN ('{s}', 'k1')",
        "s IS NULL",
        "b = true",
        "NOT b",
        "d = DATE '2022-01-05'",
        "d > DATE '2022-02-01'",
        f"(i32 = {i} OR s = '{s}') AND id % 3 = 0",
        f"i32 = {i} AND s = '{s}'",
        f"i32 = {i} OR id < 100",
        f"i32 != {i}",
    ]


def answers(tbl: oxvec.Table, where: str) -> tuple[int, list[int]]:
    ids = tbl.search().where(where).select(["id"]).to_arrow()["id"].to_pylist()
    return tbl.count_rows(where), sorted(ids)


def content(tbl: oxvec.Table) -> list[str]:
    return sorted(repr(r) for r in tbl.to_arrow().to_pylist())


@pytest.mark.parametrize("kind", ["BTREE", "BITMAP"])
def test_indexed_filters_equal_the_scan(db: oxvec.Database, kind: str) -> None:
    plain = db.create_table(f"plain_{kind}", table(N))
    idx = db.create_table(f"idx_{kind}", table(N))
    for col in ["i32", "u64", "f", "f32", "s", "b", "d"]:
        assert idx.create_scalar_index(col, index_type=kind) == f"{col}_idx"
    rng = random.Random(kind)

    def same(step: str) -> None:
        for where in predicates(rng):
            assert answers(idx, where) == answers(plain, where), (step, where)

    same("built")
    # Rows added since the build, and deletions in both parts.
    for t in (plain, idx):
        t.add(table(500, start=N))
        t.delete("id % 7 = 0 OR id BETWEEN 3100 AND 3200")
    same("tail and deletions")
    assert (
        "filter index: scalar index 'i32_idx'" in idx.search([0.0] * 4).where("i32 = 3").explain()
    )
    # optimize folds the tail in and compacts (rows move).
    stats = idx.optimize()
    plain.optimize()
    assert stats["rows_indexed"] > 0
    same("optimized")
    # Updates and deletes through the index change the same rows.
    for t in (plain, idx):
        assert t.update("i32 = 5", values={"s": "updated"}) > 0
        t.delete("s = 'k7' OR f > 1.5")
    same("after writes")
    # A vector search filtered through the index finds what the scan finds.
    q = [0.5] * 4
    a = idx.search(q).where("s = 'k3'").limit(20).to_arrow()["id"].to_pylist()
    b = plain.search(q).where("s = 'k3'").limit(20).to_arrow()["id"].to_pylist()
    assert a == b
    assert idx.verify(deep=True).ok
    # Time travel: the first version's index answers for the first version.
    idx.checkout(8)
    plain.checkout(1)
    assert answers(idx, "i32 = 4") == answers(plain, "i32 = 4")
    idx.checkout_latest()
    plain.checkout_latest()
    idx.create_scalar_index("id", index_type=kind)
    # merge_insert keyed by an indexed column finds the rows the scan finds.
    for n, key in enumerate(["id", "s", "f", "f32", "u64", "d"]):
        src = table(300, start=N - 150, seed=n + 1)
        if key == "u64":  # some keys the table has
            src = src.set_column(2, "u64", plain.to_arrow()["u64"].slice(0, 300))
        seen: set[object] = set()
        keep = []
        for i, v in enumerate(src[key].to_pylist()):
            if v is None or (v not in seen and v == v):
                keep.append(i)
                seen.add(v)
        src = src.take(keep)
        for t in (plain, idx):
            t.merge_insert(key).when_matched_update_all().when_not_matched_insert_all().execute(src)
            t.add(table(50, start=10_000 + 100 * n, seed=n))  # a tail the index lacks
        assert content(idx) == content(plain), key
        assert answers(idx, "id >= 0") == answers(plain, "id >= 0"), key


def test_scalar_index_refusals_and_damage(db: oxvec.Database) -> None:
    t = db.create_table("t", table(200))
    v = t.version
    with pytest.raises(oxvec.InvalidInputError, match="scalar index holds"):
        t.create_scalar_index("vector")
    with pytest.raises(oxvec.InvalidInputError, match="no column named"):
        t.create_scalar_index("nope")
    with pytest.raises(oxvec.InvalidInputError, match="index_type"):
        t.create_scalar_index("id", index_type="HASH")
    with pytest.raises(oxvec.InvalidInputError):
        t.create_scalar_index(5)  # type: ignore[arg-type]
    assert t.version == v
    t.create_scalar_index("s")
    with pytest.raises(oxvec.InvalidInputError, match="exists"):
        t.create_scalar_index("s", replace=False)
    with pytest.raises(oxvec.InvalidInputError, match="already has scalar index"):
        t.create_scalar_index("s", name="other")
    want = answers(t, "s = 'k3'")
    # A damaged index narrows nothing: the filter is evaluated on every row.
    files = sorted(Path(t._inner.path).joinpath("indices").iterdir())
    data = bytearray(files[-1].read_bytes())
    data[-3] ^= 0xFF
    files[-1].write_bytes(bytes(data))
    fresh = oxvec.connect(Path(t._inner.path).parent).open_table("t")
    assert answers(fresh, "s = 'k3'") == want
    assert not fresh.verify(deep=True).ok
    fresh.create_scalar_index("s")  # replace repairs it (older versions keep the damage)
    assert answers(fresh, "s = 'k3'") == want
    assert "filter index" in fresh.search([0.0] * 4).where("s = 'k3'").explain()
    st = fresh.index_stats("s_idx")
    assert st["index_type"] == "BTREE" and st["num_indexed_rows"] == 200


def labelled(n: int, start: int = 0) -> pa.Table:
    rng = np.random.default_rng(start + 11)
    words = [f"t{i}" for i in range(30)]
    tags = [
        None if rng.random() < 0.05 else list(rng.choice(words, rng.integers(0, 5)))
        for _ in range(n)
    ]
    nums = [
        [int(x) for x in rng.integers(0, 20, rng.integers(0, 4))] + ([None] if i % 9 == 0 else [])
        for i in range(n)
    ]
    return pa.table(
        {
            "id": pa.array(np.arange(start, start + n), pa.int64()),
            "tags": pa.array(tags, pa.list_(pa.string())),
            "nums": pa.array(nums, pa.large_list(pa.int32())),
        }
    )


def test_label_list_index_answers_array_has_like_the_scan(db: oxvec.Database) -> None:
    plain = db.create_table("plain", labelled(2000))
    idx = db.create_table("idx", labelled(2000))
    assert idx.create_scalar_index("tags", index_type="label_list") == "tags_idx"
    idx.create_scalar_index("nums", index_type="LABEL_LIST")
    rng = random.Random(5)

    def preds() -> list[str]:
        out = []
        for _ in range(12):
            tags = ", ".join(f"'t{rng.randrange(32)}'" for _ in range(rng.randrange(0, 4)))
            nums = ", ".join(str(rng.randrange(22)) for _ in range(rng.randrange(1, 3)))
            fn = rng.choice(["array_has_any", "array_has_all"])
            out += [
                f"{fn}(tags, [{tags}])",
                f"{fn}(nums, [{nums}])",
                f"array_has(tags, 't{rng.randrange(30)}') AND id % 2 = 0",
                f"array_has_any(tags, ['t1']) OR array_has_all(nums, [{nums}])",
                f"NOT array_has_any(tags, [{tags or repr('t0')}])",
            ]
        return out

    def same(step: str) -> None:
        for where in preds():
            assert answers(idx, where) == answers(plain, where), (step, where)

    same("built")
    for t in (plain, idx):
        t.add(labelled(300, start=5000))
        t.delete("id % 5 = 0")
    same("tail and deletions")
    idx.optimize()
    plain.optimize()
    same("optimized")
    assert idx.verify(deep=True).ok
    with pytest.raises(oxvec.InvalidInputError, match="LABEL_LIST"):
        idx.create_scalar_index("tags", index_type="BTREE", name="other")
    with pytest.raises(oxvec.InvalidInputError, match="lists of"):
        idx.create_scalar_index("id", index_type="LABEL_LIST", name="other")
    with pytest.raises(oxvec.FilterError, match="cannot compare"):
        idx.count_rows("array_has_any(tags, [1])")
    with pytest.raises(oxvec.FilterError, match="list column"):
        idx.count_rows("array_has_any(id, [1])")
    with pytest.raises(oxvec.FilterError, match="constants"):
        idx.count_rows("array_has_any(tags, [id])")


def test_indexed_merges_equal_scanned_merges_in_every_mode(db: oxvec.Database) -> None:
    # Each mode of merge_insert, keyed by an indexed column and by the same column without
    # an index: the same counts and the same rows. Float keys hold -0.0 beside 0.0 and NaN
    # (distinct keys to the merge, one key to the index); string keys repeat in the table
    # (a matched key replaces every row holding it).
    modes = {
        "upsert": lambda m: m.when_matched_update_all().when_not_matched_insert_all(),
        "update": lambda m: m.when_matched_update_all(),
        "insert": lambda m: m.when_not_matched_insert_all(),
        "conditional": lambda m: m.when_matched_update_all(
            where="source.i32 > target.i32"
        ).when_not_matched_insert_all(),
    }
    for key in ["id", "s", "f"]:
        for n, (mode, how) in enumerate(modes.items()):
            base = table(400, seed=n)
            base = base.set_column(
                3, "f", pa.array([0.0, -0.0, np.nan] + [float(i) for i in range(397)])
            )
            plain = db.create_table(f"p_{key}_{mode}", base)
            idx = db.create_table(f"i_{key}_{mode}", base)
            idx.create_scalar_index(key)
            for t in (plain, idx):
                t.delete("id % 5 = 0")  # deleted rows never match
                t.add(table(30, start=5000, seed=n))  # a tail the index lacks
            src = table(60, start=380, seed=n + 7)
            src = src.set_column(
                3, "f", pa.array([-0.0, 0.0, np.nan] + [float(i) for i in range(3, 117, 2)])
            )
            if key == "s":  # keys unique in the source, some held by many table rows
                src = src.set_column(5, "s", pa.array([f"k{i}" for i in range(60)]))
            before = plain.count_rows()
            got = [how(t.merge_insert(key)).execute(src) for t in (plain, idx)]
            assert got[0][:3] == got[1][:3], (key, mode)
            # Updates replace rows one for one (a key held by ten rows keeps ten).
            assert plain.count_rows() == before + got[0].num_inserted_rows, (key, mode)
            if key == "s" and mode != "insert":
                assert got[0].num_updated_rows > 60, mode
            assert content(idx) == content(plain), (key, mode)
            # A key twice in the source is refused alike (same rows named), writing nothing.
            twice = src.take([0, 1, 2, 3, 4, 2, 1])
            errors = []
            for t in (plain, idx):
                v = t.version
                with pytest.raises(oxvec.InvalidInputError, match="same key") as e:
                    how(t.merge_insert(key)).execute(twice)
                assert t.version == v
                errors.append(str(e.value))
            assert errors[0] == errors[1]
            assert "rows 2 and 5" in errors[0]


def test_a_merge_through_an_index_alone_refuses_repeated_keys(db: oxvec.Database) -> None:
    # The index covers every row (no tail), so the merge reads no fragment: repeated source
    # keys are caught by the index lookup itself. Strings all of one length make a
    # fixed-width index; a repeated key of another length must be caught too.
    codes = [f"{i:04d}" for i in range(200)]
    t = db.create_table("codes", pa.table({"code": codes, "n": pa.array(range(200), pa.int64())}))
    t.create_scalar_index("code")
    t.create_scalar_index("n")
    root = Path(t._inner.path)

    def files() -> list[str]:
        return sorted(p.name for d in ("data", "deletions") for p in (root / d).glob("*"))

    upsert = lambda on: t.merge_insert(on).when_matched_update_all().when_not_matched_insert_all()  # noqa: E731
    for on, src, rows in [
        ("code", {"code": ["0001", "12345", "0002", "12345"], "n": [1, 2, 3, 4]}, (1, 3)),
        ("code", {"code": ["0001", "0002", "x", "0002"], "n": [1, 2, 3, 4]}, (1, 3)),
        ("n", {"code": ["a", "b", "c", "d"], "n": [7, 900, 8, 900]}, (1, 3)),
    ]:
        v, before = t.version, files()
        with pytest.raises(oxvec.InvalidInputError, match=f"rows {rows[0]} and {rows[1]}"):
            upsert(on).execute(pa.table({"code": src["code"], "n": pa.array(src["n"], pa.int64())}))
        assert (t.version, files()) == (v, before), (on, src)
    # The same keys, distinct: merged, each once.
    res = upsert("code").execute(
        pa.table({"code": ["0001", "12345", "x"], "n": pa.array([-1, -2, -3], pa.int64())})
    )
    assert (res.num_updated_rows, res.num_inserted_rows) == (1, 2)
    assert t.count_rows("code = '0001' AND n = -1") == 1
    assert t.count_rows() == 202
