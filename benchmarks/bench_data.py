"""Benchmark datasets, built offline and cached under benchmarks/data/ (git-ignored).

- ``synthetic(n, dim)``: seeded standard-normal float32 vectors (L2).
- ``docs_minilm(n)``: real 384-d all-MiniLM-L6-v2 embeddings (cosine) of ``n`` distinct
  sentences taken from the docstrings of the Python packages installed in this environment
  (pandas, numpy, pyarrow, polars, ...), parsed with ``ast`` (nothing is imported).
- ``real_minilm(n, queries)``: the large real set: ``n`` + ``queries`` distinct sentences from
  those docstrings, the standard library's and the English manual pages shipped with the
  system (``/usr/share/man/man1-8``, roff stripped), shuffled with a fixed seed and embedded
  the same way; the last ``queries`` are held out from the base.
  ``python benchmarks/bench_data.py real 120000`` builds it (about 5 minutes per 20,000
  sentences on 2 cores).
"""

from __future__ import annotations

import ast
import gzip
import re
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def synthetic(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dim), dtype=np.float32)


def _docstring_paragraphs(root: Path, skip: str | None = None) -> Iterator[str]:
    for path in sorted(root.rglob("*.py")):
        p = str(path)
        if "/tests/" in p or "/test_" in p or (skip is not None and skip in p):
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
                if not para.startswith((">>>", "..", "-", "=", ":", "|")):
                    yield para


#: roff escapes: font changes and zero-width marks go, special characters become a space.
_ROFF_DROP = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\[&|^%]|\\s[-+]?\d")
_ROFF_CHAR = re.compile(r"\\(\(..|\[[^\]]*\]|.)")
#: Macros whose arguments are text (font macros); every other request line is dropped.
_ROFF_TEXT = {"B", "I", "BR", "RB", "BI", "IB", "IR", "RI", "SM", "SB"}


def _man_paragraphs() -> Iterator[str]:
    """Prose paragraphs of the English manual pages, roff requests and escapes stripped."""
    for section in sorted(Path("/usr/share/man").glob("man[1-8]")):
        for page in sorted(section.glob("*.gz")):
            try:
                text = gzip.decompress(page.read_bytes()).decode("utf-8", "ignore")
            except (OSError, EOFError):
                continue
            para: list[str] = []
            for line in text.splitlines():
                if line.startswith((".", "'")):
                    name, _, rest = line[1:].strip().partition(" ")
                    if name in _ROFF_TEXT and rest:
                        para.append(rest.replace('"', ""))
                        continue
                    if para:
                        yield " ".join(para)
                        para = []
                    continue
                line = _ROFF_CHAR.sub(" ", _ROFF_DROP.sub("", line)).replace("\\-", "-")
                if line.strip():
                    para.append(line.strip())
                elif para:
                    yield " ".join(para)
                    para = []
            if para:
                yield " ".join(para)


def _prose(s: str) -> bool:
    """Reads like a sentence: five or more words, nearly all letters and spaces (manual
    pages mix prose with command lines and code)."""
    letters = sum(c.isalpha() or c == " " for c in s)
    return len(s.split()) >= 5 and letters >= 0.9 * len(s)


def _sentences(
    paragraphs: Iterator[str], limit: int, seen: set[str], prose_only: bool = False
) -> list[str]:
    out: list[str] = []
    for para in paragraphs:
        for s in _SENTENCE.split(" ".join(para.split())):
            if prose_only and not _prose(s):
                continue
            if 30 <= len(s) <= 300 and s[0].isalpha() and s not in seen:
                seen.add(s)
                out.append(s)
                if len(out) >= limit:
                    return out
    return out


def doc_sentences(limit: int) -> list[str]:
    """Distinct prose sentences (30-300 chars) from installed packages' docstrings."""
    site = Path(sysconfig.get_paths()["purelib"])
    return _sentences(_docstring_paragraphs(site), limit, set())


def corpus_sentences(limit: int) -> list[str]:
    """Distinct sentences from installed packages' docstrings, then the standard library's,
    then the English manual pages (in that order, until ``limit``)."""
    seen: set[str] = set()
    out = doc_sentences(limit)
    seen.update(out)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out += _sentences(_docstring_paragraphs(stdlib, skip="site-packages"), limit - len(out), seen)
    out += _sentences(_man_paragraphs(), limit - len(out), seen, prose_only=True)
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


def real_minilm(n: int, queries: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``n`` base rows and ``queries`` held-out query rows of real MiniLM sentence
    embeddings (cosine), cached after the first build."""
    DATA.mkdir(exist_ok=True)
    total = n + queries
    vec_path = DATA / f"real_minilm_{total}.npy"
    txt_path = DATA / f"real_minilm_{total}.txt"
    if not (vec_path.exists() and txt_path.exists()):
        from minilm import MiniLM

        sentences = corpus_sentences(total)
        if len(sentences) < total:
            raise SystemExit(f"only {len(sentences)} distinct sentences here, {total} asked")
        # Shuffled, so the held-out queries come from the same mixture as the base.
        order = np.random.default_rng(7).permutation(total)
        sentences = [sentences[i] for i in order]
        t0 = time.perf_counter()
        vecs = MiniLM().encode(sentences, progress=True)
        print(f"  embedded {total} sentences with MiniLM in {time.perf_counter() - t0:.0f} s")
        np.save(vec_path, vecs)
        txt_path.write_text("\n".join(s.replace("\n", " ") for s in sentences))
    vecs = np.load(vec_path)
    return vecs[:n], vecs[n:]


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


if __name__ == "__main__":
    # python benchmarks/bench_data.py real 120000 [queries]
    if len(sys.argv) >= 3 and sys.argv[1] == "real":
        base, held_out = real_minilm(int(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))
        print(f"real set: {base.shape} base, {held_out.shape} held-out queries")
    else:
        raise SystemExit("usage: python benchmarks/bench_data.py real N [QUERIES]")
