//! oxvec: the Rust facade of the embedded vector database.
//!
//! [`Database`] is a directory of tables; [`Table`] is a versioned set of Arrow fragments with
//! exact vector search ([`VectorQuery`]), filtered scans ([`ScanRequest`]), deletes, updates
//! and time travel. Everything here is usable from Rust alone; the Python bindings live in
//! `oxvec-py` and add nothing but conversions.

mod bad_vectors;
mod database;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
mod memory;
mod options;
pub mod query;
mod scalar;
pub mod scan;
mod served;
mod snapshot;
mod table;
pub mod take;
mod texts;
mod vectors;
pub mod write;

pub use bad_vectors::BadVectors;
pub use database::{CreateMode, CreateOptions, Database};
pub use options::{TableOptions, SMALL_FRAGMENT_ROWS};
pub use oxvec_core::{CancelToken, Error, Metric, Result, RowId};
pub use oxvec_index::text::{AnalyzerOptions, BaseTokenizer, Bm25Params, Operator, TextQuery};
pub use oxvec_index::{vector_kind, BuildOptions, SearchKnobs, VectorKind};
pub use oxvec_query::{Filter, ScalarValue, Where};
pub use oxvec_storage::IndexMeta;
pub use query::{parse_text_query, Explanation, Plan, TextSearch, VectorQuery};
pub use scan::ScanRequest;
pub use table::{
    calibration_warning, AddMode, BatchFn, CleanupStats, ColumnChange, ColumnRewrite, IndexRequest,
    MergeInsert, MergeStats, OptimizeStats, Progress, RowsChanged, ScalarIndexRequest, ScanStream,
    Table, TextIndexRequest, TextParams, VerifyReport, VersionInfo, UNVERIFIED_GRACE,
};
pub use write::Assignment;

/// Which SIMD kernels this CPU runs (`avx512`, `avx2`, `neon` or `scalar`).
pub fn kernels_name() -> &'static str {
    oxvec_linalg::kernels().name
}
