//! Vector queries: planned once from one pinned snapshot, then executed by path.
//!
//! - [`plan`]: every decision a query makes (vector column, metric, index or exact search,
//!   filter strategy, knobs), taken once per call from one snapshot, and printable
//!   (`Query.explain()` in Python).
//! - `exact`: brute-force search, the ground truth every index is measured against.
//! - `ann`: candidates from a vector index, re-ranked with the stored vectors and merged
//!   with an exact search of the rows the index does not cover.
//! - `assemble`: the one result-assembly step both paths share.

mod ann;
mod assemble;
mod exact;
pub mod plan;
pub mod text;
mod text_json;

pub use assemble::result_schema;
pub use plan::{ExactReason, FilterStrategy, KnobSource, MetricSource, Plan, SearchPath};
pub use text::{text_result_schema, TextSearch};
pub use text_json::parse_text_query;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::Schema;
use oxvec_core::{CancelToken, Error, Metric, Result};
use oxvec_query::Where;

use crate::ingest::vector_dim;
use crate::vectors::vector_view;

/// Largest k accepted.
pub const MAX_K: usize = 1 << 20;

/// A vector search request.
#[derive(Debug, Clone)]
pub struct VectorQuery {
    /// The vector column; found automatically when the table has exactly one.
    pub column: Option<String>,
    /// `num_queries` query vectors, row-major.
    pub vectors: Vec<f32>,
    pub num_queries: usize,
    /// `None`: the index's metric when the column has an index, else L2.
    pub metric: Option<Metric>,
    pub k: usize,
    /// Compiled against the schema of the version the query runs on.
    pub filter: Option<Where>,
    pub columns: Option<Vec<String>>,
    pub with_row_id: bool,
    /// Adds `query_index: uint32` (always set for multi-query searches).
    pub with_query_index: bool,
    /// Index search knobs (ignored by exact search).
    pub knobs: oxvec_index::SearchKnobs,
    /// Search exactly even when an index exists.
    pub bypass_index: bool,
}

/// A plan's decisions, owned (see [`crate::Table::explain`]); `text` is what
/// `Query.explain()` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub version: u64,
    pub path: SearchPath,
    pub filter_strategy: FilterStrategy,
    pub text: String,
}

/// Runs a planned query. Results are sorted by query, then distance ascending; the schema
/// is [`result_schema`]: the projected columns, `_distance: float32`, then `_rowid: uint64`
/// and `query_index: uint32` when asked.
pub fn execute(plan: &Plan<'_>, cancel: &CancelToken) -> Result<RecordBatch> {
    assemble::assemble(plan, tops(plan, cancel)?)
}

/// Each query's top-k, by the plan's path.
fn tops(plan: &Plan<'_>, cancel: &CancelToken) -> Result<Vec<oxvec_linalg::TopK>> {
    match &plan.path {
        SearchPath::Exact { .. } => exact::tops(plan, &|_| true, cancel),
        SearchPath::Index { .. } => ann::tops(plan, cancel),
    }
}

/// The row ids a planned query finds, nearest first, queries one after another (no result
/// assembly).
pub(crate) fn top_ids(plan: &Plan<'_>, cancel: &CancelToken) -> Result<Vec<u64>> {
    Ok(tops(plan, cancel)?
        .into_iter()
        .flat_map(|t| t.into_sorted().into_iter().map(|n| n.id))
        .collect())
}

/// Picks the vector column: the named one, or the only one. Returns (position, dimension).
pub fn resolve_vector_column(schema: &Schema, name: Option<&str>) -> Result<(usize, usize)> {
    if let Some(n) = name {
        let i = schema
            .index_of(n)
            .map_err(|_| Error::invalid(format!("no column named '{n}'")))?;
        let dim = vector_dim(schema.field(i).data_type()).ok_or_else(|| {
            Error::invalid(format!(
                "column '{n}' is {}, not a vector column",
                schema.field(i).data_type()
            ))
        })?;
        return Ok((i, dim));
    }
    let vecs: Vec<(usize, usize)> = (0..schema.fields().len())
        .filter_map(|i| vector_dim(schema.field(i).data_type()).map(|d| (i, d)))
        .collect();
    match vecs.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::invalid("the table has no vector column to search")),
        many => {
            let names: Vec<&str> = many
                .iter()
                .map(|&(i, _)| schema.field(i).name().as_str())
                .collect();
            Err(Error::invalid(format!(
                "the table has several vector columns {names:?}; pass vector_column="
            )))
        }
    }
}

/// Appends the squared L2 norm of every vector of `col` (a vector column) to `out`.
pub fn squared_norms(col: &ArrayRef, out: &mut Vec<f32>) {
    if let Some(v) = vector_view(col) {
        v.squared_norms(out);
    }
}
