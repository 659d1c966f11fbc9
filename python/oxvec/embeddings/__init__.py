"""Embedding functions: turn text into vectors on ``add``, ``update``, ``merge_insert`` and
``search``, declared once on a table.

A function is created from the registry (``get_registry().get("sentence-transformers")
.create(name="all-MiniLM-L6-v2")``) or written by subclassing
:class:`EmbeddingFunction` and registering it. A table records which function embeds
which column in its schema's metadata, so every handle (and every process) applies it;
opening a table whose function is not installed still reads it, and says what is missing
only when something needs embedding.

Examples
--------
>>> import oxvec, tempfile, numpy as np
>>> from oxvec.embeddings import EmbeddingFunction, get_registry
>>> @get_registry().register("letter-counts")
... class LetterCounts(EmbeddingFunction):
...     def ndims(self):
...         return 3
...     def compute_source_embeddings(self, texts):
...         return [[t.count("a"), t.count("b"), t.count("c")] for t in texts]
>>> func = get_registry().get("letter-counts").create()
>>> db = oxvec.connect(tempfile.mkdtemp())
>>> tbl = db.create_table("t", [{"text": "aaa"}, {"text": "bcc"}],
...                       embedding_functions=[func.config("text", "vector")])
>>> tbl.schema.field("vector").type
FixedSizeListType(fixed_size_list<item: float>[3])
>>> tbl.search("ab").limit(1).to_list()[0]["text"]
'aaa'
"""

from __future__ import annotations

from .base import EmbeddingFunction, EmbeddingFunctionConfig
from .registry import EmbeddingFunctionRegistry, get_registry
from .sentence_transformers import SentenceTransformerEmbeddings

__all__ = [
    "EmbeddingFunction",
    "EmbeddingFunctionConfig",
    "EmbeddingFunctionRegistry",
    "SentenceTransformerEmbeddings",
    "get_registry",
]
