//! oxvec-core: the types every other oxvec crate shares.
//!
//! It holds the one error enum of the engine, table-name validation, the distance metrics and
//! the vocabulary many crates pass around: row ids, vector views, the clock.
//! It must not depend on IO, Arrow or Python, so that everything else can depend on it.

mod cancel;
pub mod clock;
mod error;
mod metric;
mod names;
mod row_id;
mod vector;

pub use cancel::CancelToken;
pub use error::{Error, Result};
pub use metric::Metric;
pub use names::{validate_index_name, validate_table_name, validate_tag_name};
pub use row_id::RowId;
pub use vector::{VectorValues, VectorView};
