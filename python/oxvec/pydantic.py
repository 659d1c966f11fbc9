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
import enum
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Union

import pyarrow as pa

__all__ = ["Vector", "VectorSpec", "plain", "to_arrow_schema", "validate_rows"]


@dataclass(frozen=True)
class VectorSpec:
    """Marks a ``list[float]`` field as a vector column of ``dim`` values.

    Examples
    --------
    >>> from oxvec.pydantic import VectorSpec
    >>> VectorSpec(3).arrow_type()
    FixedSizeListType(fixed_size_list<item: float>[3])
    """

    dim: int
    dtype: str = "float32"

    def arrow_type(self) -> pa.DataType:
        """The column's Arrow type.

        Examples
        --------
        >>> from oxvec.pydantic import VectorSpec
        >>> VectorSpec(2, "float16").arrow_type()
        FixedSizeListType(fixed_size_list<item: halffloat>[2])
        """
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
    uuid.UUID: pa.string(),
}


def _arrow_type(annotation: Any, where: str) -> tuple[pa.DataType, bool]:
    """The Arrow type of an annotation and whether it allows None."""
    if annotation is type(None):
        raise TypeError(f"{where}: a field that is always None has no column type")
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
    if origin in (list, typing.List, set, frozenset):  # noqa: UP006
        (item,) = typing.get_args(annotation) or (Any,)
        t, _ = _arrow_type(item, where)
        return pa.list_(t), False
    if origin in (tuple, typing.Tuple):  # noqa: UP006
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            t, _ = _arrow_type(args[0], where)
            return pa.list_(t), False
        if args and all(a == args[0] for a in args):
            # A list, not a fixed-size list: fixed-size lists are vector columns.
            t, _ = _arrow_type(args[0], where)
            return pa.list_(t), False
        raise TypeError(f"{where}: a tuple field must hold one type ({annotation!r})")
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return _literal_type(values, where), False
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _literal_type(tuple(m.value for m in annotation), where), False
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return pa.struct(list(to_arrow_schema(annotation))), False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    raise TypeError(f"{where}: no Arrow type for {annotation!r}")


def _literal_type(values: tuple[Any, ...], where: str) -> pa.DataType:
    """The column type of an enum's (or a ``Literal``'s) values: all strings or all ints."""
    if values and all(isinstance(v, str) for v in values):
        return pa.string()
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    raise TypeError(f"{where}: enum values must be all strings or all ints, got {values!r}")


def plain(value: Any) -> Any:
    """A model's dumped value with what Arrow cannot take made plain: enums by their
    value, tuples and sets as lists, UUIDs as text.

    Examples
    --------
    >>> import enum
    >>> from oxvec.pydantic import plain
    >>> class Color(enum.Enum):
    ...     RED = "red"
    >>> plain({"c": Color.RED, "t": (1, 2)})
    {'c': 'red', 't': [1, 2]}
    """
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def validate_rows(model: type, rows: list[Any]) -> list[dict[str, Any]]:
    """``rows`` (dicts or instances) checked against ``model`` and dumped as plain dicts;
    a row that does not fit raises :class:`~oxvec.InvalidInputError` naming the row and the
    field.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> from oxvec.pydantic import validate_rows
    >>> class Item(BaseModel):
    ...     id: int
    ...     price: float
    >>> validate_rows(Item, [{"id": 1, "price": 2}])
    [{'id': 1, 'price': 2.0}]
    >>> validate_rows(Item, [{"id": 1, "price": 2}, {"id": 2, "price": "cheap"}])
    Traceback (most recent call last):
    ...
    oxvec.exceptions.InvalidInputError: row 1, field 'price': Input should be a valid number, ...
    """
    from pydantic import ValidationError

    from .exceptions import InvalidInputError

    out = []
    for i, row in enumerate(rows):
        try:
            item = row if isinstance(row, model) else model.model_validate(row)  # type: ignore[attr-defined]
        except ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(the row)"
            raise InvalidInputError(f"row {i}, field {field!r}: {first['msg']}") from e
        out.append(plain(item.model_dump()))
    return out


def to_arrow_schema(model: type) -> pa.Schema:
    """The Arrow schema of a Pydantic model class (``Optional`` fields are nullable).

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> from oxvec.pydantic import to_arrow_schema
    >>> class Row(BaseModel):
    ...     id: int
    ...     tags: list[str]
    >>> to_arrow_schema(Row)
    id: int64 not null
    tags: list<item: string> not null
      child 0, item: string
    """
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
