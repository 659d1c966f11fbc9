"""Tags and the reports of ``verify`` and ``cleanup_old_versions``."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .exceptions import InvalidInputError

if TYPE_CHECKING:
    from ._oxvec import Table as _Table

__all__ = ["Tags", "VerifyReport", "as_seconds"]


def as_seconds(value: datetime.timedelta | float | int, name: str) -> float:
    """A duration given as a ``timedelta`` or as seconds."""
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int past float range: longer than any duration
            return math.inf if value > 0 else -math.inf
    raise InvalidInputError(
        f"{name} must be a datetime.timedelta or seconds, not {type(value).__name__}"
    )


def utc(micros: int) -> datetime.datetime:
    """A timestamp in microseconds since the Unix epoch as an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(micros / 1e6, tz=datetime.timezone.utc)


@dataclass(frozen=True)
class VerifyReport:
    """What ``Table.verify`` checked and every problem it found (empty when ``ok``).

    Examples
    --------
    >>> import oxvec
    >>> report = oxvec.connect("memory://").create_table("t", [{"x": 1}]).verify(deep=True)
    >>> report.ok, report.problems
    (True, [])
    """

    versions_checked: int
    files_checked: int
    bytes_checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing was wrong.

        Examples
        --------
        >>> import oxvec
        >>> oxvec.connect("memory://").create_table("t", [{"x": 1}]).verify().ok
        True
        """
        return not self.problems


class Tags:
    """Named versions of a table (``tbl.tags``). Cleanup never removes a tagged version.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> tbl = db.create_table("t", [{"id": 1, "vector": [0.0]}])
    >>> tbl.add([{"id": 2, "vector": [1.0]}])
    AddResult(version=2)
    >>> tbl.tags.create("before-cleanup", 1)
    >>> tbl.tags.list()["before-cleanup"]["version"]
    1
    >>> tbl.tags.get_version("before-cleanup")
    1
    >>> tbl.checkout("before-cleanup")
    >>> len(tbl)
    1
    >>> tbl.tags.delete("before-cleanup")
    """

    __slots__ = ("_table",)

    def __init__(self, table: _Table) -> None:
        self._table = table

    def create(self, name: str, version: int | None = None) -> None:
        """Tags ``version`` (default: the handle's version) as ``name``; names follow the
        table-name rules, and an existing tag is an error.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
        >>> tbl.tags.create("first")
        >>> tbl.tags.get_version("first")
        1
        """
        self._table.create_tag(name, version)

    def list(self) -> dict[str, dict[str, Any]]:
        """Every tag: ``{name: {"version": v, "created_at": datetime (UTC)}}``.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
        >>> tbl.tags.create("v1", 1)
        >>> {name: t["version"] for name, t in tbl.tags.list().items()}
        {'v1': 1}
        """
        return {
            name: {"version": version, "created_at": utc(micros)}
            for name, version, micros in self._table.list_tags()
        }

    def get_version(self, name: str) -> int:
        """The version tag ``name`` names (``InvalidInputError`` if there is none).

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
        >>> _ = tbl.add([{"x": 2}])
        >>> tbl.tags.create("release", 1)
        >>> tbl.tags.get_version("release")
        1
        """
        for tag, version, _ in self._table.list_tags():
            if tag == name:
                return version
        raise InvalidInputError(f"no tag named {name!r:.80}")

    def delete(self, name: str) -> None:
        """Removes a tag; the version stays until cleanup finds no other reason to keep it.

        Examples
        --------
        >>> import oxvec
        >>> tbl = oxvec.connect("memory://").create_table("t", [{"x": 1}])
        >>> tbl.tags.create("tmp")
        >>> tbl.tags.delete("tmp")
        >>> tbl.tags.list()
        {}
        """
        self._table.delete_tag(name)

    def __repr__(self) -> str:
        return f"Tags({ {n: v['version'] for n, v in self.list().items()}!r})"
