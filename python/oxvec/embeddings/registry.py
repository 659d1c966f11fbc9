"""The registry of embedding functions by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import InvalidInputError
from .base import EmbeddingFunction


class EmbeddingFunctionRegistry:
    """Embedding function classes by name; one per process (:func:`get_registry`).

    Examples
    --------
    >>> from oxvec.embeddings import EmbeddingFunction, get_registry
    >>> @get_registry().register("ab-counts")
    ... class Counts(EmbeddingFunction):
    ...     def ndims(self):
    ...         return 2
    ...     def compute_source_embeddings(self, texts):
    ...         return [[t.count("a"), t.count("b")] for t in texts]
    >>> "ab-counts" in get_registry().names()
    True
    """

    def __init__(self) -> None:
        self._functions: dict[str, type[EmbeddingFunction]] = {}

    def register(self, name: str) -> Callable[[type[EmbeddingFunction]], type[EmbeddingFunction]]:
        """A class decorator adding an :class:`EmbeddingFunction` subclass under ``name``.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("ab-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> Counts.name
        'ab-counts'
        """

        def add(cls: type[EmbeddingFunction]) -> type[EmbeddingFunction]:
            if not (isinstance(cls, type) and issubclass(cls, EmbeddingFunction)):
                raise InvalidInputError(f"{cls!r} is not an EmbeddingFunction subclass")
            cls.name = name
            self._functions[name] = cls
            return cls

        return add

    def get(self, name: str) -> type[EmbeddingFunction]:
        """The class registered as ``name``; call ``.create(...)`` on it.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("ab-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> get_registry().get("ab-counts") is Counts
        True
        """
        try:
            return self._functions[name]
        except KeyError:
            raise InvalidInputError(
                f"no embedding function named {name!r}; registered: {sorted(self._functions)}"
            ) from None

    def names(self) -> list[str]:
        """The registered names, sorted.

        Examples
        --------
        >>> from oxvec.embeddings import get_registry
        >>> "sentence-transformers" in get_registry().names()
        True
        """
        return sorted(self._functions)

    def make(self, spec: dict[str, Any]) -> EmbeddingFunction:
        """The function a table's stored configuration describes.

        Examples
        --------
        >>> from oxvec.embeddings import EmbeddingFunction, get_registry
        >>> @get_registry().register("ab-counts")
        ... class Counts(EmbeddingFunction):
        ...     def ndims(self):
        ...         return 2
        ...     def compute_source_embeddings(self, texts):
        ...         return [[t.count("a"), t.count("b")] for t in texts]
        >>> get_registry().make({"name": "ab-counts", "params": {}}).ndims()
        2
        """
        return self.get(spec["name"]).create(**spec.get("params", {}))


_REGISTRY = EmbeddingFunctionRegistry()


def get_registry() -> EmbeddingFunctionRegistry:
    """The process's embedding function registry.

    Examples
    --------
    >>> from oxvec.embeddings import get_registry
    >>> get_registry() is get_registry()
    True
    """
    return _REGISTRY
