"""Type stubs of the compiled core (checked against it with ``mypy.stubtest``)."""

from collections.abc import Callable, Sequence
from typing import Any, final

__all__ = [
    "ArrowStream",
    "BatchStream",
    "CancelScope",
    "Database",
    "Table",
    "__version__",
    "_set_call_timeout",
    "_set_cancel_scope",
    "project_stream",
    "projection_columns",
    "simd_kernels",
]
__version__: str

def simd_kernels() -> str: ...
def _set_call_timeout(seconds: float | None) -> float | None: ...
def _set_cancel_scope(scope: CancelScope | None) -> CancelScope | None: ...

@final
class CancelScope:
    def __new__(cls) -> CancelScope: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

def projection_columns(outputs: list[tuple[str, str | None]], schema: object) -> list[str]: ...
def project_stream(
    data: object, outputs: list[tuple[str, str | None]], keep: list[str]
) -> ArrowStream: ...

@final
class ArrowStream:
    @property
    def num_rows(self) -> int: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def numpy_columns(self) -> list[tuple[str, tuple[str, bytearray, int] | None]]: ...
    def export_batch(self) -> tuple[int, int] | None: ...
    def project(self, outputs: list[tuple[str, str | None]], keep: list[str]) -> ArrowStream: ...

@final
class BatchStream:
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def project(self, outputs: list[tuple[str, str | None]], keep: list[str]) -> BatchStream: ...

@final
class Database:
    def __new__(
        cls,
        uri: str,
        read_consistency_interval: float | None = ...,
        auto_compact_fragments: int = 64,
        auto_cleanup_every: int = 100,
        auto_cleanup_older_than: float = ...,
        monitor_recall: bool = True,
        inline_deletions: bool = True,
        max_retries: int = 10,
    ) -> Database: ...
    @property
    def uri(self) -> str: ...
    def table_names(self) -> list[str]: ...
    def contains(self, name: str) -> bool: ...
    def open_table(self, name: str) -> Table: ...
    def drop_table(self, name: str) -> None: ...
    def rename_table(self, cur_name: str, new_name: str) -> None: ...
    def create_table(
        self,
        name: str,
        data: object | None = None,
        schema: object | None = None,
        mode: str = "create",
        exist_ok: bool = False,
        on_bad_vectors: str = "error",
        fill_value: float = 0.0,
    ) -> Table: ...

@final
class Table:
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def is_detached(self) -> bool: ...
    def schema_stream(self) -> ArrowStream: ...
    def count_rows(self, filter: str | None = None, params: Sequence[Any] | None = None) -> int: ...
    def add(
        self,
        data: object,
        mode: str = "append",
        on_bad_vectors: str = "error",
        fill_value: float = 0.0,
    ) -> int: ...
    def delete(self, filter: str, params: Sequence[Any] | None = None) -> tuple[int, int]: ...
    def update(
        self,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        values: object | None = None,
        values_sql: dict[str, str] | None = None,
    ) -> tuple[int, int]: ...
    def scan(
        self,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: list[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        with_row_id: bool = False,
    ) -> ArrowStream: ...
    def search(
        self,
        vectors: bytes,
        num_queries: int,
        column: str | None = None,
        metric: str | None = None,
        k: int = 10,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: list[str] | None = None,
        with_row_id: bool = False,
        ef: int | None = None,
        nprobes: int | None = None,
        refine_factor: int | None = None,
        target_recall: float | None = None,
        bypass_vector_index: bool = False,
    ) -> ArrowStream: ...
    def explain(
        self,
        vectors: bytes,
        num_queries: int,
        column: str | None = None,
        metric: str | None = None,
        k: int = 10,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: list[str] | None = None,
        with_row_id: bool = False,
        ef: int | None = None,
        nprobes: int | None = None,
        refine_factor: int | None = None,
        target_recall: float | None = None,
        bypass_vector_index: bool = False,
    ) -> str: ...
    def search_text(
        self,
        query: str,
        k: int = 10,
        offset: int = 0,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: list[str] | None = None,
        with_row_id: bool = False,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> ArrowStream: ...
    def search_hybrid(
        self,
        vectors: bytes,
        text_query: str,
        column: str | None = None,
        metric: str | None = None,
        k: int = 10,
        text_k: int = 10,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: list[str] | None = None,
        ef: int | None = None,
        nprobes: int | None = None,
        refine_factor: int | None = None,
        target_recall: float | None = None,
        bypass_vector_index: bool = False,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> tuple[ArrowStream, ArrowStream]: ...
    def explain_text(
        self,
        query: str,
        k: int = 10,
        offset: int = 0,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: list[str] | None = None,
        with_row_id: bool = False,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> str: ...
    def create_fts_index(
        self,
        columns: list[str],
        base_tokenizer: str = "simple",
        language: str = "english",
        stem: bool = True,
        remove_stop_words: bool = True,
        lower_case: bool = True,
        ascii_folding: bool = True,
        with_position: bool = True,
        max_token_length: int = 40,
        ngram_min_length: int = 3,
        ngram_max_length: int = 3,
        prefix_only: bool = False,
        replace: bool = True,
        name: str | None = None,
        progress: Callable[[int, int, bool], object] | None = None,
    ) -> str: ...
    def create_scalar_index(
        self,
        column: str,
        index_type: str = "BTREE",
        replace: bool = True,
        name: str | None = None,
        progress: Callable[[int, int, bool], object] | None = None,
    ) -> str: ...
    def _refresh_looks(self) -> int: ...
    def create_index(
        self,
        column: str | None = None,
        index_type: str = "HNSW",
        metric: str = "cosine",
        replace: bool = True,
        m: int | None = None,
        ef_construction: int | None = None,
        num_partitions: int | None = None,
        num_sub_vectors: int | None = None,
        num_bits: int | None = None,
        progress: Callable[[int, int, bool], object] | None = None,
        calibration_queries: bytes | None = None,
        name: str | None = None,
    ) -> str: ...
    def optimize(
        self, progress: Callable[[int, int, bool], object] | None = None
    ) -> tuple[int, int, int]: ...
    def list_indices(self) -> list[tuple[str, str, str, str]]: ...
    def rewrite_columns(
        self,
        computed: list[tuple[str, str]],
        cast: object | None = None,
        function: object | None = None,
        function_schema: object | None = None,
    ) -> int: ...
    def alter_columns(
        self, steps: Sequence[tuple[str, str, str]], add: object | None = None
    ) -> int: ...
    def scan_stream(
        self,
        filter: str | None = None,
        params: Sequence[Any] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        with_row_id: bool = False,
        batch_size: int = 16384,
    ) -> BatchStream: ...
    def take(
        self,
        rows: Sequence[int],
        by: str,
        columns: Sequence[str] | None = None,
        with_row_id: bool = False,
    ) -> ArrowStream: ...
    def stats(self) -> str: ...
    def index_stats(self, name: str) -> str: ...
    def drop_index(self, name: str) -> int: ...
    def merge_insert(
        self,
        data: object,
        on: list[str],
        update_matched: bool = False,
        matched_where: str | None = None,
        insert_not_matched: bool = False,
        delete_not_matched_by_source: bool = False,
        delete_where: str | None = None,
        params: Sequence[Any] | None = None,
    ) -> tuple[int, int, int, int]: ...
    def cleanup_old_versions(
        self, older_than_seconds: float, delete_unverified: bool = False
    ) -> tuple[int, int, int, list[str]]: ...
    def verify(self, deep: bool = False) -> tuple[int, int, int, list[str]]: ...
    def create_tag(self, name: str, version: int | None = None) -> None: ...
    def list_tags(self) -> list[tuple[str, int, int]]: ...
    def delete_tag(self, name: str) -> None: ...
    def checkout_tag(self, name: str) -> None: ...
    def list_versions(self) -> list[tuple[int, int, str, int]]: ...
    def checkout(self, version: int) -> None: ...
    def checkout_latest(self) -> None: ...
    def restore(self, version: int | None = None) -> int: ...
