"""The async API: ``db = await oxvec.connect_async(uri)``, then the same Database, Table and
Query surface with ``await`` on every call that does work.

Nothing here is written by hand per method: each async class is generated from its sync
class. A method that builds (``where``, ``select``, ``limit``, ``search``,
``merge_insert``, ...) stays a plain call returning the async builder; every other method
becomes a coroutine that runs the sync method on a worker thread, so the event loop never
waits on the engine, and wraps what it returns (a Table comes back as an
:class:`AsyncTable`). Properties read through.

Cancelling the task that awaits a call stops the engine call at its next check (a write
commits nothing once stopped): the await then raises ``CancelledError`` once the worker has
stopped.

Examples
--------
>>> import asyncio, oxvec
>>> async def main():
...     db = await oxvec.connect_async("memory://")
...     tbl = await db.create_table("t", [{"id": i, "vector": [float(i), 0.0]} for i in range(5)])
...     hits = await tbl.search([3.1, 0.0]).limit(2).to_list()
...     return [h["id"] for h in hits], await tbl.count_rows()
>>> asyncio.run(main())
([3, 4], 5)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
from collections.abc import AsyncIterator
from typing import Any, Callable

from . import _oxvec
from .db import Database, connect
from .hybrid import HybridQuery
from .maintenance import Tags
from .merge import MergeInsertBuilder
from .query import Query
from .table import Table

__all__ = [
    "AsyncDatabase",
    "AsyncHybridQuery",
    "AsyncMergeInsertBuilder",
    "AsyncQuery",
    "AsyncTable",
    "AsyncTags",
    "connect_async",
]

#: Sync class -> its generated async class.
_ASYNC: dict[type, type] = {}


async def _in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on a worker thread, inside a cancel scope the task's
    cancellation cancels."""
    scope = _oxvec.CancelScope()
    ctx = contextvars.copy_context()

    def work() -> Any:
        before = _oxvec._set_cancel_scope(scope)
        try:
            return ctx.run(fn, *args, **kwargs)
        finally:
            _oxvec._set_cancel_scope(before)

    future = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        return _wrap(await asyncio.shield(future))
    except asyncio.CancelledError:
        scope.cancel()
        # The engine stops at its next check; nothing is left running. The call's own
        # outcome no longer matters.
        with contextlib.suppress(BaseException):
            await future
        raise


def _wrap(value: Any) -> Any:
    """``value``, or its async twin for an oxvec object."""
    cls = _ASYNC.get(type(value))
    return cls(value) if cls is not None else value


def _returns_builder(method: Any, owner: type) -> bool:
    """Whether a method is annotated to return its own class (a builder step)."""
    ret = inspect.signature(method).return_annotation
    return (isinstance(ret, str) and ret == owner.__name__) or ret is owner


class _AsyncWrapper:
    """An async object wrapping its sync twin."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __repr__(self) -> str:
        return f"<async {self._inner!r}>"


def _generate(sync: type, name: str, builders: tuple[str, ...] = ()) -> type:
    """The async class of ``sync``: see the module's description."""
    members: dict[str, Any] = {
        "__slots__": (),
        "__doc__": f"The async form of :class:`oxvec.{sync.__name__}` (see :mod:`oxvec.aio`).",
        "__module__": __name__,
    }
    for attr, member in inspect.getmembers(sync):
        if attr.startswith("_"):
            continue
        if isinstance(member, property):
            members[attr] = property(
                functools.partial(lambda self, a: _wrap(getattr(self._inner, a)), a=attr),
                doc=member.__doc__,
            )
        elif callable(member):
            members[attr] = _method(sync, attr, member, builders)
    cls = type(name, (_AsyncWrapper,), members)
    _ASYNC[sync] = cls
    return cls


def _method(sync: type, attr: str, member: Any, builders: tuple[str, ...]) -> Any:
    if attr in builders or _returns_builder(member, sync):

        @functools.wraps(member)
        def build(self: Any, *args: Any, **kwargs: Any) -> Any:
            return _wrap(getattr(self._inner, attr)(*args, **kwargs))

        return build

    @functools.wraps(member)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await _in_thread(getattr(self._inner, attr), *args, **kwargs)

    return call


async def _batches(reader: Any) -> AsyncIterator[Any]:
    """The batches of a record batch reader, each read on a worker thread."""
    end = object()
    while True:
        batch = await _in_thread(lambda: next(iter(reader), end))
        if batch is end:
            return
        yield batch


AsyncDatabase = _generate(Database, "AsyncDatabase")
AsyncTable = _generate(Table, "AsyncTable", builders=("search", "merge_insert"))
AsyncQuery = _generate(Query, "AsyncQuery")
AsyncHybridQuery = _generate(HybridQuery, "AsyncHybridQuery")
AsyncMergeInsertBuilder = _generate(MergeInsertBuilder, "AsyncMergeInsertBuilder")
AsyncTags = _generate(Tags, "AsyncTags")


async def _query_batches(self: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
    """The results as record batches, each read on a worker thread (``async for``)."""
    reader = await _in_thread(self._inner.to_batches, *args, **kwargs)
    async for batch in _batches(reader):
        yield batch


AsyncQuery.to_batches = _query_batches  # type: ignore[attr-defined]
AsyncTable.to_batches = _query_batches  # type: ignore[attr-defined]


async def connect_async(uri: str, **kwargs: Any) -> Any:
    """:func:`oxvec.connect`, awaited: an :class:`AsyncDatabase` (same arguments).

    Examples
    --------
    >>> import asyncio, oxvec
    >>> async def main():
    ...     db = await oxvec.connect_async("memory://")
    ...     tbl = await db.create_table("t", [{"id": 1}])
    ...     return await tbl.count_rows()
    >>> asyncio.run(main())
    1
    """
    return await _in_thread(connect, uri, **kwargs)
