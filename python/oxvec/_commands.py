"""The ``oxvec`` command's database commands: info, versions, tags, verify, optimize, import,
export and query. Each prints a table for people, or JSON with ``--json``, and returns the
process exit code (0 ok, 1 a check failed, 2 bad arguments or not a database)."""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import oxvec

from . import _progress

__all__ = [
    "export",
    "import_file",
    "info",
    "optimize",
    "query",
    "tags",
    "verify",
    "versions",
]

#: Files ``import`` reads, by extension.
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
}


class CommandError(Exception):
    """A problem with what the user asked for: printed without a traceback, exit code 2."""


def open_database(path: str) -> oxvec.Database:
    """The database at ``path``, refusing a folder that holds no oxvec table (``connect``
    would happily make one there)."""
    p = Path(path)
    if not p.is_dir():
        raise CommandError(f"{path} is not a directory")
    tables = [c for c in p.iterdir() if c.name.endswith(".oxvec") and (c / "versions").is_dir()]
    if not tables:
        raise CommandError(
            f"{path} is not an oxvec database: it holds no tables (<name>.oxvec directories)"
        )
    return oxvec.connect(p)


def open_table(path: str, table: str) -> oxvec.Table:
    db = open_database(path)
    if table not in db:
        raise CommandError(f"no table {table!r} in {path}; it has {db.table_names()}")
    return db[table]


def emit(data: Any, as_json: bool, lines: list[str]) -> None:
    """Prints ``data`` as JSON, or the human-readable ``lines``."""
    if as_json:
        print(json.dumps(data, indent=2, default=_jsonable))
    else:
        print("\n".join(lines))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def info(path: str, as_json: bool) -> int:
    """The tables of a database: rows, versions, sizes, indexes, tags and schema."""
    db = open_database(path)
    out: dict[str, Any] = {"uri": db.uri, "tables": []}
    lines = [f"database {db.uri}: {len(db)} table(s)"]
    for name in db.table_names():
        tbl = db[name]
        stats = tbl.stats()
        n_versions = len(tbl.list_versions())
        tags = tbl.tags.list()
        out["tables"].append(
            {
                "name": name,
                "version": tbl.version,
                "versions": n_versions,
                "stats": stats,
                "tags": tags,
                "schema": [
                    {"name": f.name, "type": str(f.type), "nullable": f.nullable}
                    for f in tbl.schema
                ],
            }
        )
        lines.append(
            f"  table {name}: version {tbl.version}, {stats['num_rows']} rows, {n_versions} "
            f"versions, {_size(stats['total_bytes'])} "
            f"({stats['fragment_stats']['num_fragments']} data files)"
        )
        for f in tbl.schema:
            lines.append(f"    {f.name}: {f.type}{'' if f.nullable else ' not null'}")
        for ix in stats["indices"]:
            lines.append(
                f"    index {ix['name']}: {ix['index_type']} on {', '.join(ix['columns'])}, "
                f"{_size(ix['bytes'])}"
            )
        for tag, meta in tags.items():
            lines.append(f"    tag {tag}: version {meta['version']}")
    emit(out, as_json, lines)
    return 0


def versions(path: str, table: str, as_json: bool) -> int:
    """Every version of a table, oldest first."""
    rows = open_table(path, table).list_versions()
    lines = [
        f"{r['version']:>8}  {r['timestamp']:%Y-%m-%d %H:%M:%S}  {r['operation']:<14} "
        f"{r['rows']} rows"
        for r in rows
    ]
    emit(rows, as_json, lines)
    return 0


def tags(path: str, table: str, as_json: bool) -> int:
    """The tags of a table and the versions they name."""
    listed = open_table(path, table).tags.list()
    lines = [
        f"{name}: version {t['version']} ({t['created_at']:%Y-%m-%d %H:%M:%S})"
        for name, t in listed.items()
    ]
    emit(listed, as_json, lines or ["no tags"])
    return 0


def verify(path: str, table: str | None, deep: bool, as_json: bool) -> int:
    """Checks every table (or one): files present with their sizes, and with ``deep``
    their checksums. Exit code 1 when anything is wrong."""
    db = open_database(path)
    names = [table] if table else db.table_names()
    reports: dict[str, Any] = {}
    lines: list[str] = []
    ok = True
    for name in names:
        if name not in db:
            raise CommandError(f"no table {name!r} in {path}")
        r = db[name].verify(deep=deep)
        ok &= r.ok
        reports[name] = {
            "ok": r.ok,
            "versions_checked": r.versions_checked,
            "files_checked": r.files_checked,
            "bytes_checked": r.bytes_checked,
            "problems": r.problems,
        }
        lines.append(
            f"{name}: {'ok' if r.ok else 'PROBLEMS'} ({r.versions_checked} versions, "
            f"{r.files_checked} files, {_size(r.bytes_checked)})"
        )
        lines += [f"  {p}" for p in r.problems]
    emit(reports, as_json, lines)
    return 0 if ok else 1


def optimize(path: str, table: str, cleanup_days: float | None, as_json: bool) -> int:
    """Compacts a table and folds new rows into its indexes (and with ``cleanup_days``
    removes versions older than that)."""
    tbl = open_table(path, table)
    older = None if cleanup_days is None else datetime.timedelta(days=cleanup_days)
    stats = tbl.optimize(cleanup_older_than=older)
    emit(stats, as_json, [f"{k}: {v}" for k, v in stats.items()])
    return 0


def _reader(file: str) -> pa.RecordBatchReader:
    """A stream of the rows of a Parquet, CSV or JSON Lines file."""
    import pyarrow.dataset as ds

    ext = Path(file).suffix.lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise CommandError(
            f"cannot tell the format of {file}: use .parquet, .csv or .jsonl ({', '.join(FORMATS)})"
        )
    if not Path(file).is_file():
        raise CommandError(f"{file} is not a file")
    if fmt == "json":
        import pyarrow.json as pj

        rows = pj.read_json(file)
        reader = pa.RecordBatchReader.from_batches(*_table_batches(rows))
        total: int | None = rows.num_rows
    else:
        dataset = ds.dataset(file, format=fmt)
        reader = dataset.scanner().to_reader()
        # Parquet knows its row count from its footer; counting a CSV would read it twice.
        total = dataset.count_rows() if fmt == "parquet" else None
    return _progress.counted(reader, f"importing {Path(file).name}", total)


def _table_batches(t: pa.Table) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    return t.schema, t.to_batches()


def import_file(path: str, table: str, file: str, mode: str, as_json: bool) -> int:
    """Loads a file into a table (created when missing) as one version."""
    reader = _reader(file)
    db = oxvec.connect(path)
    if table in db and mode != "create":
        res = db[table].add(reader, mode="overwrite" if mode == "overwrite" else "append")
        version = res.version
    elif table in db:
        raise CommandError(f"table {table!r} exists; pass --mode append or --mode overwrite")
    else:
        version = db.create_table(table, reader).version
    tbl = db[table]
    emit(
        {"table": table, "version": version, "rows": len(tbl)},
        as_json,
        [f"{table}: version {version}, {len(tbl)} rows"],
    )
    return 0


def export(path: str, table: str, file: str, where: str | None) -> int:
    """Writes a table's rows (those matching ``where``) to Parquet, CSV or JSON Lines,
    streamed batch by batch."""
    ext = Path(file).suffix.lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise CommandError(f"cannot tell the format of {file}: use .parquet, .csv or .jsonl")
    q = open_table(path, table).search()
    if where:
        q = q.where(where)
    reader = q.to_batches()
    rows = 0
    tmp = f"{file}.partial-{os.getpid()}"
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, reader.schema) as w:
                for b in reader:
                    w.write_batch(b)
                    rows += b.num_rows
        elif fmt == "csv":
            import pyarrow.csv as pc

            with pc.CSVWriter(tmp, reader.schema) as w:
                for b in reader:
                    w.write_batch(b)
                    rows += b.num_rows
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for b in reader:
                    for r in b.to_pylist():
                        f.write(json.dumps(r, default=_jsonable) + "\n")
                    rows += b.num_rows
        os.replace(tmp, file)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"{rows} rows written to {file}", file=sys.stderr)
    return 0


def _vector(text: str) -> np.ndarray:
    """A query vector from a ``.npy`` file, a JSON file, or a JSON list given inline."""
    p = Path(text)
    if p.suffix == ".npy" and p.is_file():
        return np.load(p)
    try:
        value = json.loads(p.read_text() if p.is_file() else text)
    except (ValueError, OSError) as e:
        raise CommandError(f"--vector: not a .npy file, a JSON file or a JSON list: {e}") from None
    return np.asarray(value, dtype=np.float32)


def query(
    path: str,
    table: str,
    where: str | None,
    vector: str | None,
    text: str | None,
    select: list[str] | None,
    limit: int | None,
    as_json: bool,
) -> int:
    """Runs a filtered scan, a vector search or a full-text search and prints the rows."""
    tbl = open_table(path, table)
    if vector is not None and text is not None:
        raise CommandError("give --vector or --text, not both")
    q = tbl.search(_vector(vector)) if vector is not None else tbl.search(text)
    if where:
        q = q.where(where)
    if select:
        q = q.select(select)
    q = q.limit(limit if limit is not None else (10 if (vector or text) else 20))
    result = q.to_arrow()
    vectors = [f.name for f in result.schema if pa.types.is_fixed_size_list(f.type)]
    rows = result.drop_columns(vectors).to_pylist() if not as_json else result.to_pylist()
    if as_json:
        emit(rows, True, [])
        return 0
    if not rows:
        print("no rows")
        return 0
    cols = list(rows[0])
    cells = [[_cell(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
    if vectors:
        print(f"({len(rows)} rows; vector column(s) {', '.join(vectors)} not shown)")
    return 0


def _cell(v: Any) -> str:
    s = f"{v:.4f}" if isinstance(v, float) else str(v)
    return s if len(s) <= 40 else s[:37] + "..."
