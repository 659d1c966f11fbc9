"""Applying a table's embedding functions: reading the configuration from the schema's
metadata, adding vector columns to data on its way in, embedding queries."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .embeddings.base import METADATA_KEY, EmbeddingFunction, EmbeddingFunctionConfig
from .exceptions import InvalidInputError

__all__ = ["TableEmbeddings", "check_configs", "configs_of_model"]


def check_configs(configs: Sequence[EmbeddingFunctionConfig], schema: pa.Schema | None) -> None:
    """Refuses configurations that cannot work, before any row is embedded: a function
    filling its own source, two functions filling one column, a dimension that is not a
    positive integer, and (with ``schema``) a source that is not text or a vector column
    whose type disagrees with the function."""
    filled = {c.vector_column for c in configs}
    for c in configs:
        if c.source_column in filled and c.source_column != c.vector_column:
            raise InvalidInputError(
                f"embedding source column {c.source_column!r} is itself filled by an "
                "embedding function; embed from a text column"
            )
    filled = set()
    for c in configs:
        if c.source_column == c.vector_column:
            raise InvalidInputError(
                f"embedding function {c.function!r} would overwrite its source column "
                f"{c.source_column!r}; name another vector column"
            )
        if c.vector_column in filled:
            raise InvalidInputError(f"two embedding functions fill column {c.vector_column!r}")
        filled.add(c.vector_column)
        dim = c.function.ndims()
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim <= 0:
            raise InvalidInputError(
                f"embedding function {c.function!r}: ndims() must be a positive integer, "
                f"got {dim!r}"
            )
        if schema is None:
            continue
        if c.source_column in schema.names:
            t = schema.field(c.source_column).type
            if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)):
                raise InvalidInputError(
                    f"embedding source column {c.source_column!r} must hold text, not {t}"
                )
        if c.vector_column in schema.names:
            t = schema.field(c.vector_column).type
            size = getattr(t, "list_size", None) if pa.types.is_fixed_size_list(t) else None
            listed = pa.types.is_list(t) or pa.types.is_large_list(t) or size is not None
            if pa.types.is_null(t):
                continue
            if not listed or not pa.types.is_floating(t.value_type):
                raise InvalidInputError(
                    f"column {c.vector_column!r} is filled by embedding function "
                    f"{c.function!r} and must hold float vectors, not {t}"
                )
            if size is not None and size != int(dim):
                raise InvalidInputError(
                    f"column {c.vector_column!r} holds vectors of dimension {size}, but "
                    f"embedding function {c.function!r} makes {int(dim)}"
                )


def configs_of_model(model: Any) -> list[EmbeddingFunctionConfig]:
    """The embedding functions a Pydantic model declares with ``SourceField`` /
    ``VectorField``."""
    fields = getattr(model, "model_fields", {})
    sources: dict[int, str] = {}
    vectors: dict[int, tuple[str, EmbeddingFunction]] = {}
    for name, f in fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        func = extra.get("oxvec_function")
        if not isinstance(func, EmbeddingFunction):
            continue
        if extra.get("oxvec_embedding") == "source":
            sources[id(func)] = name
        elif extra.get("oxvec_embedding") == "vector":
            vectors[id(func)] = (name, func)
    out = []
    for key, (vec, func) in vectors.items():
        if key not in sources:
            raise InvalidInputError(
                f"model field {vec!r} is a VectorField of {func!r}, but no field is its SourceField"
            )
        out.append(EmbeddingFunctionConfig(sources[key], vec, func))
    return out


class TableEmbeddings:
    """A table's embedding configuration, its functions made on first use."""

    def __init__(self, specs: list[dict[str, Any]], table: str) -> None:
        self.specs = specs
        self.table = table
        self._made: dict[int, EmbeddingFunction] = {}

    @classmethod
    def of_schema(cls, schema: pa.Schema, table: str) -> TableEmbeddings | None:
        raw = (schema.metadata or {}).get(METADATA_KEY)
        if not raw:
            return None
        try:
            specs = json.loads(raw)
            assert isinstance(specs, list) and all(isinstance(s, dict) for s in specs)
        except (ValueError, AssertionError):
            # Unreadable configuration: the table still reads; embedding says why it cannot.
            specs = [{"broken": raw.decode("utf-8", "replace")[:200]}]
        return cls(specs, table)

    @staticmethod
    def schema_with(
        schema: pa.Schema | None, configs: Sequence[EmbeddingFunctionConfig]
    ) -> pa.Schema | None:
        """``schema`` with each config's vector column (added when missing) and the
        configuration in its metadata (``None`` stays ``None``)."""
        if schema is None:
            return None
        for c in configs:
            if c.source_column not in schema.names:
                raise InvalidInputError(
                    f"embedding source column {c.source_column!r} is not in the schema"
                )
            if c.vector_column not in schema.names:
                schema = schema.append(pa.field(c.vector_column, c.vector_type()))
        return with_metadata(schema, configs)

    def function(self, i: int) -> EmbeddingFunction:
        if i not in self._made:
            spec = self.specs[i]
            if "broken" in spec:
                raise InvalidInputError(
                    f"table {self.table!r} has an unreadable embedding configuration: "
                    f"{spec['broken']!r}"
                )
            from .embeddings import get_registry

            try:
                self._made[i] = get_registry().make(spec)
            except Exception as e:
                raise InvalidInputError(
                    f"table {self.table!r} embeds column {spec.get('source_column')!r} with "
                    f"{spec.get('name')!r} {spec.get('params', {})}, which is not available "
                    f"here: {e}"
                ) from e
        return self._made[i]

    def query_vector(self, query: str, vector_column: str | None) -> tuple[np.ndarray, str]:
        """``query`` embedded for ``vector_column`` (the only configured one if ``None``)."""
        picks = [
            i
            for i, s in enumerate(self.specs)
            if vector_column is None or s.get("vector_column") == vector_column
        ]
        if len(picks) != 1:
            cols = [s.get("vector_column") for s in self.specs]
            raise InvalidInputError(
                f"table {self.table!r} embeds into {cols}; pass vector_column= to choose"
                if picks
                else f"no embedding function fills vector column {vector_column!r} (only {cols})"
            )
        i = picks[0]
        return self.function(i).embed_query(query), str(self.specs[i]["vector_column"])

    def update_values(self, values: Any, values_sql: Any) -> tuple[dict[str, Any] | None, Any]:
        """``update``'s new values with the vector of each embedded source column set."""
        out = dict(values) if isinstance(values, Mapping) else values
        for i, spec in enumerate(self.specs):
            src, vec = spec.get("source_column"), spec.get("vector_column")
            if isinstance(values_sql, Mapping) and src in values_sql:
                raise InvalidInputError(
                    f"column {src!r} is embedded into {vec!r}: set it with values=, not "
                    "values_sql (an SQL expression cannot be embedded)"
                )
            if isinstance(out, dict) and src in out and vec not in out:
                text = out[src]
                if text is None:
                    raise InvalidInputError(
                        f"cannot set {src!r} to null: column {vec!r} is embedded from it and "
                        "vectors are never null (set both, or give a text)"
                    )
                out[vec] = self.function(i).embed([str(text)])[0].tolist()
        return out, values_sql

    def embed_stream(
        self,
        data: Any,
        metadata: dict[bytes, bytes] | None = None,
        configs: Sequence[EmbeddingFunctionConfig] | None = None,
    ) -> Any:
        """``data`` (an Arrow stream) with every configured vector column filled where the
        rows lack it (a missing column, or a null vector) from the source column, batch
        by batch; the output schema carries ``metadata`` when given, and the stream's
        schema is checked against ``configs`` when given."""
        reader = pa.RecordBatchReader.from_stream(data)
        if configs is not None:
            check_configs(configs, reader.schema)
        first = _next(reader)
        if first is None:
            return reader
        first_rows = first.num_rows
        for c in configs or []:
            # The table's vector type comes from these rows: they must agree with the function.
            if c.vector_column in first.schema.names:
                col = first.column(c.vector_column)
                if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
                    continue
                lens = pc.list_value_length(col).to_numpy(zero_copy_only=False)
                dim = int(c.function.ndims())
                bad = np.flatnonzero(~np.isnan(lens.astype(float)) & (lens != dim))
                if len(bad):
                    raise InvalidInputError(
                        f"row {bad[0]}: column {c.vector_column!r} holds a vector of dimension "
                        f"{lens[bad[0]]}, but {c.function!r} makes {dim}"
                    )
        first = self._embed_batch(first)
        schema = first.schema
        if metadata is not None:
            schema = schema.with_metadata({**(schema.metadata or {}), **metadata})

        def batches() -> Iterator[pa.RecordBatch]:
            yield first
            base = first_rows
            for b in reader:
                yield self._embed_batch(b, first.schema, base)
                base += b.num_rows

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _embed_batch(
        self, batch: pa.RecordBatch, schema: pa.Schema | None = None, base: int = 0
    ) -> pa.RecordBatch:
        for i, spec in enumerate(self.specs):
            src, vec = spec.get("source_column"), spec.get("vector_column")
            if src not in batch.schema.names:
                if vec in batch.schema.names:
                    continue
                raise InvalidInputError(
                    f"rows for table {self.table!r} need column {src!r} (embedded into {vec!r}) "
                    f"or {vec!r} itself"
                )
            present = batch.column(vec) if vec in batch.schema.names else None
            if present is not None and present.null_count == 0:
                continue
            texts = batch.column(src).to_pylist()
            need = [
                t if present is None or not present[j].is_valid else None
                for j, t in enumerate(texts)
            ]
            # A row with neither a text nor a vector cannot get one: vectors are never null.
            for j, t in enumerate(texts):
                if t is None and (present is None or not present[j].is_valid):
                    raise InvalidInputError(
                        f"row {base + j}: column {src!r} is null and so is {vec!r}; a row "
                        f"needs a text to embed or a vector"
                    )
            func = self.function(i)
            emb = func.embed(need)
            dim = emb.shape[1]
            if present is not None:
                old = present.to_pylist()
                bad = next((j for j, o in enumerate(old) if o is not None and len(o) != dim), None)
                if bad is not None:
                    raise InvalidInputError(
                        f"row {base + bad}: column {vec!r} holds a vector of dimension "
                        f"{len(old[bad])}, but {func!r} makes {dim}"
                    )
                rows = [old[j] if old[j] is not None else emb[j] for j in range(len(old))]
                arr = pa.array(rows, pa.list_(pa.float32(), dim))
                batch = batch.set_column(batch.schema.get_field_index(vec), vec, arr)
            else:
                arr = pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), dim)
                batch = batch.append_column(vec, arr)
        if schema is not None and batch.schema != schema:
            batch = (
                batch.select(schema.names)
                if set(batch.schema.names) == set(schema.names)
                else batch
            )
        return batch


def with_metadata(schema: pa.Schema, configs: Sequence[EmbeddingFunctionConfig]) -> pa.Schema:
    meta = dict(schema.metadata or {})
    meta[METADATA_KEY] = json.dumps([c.to_json() for c in configs]).encode()
    return schema.with_metadata(meta)


def _next(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
