"""The embedding function base class and the per-table configuration."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ..exceptions import InvalidInputError

#: The schema metadata key a table's embedding configuration is stored under.
METADATA_KEY = b"oxvec:embedding_functions"
#: Inputs at least this large draw a progress bar on a terminal.
PROGRESS_MIN_ROWS = 1000


class EmbeddingFunction:
    """Turns text into vectors. Subclass it, implement :meth:`ndims` and
    :meth:`compute_source_embeddings` (and :meth:`compute_query_embeddings` when queries
    embed differently from documents), and register the class with
    ``get_registry().register("name")``.

    Instances are made by :meth:`create` (keyword arguments only), which records the
    arguments so a table can store them and make the same function again in another
    process.

    Examples
    --------
    >>> from oxvec.embeddings import EmbeddingFunction, get_registry
    >>> @get_registry().register("ab-counts")
    ... class Counts(EmbeddingFunction):
    ...     def ndims(self):
    ...         return 2
    ...     def compute_source_embeddings(self, texts):
    ...         return [[t.count("a"), t.count("b")] for t in texts]
    >>> Counts.create().embed(["aab"]).tolist()
    [[2.0, 1.0]]
    """

    #: The registry name, set by ``register``.
    name: ClassVar[str] = ""
    #: Texts embedded per call.
    batch_size: int = 64

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = dict(kwargs)
        for k, v in kwargs.items():
            setattr(self, k, v)

    @classmethod
    def create(cls, **kwargs: Any) -> EmbeddingFunction:
        """A function configured by ``kwargs`` (JSON values: they are stored with the
        table).

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.to_json()
        {'name': 'doc-counts', 'params': {}}
        """
        try:
            json.dumps(kwargs)
        except (TypeError, ValueError) as e:
            raise InvalidInputError(
                f"embedding function arguments must be JSON values (they are stored with the "
                f"table): {e}"
            ) from None
        return cls(**kwargs)

    def ndims(self) -> int:
        """The vectors' dimension.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.ndims()
        2
        """
        raise NotImplementedError

    def compute_source_embeddings(self, texts: list[str]) -> Any:
        """One vector per text (a 2-D array or a list of vectors).

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.compute_source_embeddings(['ab', 'bb'])
        [[1, 1], [0, 2]]
        """
        raise NotImplementedError

    def compute_query_embeddings(self, query: str) -> Any:
        """The vector(s) a query searches with (default: the query embedded as a
        document).

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.compute_query_embeddings('aab')
        [[2, 1]]
        """
        return self.compute_source_embeddings([query])

    def config(self, source_column: str, vector_column: str = "vector") -> EmbeddingFunctionConfig:
        """This function embedding ``source_column`` into ``vector_column`` (for
        ``create_table(embedding_functions=[...])``).

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.config('text', 'vector').to_json()['source_column']
        'text'
        """
        return EmbeddingFunctionConfig(source_column, vector_column, self)

    def SourceField(self, **kwargs: Any) -> Any:  # noqa: N802 - LanceDB's name
        """A Pydantic field marking the text a model's vector is computed from.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.SourceField().json_schema_extra['oxvec_embedding']
        'source'
        """
        from pydantic import Field

        return Field(
            json_schema_extra={"oxvec_embedding": "source", "oxvec_function": self}, **kwargs
        )

    def VectorField(self, **kwargs: Any) -> Any:  # noqa: N802 - LanceDB's name
        """A Pydantic field marking a model's vector computed by this function.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.VectorField().json_schema_extra['oxvec_embedding']
        'vector'
        """
        from pydantic import Field

        kwargs.setdefault("default", None)
        return Field(
            json_schema_extra={"oxvec_embedding": "vector", "oxvec_function": self}, **kwargs
        )

    def to_json(self) -> dict[str, Any]:
        """The registry name and arguments, as a table stores them.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.to_json()['name']
        'doc-counts'
        """
        # The registry name is the class's: a `name=` argument (a model's name) is a param.
        return {"name": type(self).name, "params": self._kwargs}

    def embed(self, texts: Sequence[str | None]) -> np.ndarray:
        """``texts`` embedded in batches (a null text gets a null vector, ``nan`` here),
        with a progress bar on a terminal for large inputs; checked for shape and
        finiteness.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.embed(['ab', None]).tolist()
        [[1.0, 1.0], [nan, nan]]
        """
        dim = self.ndims()
        out = np.full((len(texts), dim), np.nan, dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t is not None]
        bar = _progress(len(todo), f"embedding with {self.name or type(self).__name__}")
        for start in range(0, len(todo), max(1, int(self.batch_size))):
            idx = todo[start : start + max(1, int(self.batch_size))]
            got = _as_floats(
                self.compute_source_embeddings([str(texts[i]) for i in idx]), self.name
            )
            if got.shape != (len(idx), dim):
                raise InvalidInputError(
                    f"embedding function {self.name!r} returned shape {got.shape} for "
                    f"{len(idx)} texts; expected ({len(idx)}, {dim})"
                )
            if not np.isfinite(got).all():
                raise InvalidInputError(f"embedding function {self.name!r} returned NaN or Inf")
            out[idx] = got
            if bar is not None:
                bar.update(len(idx))
        if bar is not None:
            bar.close()
        return out

    def embed_query(self, query: str) -> np.ndarray:
        """``query`` embedded as a search vector, checked for shape.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("doc-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> func = Counts.create()
        >>> func.embed_query('bb').tolist()
        [0.0, 2.0]
        """
        got = _as_floats(self.compute_query_embeddings(query), self.name)
        if got.ndim == 2 and got.shape[0] == 1:
            got = got[0]
        if got.shape != (self.ndims(),):
            raise InvalidInputError(
                f"embedding function {self.name!r} returned shape {got.shape} for a query; "
                f"expected ({self.ndims()},)"
            )
        return got

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return f"{type(self).__name__}({args})"


def _as_floats(got: Any, name: str) -> np.ndarray:
    """An embedding function's output as a float32 array, or a clear error."""
    try:
        if not isinstance(got, np.ndarray) and not hasattr(got, "__array__"):
            got = [np.asarray(row, dtype=np.float32) for row in got]
        return np.asarray(got, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(
            f"embedding function {name!r} returned {type(got).__name__} that is not an "
            f"array of float vectors: {e}"
        ) from None


def _progress(total: int, label: str) -> Any:
    if total < PROGRESS_MIN_ROWS or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=label, unit="text")


@dataclass
class EmbeddingFunctionConfig:
    """Which column a function embeds into which vector column.

    Examples
    --------
    >>> from oxvec.embeddings import EmbeddingFunction, get_registry
    >>> @get_registry().register("ab-counts")
    ... class Counts(EmbeddingFunction):
    ...     def ndims(self):
    ...         return 2
    ...     def compute_source_embeddings(self, texts):
    ...         return [[t.count("a"), t.count("b")] for t in texts]
    >>> cfg = Counts.create().config("text", "vec")
    >>> cfg.source_column, cfg.vector_column
    ('text', 'vec')
    """

    source_column: str
    vector_column: str
    function: EmbeddingFunction

    def to_json(self) -> dict[str, Any]:
        """The configuration as a table stores it.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("ab-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> Counts.create().config("text").to_json()
        {'source_column': 'text', 'vector_column': 'vector', 'name': 'ab-counts', 'params': {}}
        """
        return {
            "source_column": self.source_column,
            "vector_column": self.vector_column,
            **self.function.to_json(),
        }

    def vector_type(self) -> pa.DataType:
        """The vector column's Arrow type.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("ab-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> Counts.create().config("text").vector_type()
        FixedSizeListType(fixed_size_list<item: float>[2])
        """
        return pa.list_(pa.float32(), int(self.function.ndims()))
