//! oxvec-query: the filter language.
//!
//! A SQL `WHERE` subset (comparisons, `AND`/`OR`/`NOT`, `IN`, `BETWEEN`, `LIKE`/`ILIKE`,
//! `IS [NOT] NULL`, arithmetic) is parsed with `sqlparser` into a typed [`Expr`], type-checked
//! against a schema, and evaluated on Arrow record batches with Arrow's compute kernels.
//! User values are bound to `?` placeholders, never spliced into the text.
//!
//! No IO, no storage, no Python.

mod eval;
mod expr;
mod functions;
mod parse;
mod projection;
mod scalar;

pub use eval::{evaluate, filter_mask, Value};
pub use expr::{BinaryOp, Expr, Func};
pub use parse::{parse_expr, Filter, Prefilter, Where, MAX_FILTER_LEN};
pub use projection::{Output, Projection};
pub use scalar::ScalarValue;
