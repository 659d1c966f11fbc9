from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import oxvec
import pyarrow as pa
import pytest

DIM = 16


@pytest.fixture
def db(tmp_path: Path) -> oxvec.Database:
    return oxvec.connect(tmp_path / "db")


def make_rows(n: int, start: int = 0, dim: int = DIM, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed + start)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    return [
        {
            "id": start + i,
            "category": ["alpha", "beta", "gamma"][(start + i) % 3],
            "price": float((start + i) % 50) + 0.5,
            "vector": vecs[i].tolist(),
        }
        for i in range(n)
    ]


def make_table(n: int, start: int = 0, dim: int = DIM, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed + start)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    ids = np.arange(start, start + n)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "category": pa.array([["alpha", "beta", "gamma"][i % 3] for i in ids]),
            "price": pa.array((ids % 50) + 0.5, pa.float64()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), dim),
        }
    )


def listing(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


def vectors_of(tbl: pa.Table, column: str = "vector") -> np.ndarray:
    col = tbl.column(column).combine_chunks()
    dim = col.type.list_size
    return np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(
        -1, dim
    )


def reference_search(
    data: np.ndarray, q: np.ndarray, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the k nearest rows, computed in float64 with numpy."""
    d64, q64 = data.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        dist = ((d64 - q64) ** 2).sum(axis=1)
    elif metric == "cosine":
        denom = np.linalg.norm(d64, axis=1) * np.linalg.norm(q64)
        dist = 1 - (d64 @ q64) / np.where(denom == 0, 1, denom)
    else:
        dist = 1 - d64 @ q64
    order = np.argsort(dist, kind="stable")[:k]
    return order, dist[order]
