"""Databases: a directory of tables."""

from __future__ import annotations

import atexit
import datetime
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import pyarrow as pa

from . import _check, _data
from ._embedding import TableEmbeddings, check_configs, configs_of_model, with_metadata
from ._oxvec import Database as _Database
from .embeddings.base import EmbeddingFunctionConfig
from .exceptions import InvalidInputError, TableNotFoundError
from .maintenance import as_seconds
from .table import Table

__all__ = ["Database", "connect"]


class Database:
    """A directory holding oxvec tables. Create one with :func:`connect`.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> tbl = db.create_table("docs", [{"id": 1, "vector": [0.1, 0.2]}])
    >>> db.table_names()
    ['docs']
    >>> "docs" in db
    True

    It reads like a mapping from table names to tables:

    >>> len(db), list(db), db["docs"].count_rows()
    (1, ['docs'], 1)
    """

    __slots__ = ("_inner",)

    def __init__(
        self,
        uri: str | os.PathLike[str],
        *,
        read_consistency_interval: datetime.timedelta | float | None = datetime.timedelta(0),
        auto_compact_fragments: int = 64,
        auto_cleanup_every: int = 100,
        auto_cleanup_older_than: datetime.timedelta | float = datetime.timedelta(days=7),
        monitor_recall: bool = True,
        inline_deletions: bool = True,
        max_retries: int = 10,
    ) -> None:
        rci = (
            None
            if read_consistency_interval is None
            else as_seconds(read_consistency_interval, "read_consistency_interval")
        )
        if not isinstance(uri, (str, os.PathLike)):
            raise InvalidInputError(f"uri must be a path or a string, not {type(uri).__name__}")
        if isinstance(uri, str) and uri.startswith("memory://"):
            uri = _memory_directory(uri)
        try:
            inner = _Database(
                os.path.expanduser(os.fspath(uri)),
                rci,
                _check.count("auto_compact_fragments", auto_compact_fragments, minimum=0),
                _check.count("auto_cleanup_every", auto_cleanup_every, minimum=0),
                as_seconds(auto_cleanup_older_than, "auto_cleanup_older_than"),
                _check.flag("monitor_recall", monitor_recall),
                _check.flag("inline_deletions", inline_deletions),
                min(_check.count("max_retries", max_retries, minimum=0), 2**32 - 1),
            )
        except (TypeError, OverflowError, UnicodeError) as e:
            raise InvalidInputError(f"connect: {e}") from None
        self._inner = _check.native(inner)

    @property
    def uri(self) -> str:
        """The absolute path of the database directory.

        Examples
        --------
        >>> import oxvec, os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> oxvec.connect(root).uri == os.path.realpath(root)
        True
        """
        return self._inner.uri

    def __repr__(self) -> str:
        """The database's location and tables.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> _ = db.create_table("docs", [{"id": 1}])
        >>> repr(db).endswith("tables=['docs'])")
        True
        """
        try:
            names = self.table_names()
        except Exception:  # a repr never raises (a removed directory, say)
            return f"oxvec.Database({self.uri!r})"
        shown = names[:10] + (["..."] if len(names) > 10 else [])
        return f"oxvec.Database({self.uri!r}, tables={shown})"

    def table_names(self) -> list[str]:
        """Names of all tables, sorted.

        Examples
        --------
        >>> import oxvec
        >>> db = oxvec.connect("memory://")
        >>> for name in ["b", "a"]:
        ...     _ = db.create_table(name, [{"x": 1}])
        >>> db.table_names()
        ['a', 'b']
        """
        return self._inner.table_names()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._inner.contains(name)

    def __len__(self) -> int:
        """The number of tables."""
        return len(self._inner.table_names())

    def __iter__(self) -> Iterator[str]:
        """The table names, sorted (a snapshot taken when iteration starts)."""
        return iter(self._inner.table_names())

    def __getitem__(self, name: str) -> Table:
        """``db[name]`` is :meth:`open_table`; a missing table raises
        :class:`~oxvec.TableNotFoundError`, which is a ``KeyError``."""
        return self.open_table(name)

    def open_table(self, name: str) -> Table:
        """Opens table ``name`` at its newest version.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> root = tempfile.mkdtemp()
        >>> _ = oxvec.connect(root).create_table("t", [{"x": 1}])
        >>> oxvec.connect(root).open_table("t").count_rows()
        1

        Raises
        ------
        TableNotFoundError
            If there is no such table.
        """
        return Table._wrap(self._inner.open_table(name))

    def drop_table(self, name: str, *, ignore_missing: bool = False) -> None:
        """Deletes table ``name`` and every version of it.

        The table disappears in one step (its directory is renamed away, then removed), so
        a crash midway never leaves a table with some of its files gone. Handles still open
        on it fail with :class:`~oxvec.TableNotFoundError` from then on.

        Parameters
        ----------
        name
            The table.
        ignore_missing
            Return quietly when there is no such table, instead of raising.

        Raises
        ------
        TableNotFoundError
            If there is no such table (and ``ignore_missing`` is false).

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> _ = db.create_table("t", [{"x": 1}])
        >>> db.drop_table("t")
        >>> db.drop_table("t", ignore_missing=True)
        >>> "t" in db
        False
        """
        ignore = _check.flag("ignore_missing", ignore_missing)
        try:
            self._inner.drop_table(name)
        except TableNotFoundError:
            if not ignore:
                raise

    def rename_table(self, cur_name: str, new_name: str) -> None:
        """Renames a table in one step; ``new_name`` follows the table-name rules and must
        not exist. Handles opened under the old name find their table gone (their reads
        and writes raise ``TableNotFoundError``); open it again under the new name.

        Raises
        ------
        TableNotFoundError, TableExistsError, InvalidInputError

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> _ = db.create_table("draft", [{"x": 1}])
        >>> db.rename_table("draft", "final")
        >>> db.table_names(), len(db["final"])
        (['final'], 1)
        """
        for what, name in (("cur_name", cur_name), ("new_name", new_name)):
            if not isinstance(name, str):
                raise InvalidInputError(f"{what} must be a table name, got {name!r:.80}")
        self._inner.rename_table(cur_name, new_name)

    def drop_all_tables(self) -> None:
        """Drops every table of the database (each as :meth:`drop_table` does).

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> _ = db.create_table("a", [{"x": 1}])
        >>> _ = db.create_table("b", [{"x": 2}])
        >>> db.drop_all_tables()
        >>> len(db)
        0
        """
        for name in self._inner.table_names():
            self.drop_table(name, ignore_missing=True)

    def create_table(
        self,
        name: str,
        data: Any = None,
        *,
        schema: Any = None,
        mode: Literal["create", "overwrite"] = "create",
        exist_ok: bool = False,
        embedding_functions: Sequence[EmbeddingFunctionConfig] | None = None,
        on_bad_vectors: Literal["error", "drop", "fill"] = "error",
        fill_value: float = 0.0,
    ) -> Table:
        """Creates a table from data, a schema, or both.

        Parameters
        ----------
        name
            Letters, digits, ``_``, ``.`` and ``-``; at most 128 characters.
        data
            A pyarrow Table, RecordBatch or RecordBatchReader, any object with
            ``__arrow_c_stream__`` (Polars, DuckDB), a pandas DataFrame, a list of dicts or of
            Pydantic models, or an iterable of record batches. Columns of equal-length float
            lists (or numpy arrays) become vector columns.
        schema
            A pyarrow schema or a Pydantic model class. Inferred from ``data`` when omitted.
        mode
            ``"create"`` fails if the table exists (unless ``exist_ok``); ``"overwrite"``
            replaces its contents as a new version.
        exist_ok
            With ``mode="create"``, open an existing table instead of failing.
        embedding_functions
            Columns computed by embedding functions (``func.config("text", "vector")``, see
            :mod:`oxvec.embeddings`); a Pydantic ``schema`` may declare them instead with
            ``func.SourceField()`` / ``func.VectorField()``. The table stores them and fills
            the vector column on every ``add``, ``update`` and ``merge_insert``, and embeds
            string queries.
        on_bad_vectors, fill_value
            Rows whose vector is null, of another dimension than the schema's (or the first
            row's) or holds a null, NaN or infinity: ``"error"`` refuses the create,
            ``"drop"`` leaves them out, ``"fill"`` stores ``fill_value`` in every position
            (as :meth:`Table.add`).

        Returns
        -------
        Table

        Raises
        ------
        TableExistsError, SchemaError, InvalidInputError
            Nothing is written when any of these is raised.

        Examples
        --------
        >>> import oxvec, tempfile
        >>> db = oxvec.connect(tempfile.mkdtemp())
        >>> tbl = db.create_table("t", [{"id": i, "vector": [float(i), 1.0]} for i in range(3)])
        >>> tbl.schema.field("vector").type
        FixedSizeListType(fixed_size_list<item: float>[2])
        """
        configs = list(embedding_functions or [])
        if isinstance(schema, type) and hasattr(schema, "model_fields"):
            configs += configs_of_model(schema)
        for c in configs:
            if not isinstance(c, EmbeddingFunctionConfig):
                raise InvalidInputError(
                    "embedding_functions takes EmbeddingFunctionConfig objects "
                    f"(func.config('text', 'vector')), got {c!r:.80}"
                )
        arrow_schema = _data.to_schema(schema)
        model = schema if isinstance(schema, type) and hasattr(schema, "model_fields") else None
        if model is not None and not configs and isinstance(data, (list, tuple)) and data:
            # Rows checked against the model: a bad one is named by row and field.
            from .pydantic import validate_rows

            data = validate_rows(model, list(data))
        stream = None if data is None else _data.to_stream(data)
        if configs:
            check_configs(configs, arrow_schema)
            arrow_schema = TableEmbeddings.schema_with(arrow_schema, configs)
            if stream is not None:
                emb = TableEmbeddings([c.to_json() for c in configs], name)
                for i, c in enumerate(configs):
                    emb._made[i] = c.function
                meta = with_metadata(pa.schema([]), configs).metadata
                stream = emb.embed_stream(stream, meta, configs)
        inner = self._inner.create_table(
            name,
            stream,
            arrow_schema,
            mode,
            exist_ok,
            on_bad_vectors
            if on_bad_vectors == "null"
            else _check.choice("on_bad_vectors", on_bad_vectors, ("error", "drop", "fill")),
            _check.number("fill_value", fill_value),
        )
        return Table._wrap(inner)


def _memory_directory(uri: str) -> str:
    """A new directory in RAM (tmpfs ``/dev/shm`` where there is one, else the temporary
    directory) for ``memory://``, removed when the process exits."""
    if uri != "memory://":
        raise InvalidInputError(f"an in-memory database is 'memory://' alone, got {uri!r:.80}")
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    path = tempfile.mkdtemp(prefix="oxvec-memory-", dir=base)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def connect(
    uri: str | os.PathLike[str],
    *,
    read_consistency_interval: datetime.timedelta | float | None = datetime.timedelta(0),
    auto_compact_fragments: int = 64,
    auto_cleanup_every: int = 100,
    auto_cleanup_older_than: datetime.timedelta | float = datetime.timedelta(days=7),
    monitor_recall: bool = True,
    inline_deletions: bool = True,
    max_retries: int = 10,
) -> Database:
    """Opens the database at ``uri`` (a local directory, created if missing).

    Several processes may open and write the same database. Each table handle reads a pinned
    version; how it follows other processes' commits is ``read_consistency_interval``.

    Parameters
    ----------
    uri
        A path or ``file://`` URI; a leading ``~`` is the home directory. ``"memory://"``
        makes a new database in RAM (on tmpfs where the system has one, else in the
        temporary directory) that behaves like any other, for tests and notebooks, and is
        removed when the process exits: nothing survives it.
    read_consistency_interval
        How stale reads may be. ``timedelta(0)`` (the default) looks for a newer version
        before every read (two ``stat`` calls), like a SQLite reader; a longer interval looks
        at most that often; ``None`` never moves a handle except on its own writes and
        ``checkout_latest()``.
    auto_compact_fragments
        A write that leaves this many fragments of under 16,384 rows compacts them (and folds
        new rows into the indexes) in a follow-up version. ``0`` disables it.
    auto_cleanup_every, auto_cleanup_older_than
        Every ``auto_cleanup_every`` versions a write also removes versions older than
        ``auto_cleanup_older_than`` (tagged and newest versions stay). ``0`` disables it.
    monitor_recall
        Keep a sample of up to 200 query vectors each vector index serves in this process
        and, after 50, 200, 800, ... queries, measure in a background thread the recall@10
        they get against exact search. ``target_recall`` (and the default setting) then
        follow the lower of the build-time and the served curve, so the promise holds on
        the queries actually served; ``index_stats()["served_recall"]`` shows the
        measurement. The sample stays in memory and is never written. With ``False`` this
        connection's tables neither sample queries nor use what other connections measured.
    inline_deletions
        Keep a small deletion vector (the rows a delete, update or upsert removed from one
        data file: up to 16 KiB of it, and 64 KiB per version) inside the version's manifest
        rather than in a file of its own, so that a small change writes and syncs one file
        instead of two. ``False`` writes every deletion vector as a file under
        ``deletions/``. Either way the vector is checksummed and versioned like the rest;
        readers handle both.
    max_retries
        A ``delete``, ``update`` or ``merge_insert`` whose commit loses a race to another
        writer's (which changed the rows it read) is planned again on the newer version,
        after a short random wait that doubles each time, up to this many times;
        :class:`CommitConflictError` only when they run out. ``0`` never retries.

    Examples
    --------
    >>> import oxvec, tempfile
    >>> db = oxvec.connect(tempfile.mkdtemp())
    >>> db.table_names()
    []
    """
    return Database(
        uri,
        read_consistency_interval=read_consistency_interval,
        auto_compact_fragments=auto_compact_fragments,
        auto_cleanup_every=auto_cleanup_every,
        auto_cleanup_older_than=auto_cleanup_older_than,
        monitor_recall=monitor_recall,
        inline_deletions=inline_deletions,
        max_retries=max_retries,
    )
