"""A small real dataset that needs no download: the documentation of Python's standard
library, embedded with a deterministic hashed TF-IDF model projected to dense vectors.

The text is real (docstrings of a few thousand stdlib functions and classes); the embedding
is lexical rather than neural, so neighbours share words rather than meaning, which is
enough to show search, filters and timings on data people recognise.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
import warnings
import zlib
from collections import Counter
from typing import Any

import numpy as np

__all__ = ["DEFAULT_DIM", "Embedder", "stdlib_docs"]

DEFAULT_DIM = 384

_MODULES = [
    "abc",
    "argparse",
    "array",
    "asyncio",
    "base64",
    "bisect",
    "bz2",
    "calendar",
    "cmath",
    "codecs",
    "collections",
    "colorsys",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "email.message",
    "enum",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "getpass",
    "gettext",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "html.parser",
    "http.client",
    "http.cookies",
    "imaplib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "locale",
    "logging",
    "lzma",
    "math",
    "mimetypes",
    "mmap",
    "numbers",
    "operator",
    "os",
    "os.path",
    "pathlib",
    "platform",
    "poplib",
    "pprint",
    "queue",
    "random",
    "re",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shlex",
    "shutil",
    "signal",
    "smtplib",
    "socket",
    "sqlite3",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "timeit",
    "tokenize",
    "traceback",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib.parse",
    "urllib.request",
    "uuid",
    "warnings",
    "wave",
    "weakref",
    "xml.etree.ElementTree",
    "zipfile",
    "zlib",
]

_WORD = re.compile(r"[a-z][a-z0-9]+")


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.strip().split("\n\n")[0].split())


def stdlib_docs(limit: int | None = None) -> list[dict[str, Any]]:
    """Rows ``{id, name, module, kind, doc, doc_len}`` for documented stdlib objects."""
    with warnings.catch_warnings():
        # Some stdlib members warn when touched (deprecated aliases); we only read docstrings.
        warnings.simplefilter("ignore")
        return _collect(limit)


def _collect(limit: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for modname in _MODULES:
        try:
            mod = importlib.import_module(modname)
        except Exception:
            continue
        members = []
        for name, obj in sorted(vars(mod).items()):
            if name.startswith("_"):
                continue
            if inspect.isclass(obj):
                members.append((name, obj, "class"))
                for mname, meth in sorted(vars(obj).items()):
                    if not mname.startswith("_") and callable(meth):
                        members.append((f"{name}.{mname}", meth, "method"))
            elif callable(obj):
                members.append((name, obj, "function"))
        for name, obj, kind in members:
            doc = inspect.getdoc(obj) if getattr(obj, "__doc__", None) else None
            full = f"{modname}.{name}"
            if not doc or full in seen or len(doc) < 20:
                continue
            seen.add(full)
            text = _first_paragraph(doc)
            rows.append(
                {
                    "id": len(rows),
                    "name": full,
                    "module": modname,
                    "kind": kind,
                    "doc": text,
                    "doc_len": len(doc),
                }
            )
            if limit is not None and len(rows) >= limit:
                return rows
    return rows


_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "which",
        "when",
        "where",
        "who",
        "than",
        "then",
        "there",
        "these",
        "those",
        "not",
        "no",
        "any",
        "all",
        "each",
        "such",
        "only",
        "other",
        "same",
        "some",
        "may",
        "must",
        "should",
        "would",
        "could",
        "also",
        "object",
        "objects",
        "return",
        "returns",
        "returned",
        "value",
        "values",
        "given",
        "none",
        "true",
        "false",
        "default",
        "optional",
    ]
)


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower().replace("_", " ").replace(".", " "))
    return [w for w in words if w not in _STOP]


class Embedder:
    """Hashed TF-IDF with a fixed random projection: deterministic, offline, fast.

    Each token gets a pseudo-random Gaussian direction seeded by its CRC32; a text is the
    IDF-weighted sum of its tokens' directions, L2-normalised.
    """

    def __init__(self, corpus: list[str], dim: int = DEFAULT_DIM) -> None:
        self.dim = dim
        df: Counter[str] = Counter()
        for text in corpus:
            df.update(set(_tokens(text)))
        n = max(len(corpus), 1)
        self._idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self._default_idf = math.log(1 + n) + 1.0
        self._cache: dict[str, np.ndarray] = {}

    def _direction(self, token: str) -> np.ndarray:
        v = self._cache.get(token)
        if v is None:
            rng = np.random.default_rng(zlib.crc32(token.encode()))
            v = rng.standard_normal(self.dim).astype(np.float32)
            self._cache[token] = v
        return v

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit vector per text, shape ``(len(texts), dim)``."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok, tf in Counter(_tokens(text)).items():
                w = (1 + math.log(tf)) * self._idf.get(tok, self._default_idf)
                out[i] += w * self._direction(tok)
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out
