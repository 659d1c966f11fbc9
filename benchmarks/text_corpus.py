"""A labelled retrieval set built offline from the docstrings and comments of the Python
packages installed here (the standard library first, then site-packages).

Documents: every docstring paragraph and block of consecutive comment lines, split into
passages of 10 to 60 words, whitespace-normalised, exact duplicates dropped, in a fixed file order,
the first ``n`` kept. Queries (known-item search): a seeded sample of passages; for each,
4 distinct words of at least 4 letters drawn from it at random, in random order. Its one
relevant document is the passage it came from (passages are unique, and a query whose
words all occur together in an earlier-ranked duplicate is no harder for any engine).
"""

from __future__ import annotations

import ast
import io
import random
import re
import sys
import sysconfig
import tokenize
from collections.abc import Iterator
from pathlib import Path

_LAYOUT = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)

WORD = re.compile(r"[^\W_]+")


def _texts(path: Path) -> Iterator[str]:
    try:
        src = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError, RecursionError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                yield from doc.split("\n\n")
    block: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.COMMENT:
                block.append(tok.string.lstrip("#").strip())
            elif block and tok.type not in _LAYOUT:
                yield " ".join(block)
                block = []
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return
    if block:
        yield " ".join(block)


def documents(n: int) -> list[str]:
    """The first ``n`` passages (cached under ``~/.cache/oxvec-bench``: a pass over every
    installed package takes minutes)."""
    cache = Path.home() / ".cache" / "oxvec-bench" / f"passages-{n}.txt"
    if cache.exists():
        return cache.read_text(encoding="utf-8").split("\n")
    out = _collect(n)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("\n".join(out), encoding="utf-8")
    return out


def _files() -> Iterator[Path]:
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    for root in roots:
        yield from sorted(root.rglob("*.py"))


def _passages(text: str) -> Iterator[str]:
    words = text.split()
    for i in range(0, len(words), 60):
        chunk = words[i : i + 60]
        if len(chunk) >= 10:
            yield " ".join(chunk)


def _collect(n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for path in _files():
        for text in _texts(path):
            for p in _passages(text):
                if p not in seen:
                    seen.add(p)
                    out.append(p)
                    if len(out) >= n:
                        return out
    print(f"only {len(out):,} passages available (asked {n:,})", file=sys.stderr)
    return out


def queries(docs: list[str], m: int, seed: int = 7) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    out: list[tuple[str, int]] = []
    while len(out) < m:
        d = rng.randrange(len(docs))
        words = sorted({w.lower() for w in WORD.findall(docs[d]) if len(w) >= 4 and w.isalpha()})
        if len(words) < 6:
            continue
        picked = rng.sample(words, 4)
        out.append((" ".join(picked), d))
    return out


def summary_queries(docs: list[str], m: int, seed: int = 7) -> list[tuple[str, set[int]]]:
    """Queries in natural language, answered by other text: the one-line summary that opens a
    docstring (3 to 9 words, so never a passage itself), whose relevant documents are the
    passages of the rest of that docstring. Summaries that open more than one docstring
    (``Return self==value.``) are left out as ambiguous; a seeded sample of ``m`` is kept."""
    index = {p: i for i, p in enumerate(docs)}
    found: dict[str, set[int]] = {}
    repeated: set[str] = set()
    for path in _files():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError, SyntaxError, ValueError, RecursionError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            head, *body = doc.split("\n\n")
            summary = " ".join(head.split())
            rel = {index[p] for para in body for p in _passages(para) if p in index}
            if not rel or not 3 <= len(summary.split()) <= 9:
                continue
            if summary in found:
                repeated.add(summary)
            found[summary] = rel
        if docs[-1] in _file_passages(path):  # the corpus ends in this file
            break
    pool = sorted((q, r) for q, r in found.items() if q not in repeated)
    random.Random(seed).shuffle(pool)
    return [(q, r) for q, r in pool[:m]]


def _file_passages(path: Path) -> set[str]:
    return {p for text in _texts(path) for p in _passages(text)}
