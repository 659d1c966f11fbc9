//! What an index kind is: the traits every kind implements, one module per kind.
//!
//! - [`IndexKind`]: any kind's name and aliases (what the registry looks up).
//! - [`VectorKind`]: a vector index kind: its search knob, how to build one
//!   ([`IndexBuilder`]) and how to open one ([`VectorIndex`], in [`crate::index`]).
//!
//! Scalar and full-text kinds get sibling traits (`ScalarKind`, `TextKind`) beside
//! `VectorKind`, and [`crate::registry::Registered`] a variant for each; see
//! `docs/architecture.md` for that split.

use crate::file::{FileWriter, IndexFile};
use crate::header::IndexHeader;
use crate::index::VectorIndex;
use crate::options::BuildOptions;
use crate::source::VectorSource;
use crate::space::Space;
use oxvec_core::{CancelToken, Result};
use std::fmt::Debug;
use std::sync::atomic::AtomicU64;

/// Any index kind, as the registry knows it.
pub trait IndexKind: Debug + Send + Sync {
    /// The canonical name users pass and index files record (`HNSW`, `IVF_PQ`, ...).
    fn name(&self) -> &'static str;
    /// Other names accepted for it (upper case).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
}

/// The search-time setting a vector kind trades speed for recall with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knob {
    /// `ef` or `nprobes`.
    pub name: &'static str,
    /// Used when neither the query nor a calibration says.
    pub default: usize,
    /// Settings calibration measures, in increasing order (capped by the index).
    pub ladder: &'static [usize],
}

/// A vector index kind.
pub trait VectorKind: IndexKind {
    fn knob(&self) -> Knob;
    /// Candidates re-ranked per result when the query does not say (`refine_factor`).
    fn default_refine(&self) -> usize;
    /// A builder for `n` vectors of `dim` in `space`, after checking `opts` (options of
    /// another kind are refused here, before any data is read).
    fn builder(
        &self,
        space: Space,
        dim: usize,
        n: usize,
        opts: &BuildOptions,
    ) -> Result<Box<dyn IndexBuilder>>;
    /// Opens a file whose header names this kind. Reads no more than the header.
    fn open(&self, file: IndexFile, header: IndexHeader) -> Result<Box<dyn VectorIndex>>;
}

/// Builds one index file's sections.
pub trait IndexBuilder {
    /// Builds over `vectors` (prepared: unit length for cosine); node `i` is table row
    /// `row_ids[i]`. Writes the sections to `w` and returns the kind's header fields.
    fn build(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
        w: &mut FileWriter,
    ) -> Result<serde_json::Value>;
}
