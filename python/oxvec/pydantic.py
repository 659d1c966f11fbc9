"""Pydantic integration: declare a table with a model, insert model instances.

>>> from pydantic import BaseModel
>>> from oxvec.pydantic import Vector, to_arrow_schema
>>> class Doc(BaseModel):
...     id: int
...     text: str
...     vector: Vector(3)
>>> to_arrow_schema(Doc).field("vector").type
FixedSizeListType(fixed_size_list<item: float>[3])
"""

from __future__ import annotations

import datetime
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Union

import pyarrow as pa

__all__ = ["Vector", "VectorSpec", "to_arrow_schema"]


@dataclass(frozen=True)
class VectorSpec:
    """Marks a ``list[float]`` field as a vector column of ``dim`` values."""

    dim: int
    dtype: str = "float32"

    def arrow_type(self) -> pa.DataType:
        item = {"float32": pa.float32(), "float16": pa.float16()}.get(self.dtype)
        if item is None:
            raise ValueError(f"vector dtype must be 'float32' or 'float16', not {self.dtype!r}")
        return pa.list_(item, self.dim)


def Vector(dim: int, dtype: str = "float32") -> Any:  # noqa: N802 - reads like a type
    """A vector field type for Pydantic models: ``embedding: Vector(384)``."""
    if not isinstance(dim, int) or dim <= 0:
        raise ValueError(f"vector dimension must be a positive int, not {dim!r}")
    return Annotated[list[float], VectorSpec(dim, dtype)]


_SCALARS: dict[Any, pa.DataType] = {
    int: pa.int64(),
    float: pa.float64(),
    str: pa.string(),
    bool: pa.bool_(),
    bytes: pa.binary(),
    datetime.date: pa.date32(),
    datetime.datetime: pa.timestamp("us"),
}


def _arrow_type(annotation: Any, where: str) -> tuple[pa.DataType, bool]:
    """The Arrow type of an annotation and whether it allows None."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *meta = typing.get_args(annotation)
        for m in meta:
            if isinstance(m, VectorSpec):
                return m.arrow_type(), False
        return _arrow_type(base, where)
    if origin is Union or (hasattr(types, "UnionType") and isinstance(annotation, types.UnionType)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            t, _ = _arrow_type(args[0], where)
            return t, True
        raise TypeError(f"{where}: unions of several types are not supported")
    if origin in (list, typing.List):  # noqa: UP006
        (item,) = typing.get_args(annotation) or (Any,)
        t, _ = _arrow_type(item, where)
        return pa.list_(t), False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    raise TypeError(f"{where}: no Arrow type for {annotation!r}")


def to_arrow_schema(model: type) -> pa.Schema:
    """The Arrow schema of a Pydantic model class (``Optional`` fields are nullable)."""
    fields = []
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        t, nullable = _arrow_type(annotation, f"{model.__name__}.{name}")
        fields.append(pa.field(name, t, nullable))
    return pa.schema(fields)
