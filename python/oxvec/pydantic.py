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


def Vector(  # noqa: N802 - reads like a type
    dim: int, dtype: str = "float32", *, value_type: pa.DataType | None = None
) -> Any:
    """A vector field type for Pydantic models: ``embedding: Vector(384)``.

    ``dtype`` is ``"float32"`` or ``"float16"``; ``value_type=pa.float16()`` (LanceDB's
    spelling) says the same.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from oxvec.pydantic import Model, Vector
    >>> class Doc(Model):
    ...     vector: Vector(4, value_type=pa.float16())
    >>> Doc.to_arrow_schema().field("vector").type
    FixedSizeListType(fixed_size_list<item: halffloat>[4])
    """
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
        raise ValueError(f"vector dimension must be a positive int, not {dim!r}")
    if value_type is not None:
        names = {pa.float32(): "float32", pa.float16(): "float16"}
        if not isinstance(value_type, pa.DataType) or value_type not in names:
            raise ValueError(f"value_type must be pa.float32() or pa.float16(), not {value_type!r}")
        dtype = names[value_type]
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


try:
    from pydantic import BaseModel as _BaseModel
except ImportError:  # the `pydantic` extra is absent: Vector and to_arrow_schema still work
    _BaseModel = None  # type: ignore[assignment,misc]

if _BaseModel is not None:

    class Model(_BaseModel):
        """A Pydantic model that knows its table schema (LanceDB's ``LanceModel``).

        Examples
        --------
        >>> import oxvec, tempfile
        >>> from oxvec.pydantic import Model, Vector
        >>> class Doc(Model):
        ...     id: int
        ...     vector: Vector(2)
        >>> Doc.field_names()
        ['id', 'vector']
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("docs", schema=Doc)
        >>> _ = tbl.add([Doc(id=1, vector=[0.5, 0.5])])
        >>> tbl.schema == Doc.to_arrow_schema()
        True
        """

        @classmethod
        def to_arrow_schema(cls) -> pa.Schema:
            """The Arrow schema of the model (see :func:`to_arrow_schema`)."""
            return to_arrow_schema(cls)

        @classmethod
        def field_names(cls) -> list[str]:
            """The model's field names, in order."""
            return list(cls.model_fields)

    __all__ += ["Model"]
