//! oxvec-index: the index kinds and what they share.
//!
//! - [`kind`]: the traits a kind implements ([`IndexKind`], [`VectorKind`], [`IndexBuilder`]);
//!   [`index`]: the opened-index trait [`VectorIndex`] and what every kind shares.
//! - [`registry`]: every kind, one line each, and [`build`] / [`open`].
//! - One module per kind: [`hnsw`] (graph over SQ8 codes), [`ivf_pq`] and [`ivf_rq`] (IVF
//!   partitions, [`ivf`], with product-quantized or RaBitQ residuals).
//! - [`file`]: the checksummed container every index is one immutable file of, searched in
//!   place from a memory map; [`header`]: its typed, versioned header.
//! - [`source`]: where a build reads its vectors, by range, so it need not hold them all.
//! - [`calibrate`]: measures an index's recall against exact search at build time so a query
//!   can ask for a recall instead of a knob.
//!
//! Indexes return *candidates* with estimated distances; the caller re-ranks them with the
//! full vectors. Depends on oxvec-core and oxvec-linalg only: no Arrow, no table format, no
//! Python.

pub mod calibrate;
pub mod file;
pub mod filter;
pub mod header;
pub mod hnsw;
pub mod index;
pub mod ivf;
pub mod ivf_pq;
pub mod ivf_rq;
pub mod kind;
pub mod options;
pub mod registry;
pub mod scalar;
pub mod source;
pub mod space;
pub mod text;
mod visited;

pub use calibrate::{calibrate, Calibration, CAL_K};
pub use filter::NodeFilter;
pub use header::IndexHeader;
pub use hnsw::layer::Scored;
pub use index::{prepare_all, VectorIndex};
pub use kind::{IndexBuilder, IndexKind, Knob, VectorKind};
pub use options::{BuildOptions, SearchKnobs, DEFAULT_RECALL};
pub use registry::{build, open, vector_kind};
pub use source::{Rows, VectorSource};
pub use space::Space;
