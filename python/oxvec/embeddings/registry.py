"""The registry of embedding functions by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import InvalidInputError
from .base import EmbeddingFunction


class EmbeddingFunctionRegistry:
    """Embedding function classes by name; one per process (:func:`get_registry`)."""

    def __init__(self) -> None:
        self._functions: dict[str, type[EmbeddingFunction]] = {}

    def register(self, name: str) -> Callable[[type[EmbeddingFunction]], type[EmbeddingFunction]]:
        """A class decorator adding an :class:`EmbeddingFunction` subclass under ``name``."""

        def add(cls: type[EmbeddingFunction]) -> type[EmbeddingFunction]:
            if not (isinstance(cls, type) and issubclass(cls, EmbeddingFunction)):
                raise InvalidInputError(f"{cls!r} is not an EmbeddingFunction subclass")
            cls.name = name
            self._functions[name] = cls
            return cls

        return add

    def get(self, name: str) -> type[EmbeddingFunction]:
        """The class registered as ``name``; call ``.create(...)`` on it."""
        try:
            return self._functions[name]
        except KeyError:
            raise InvalidInputError(
                f"no embedding function named {name!r}; registered: {sorted(self._functions)}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._functions)

    def make(self, spec: dict[str, Any]) -> EmbeddingFunction:
        """The function a table's stored configuration describes."""
        return self.get(spec["name"]).create(**spec.get("params", {}))


_REGISTRY = EmbeddingFunctionRegistry()


def get_registry() -> EmbeddingFunctionRegistry:
    """The process's embedding function registry."""
    return _REGISTRY
