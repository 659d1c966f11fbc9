"""Benchmark datasets, built offline and cached under benchmarks/data/ (git-ignored).

- ``synthetic(n, dim)``: seeded standard-normal float32 vectors (L2).
- ``docs_minilm(n)``: real 384-d all-MiniLM-L6-v2 embeddings (cosine) of ``n`` distinct
  sentences taken from the docstrings of the Python packages installed in this environment
  (pandas, numpy, pyarrow, polars, ...), parsed with ``ast`` (nothing is imported).
"""

from __future__ import annotations

import ast
import re
import sysconfig
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def synthetic(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dim), dtype=np.float32)


def doc_sentences(limit: int) -> list[str]:
    """Distinct prose sentences (30-300 chars) from installed packages' docstrings."""
    site = Path(sysconfig.get_paths()["purelib"])
    seen: set[str] = set()
    out: list[str] = []
    for path in sorted(site.rglob("*.py")):
        if "/tests/" in str(path) or "/test_" in str(path):
            continue
        try:
            tree = ast.parse(path.read_text(errors="ignore"))
        except (SyntaxError, ValueError, RecursionError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            for para in doc.split("\n\n"):
                para = " ".join(para.split())
                if para.startswith((">>>", "..", "-", "=", ":", "|")):
                    continue
                for s in _SENTENCE.split(para):
                    if 30 <= len(s) <= 300 and s[0].isalpha() and s not in seen:
                        seen.add(s)
                        out.append(s)
                        if len(out) >= limit:
                            return out
    return out


def docs_minilm(n: int) -> tuple[np.ndarray, list[str]]:
    """``n`` real sentence embeddings and their sentences, cached after the first build."""
    DATA.mkdir(exist_ok=True)
    vec_path = DATA / f"docs_minilm_{n}.npy"
    txt_path = DATA / f"docs_minilm_{n}.txt"
    if vec_path.exists() and txt_path.exists():
        return np.load(vec_path), txt_path.read_text().split("\n")
    from minilm import MiniLM

    sentences = doc_sentences(n)
    t0 = time.perf_counter()
    vecs = MiniLM().encode(sentences, progress=True)
    print(f"  embedded {len(sentences)} sentences with MiniLM in {time.perf_counter() - t0:.0f} s")
    np.save(vec_path, vecs)
    txt_path.write_text("\n".join(s.replace("\n", " ") for s in sentences))
    return vecs, sentences


def clustered(n: int, dim: int, centers: int = 1000, seed: int = 0) -> np.ndarray:
    """``n`` seeded float32 points around ``centers`` Gaussian centres (unit noise, centres
    spread 3x wider): the clustered structure real embeddings have and i.i.d. noise lacks.
    Built in blocks so 1M x 128 never needs more than the result in memory."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, dim), dtype=np.float32) * 3.0
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 1 << 16):
        e = min(n, s + (1 << 16))
        out[s:e] = c[rng.integers(0, centers, e - s)]
        out[s:e] += rng.standard_normal((e - s, dim), dtype=np.float32)
    return out
