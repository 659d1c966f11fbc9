//! oxvec-core: the types every other oxvec crate shares.
//!
//! It holds the one error enum of the engine, table-name validation and the distance metrics.
//! It must not depend on IO, Arrow or Python, so that everything else can depend on it.

mod cancel;
mod error;
mod metric;
mod names;

pub use cancel::CancelToken;
pub use error::{Error, Result};
pub use metric::Metric;
pub use names::{validate_table_name, validate_tag_name};
