//! How an IVF kind codes the residuals (vector minus centroid) of its partitions: the one
//! thing `IVF_PQ` and `IVF_RQ` do differently.

use super::IvfParams;
use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::kind::VectorKind;
use crate::options::BuildOptions;
use crate::space::Space;
use oxvec_core::{CancelToken, Result};
use oxvec_linalg::TopK;
use std::fmt::Debug;

/// One partition's stored entries: node ids, codes (`code_bytes` each) and per-entry
/// factors (`FACTORS` each).
#[derive(Debug, Clone, Copy)]
pub struct Entries<'a> {
    pub ids: &'a [u32],
    pub codes: &'a [u8],
    pub factors: &'a [f32],
}

/// A residual coder for IVF.
pub trait Codec: Sized + Send + Sync + Debug + 'static {
    /// `f32` factors stored beside each code.
    const FACTORS: usize;
    /// The codec's name in `index_stats` params (`Pq`, `Rq`).
    const NAME: &'static str;
    /// The registered kind's name (`IVF_PQ`, ...).
    const KIND_NAME: &'static str;
    /// Candidates re-ranked per result when the query does not say.
    const DEFAULT_REFINE: usize;
    /// Per-query state, prepared once per search.
    type Query<'a>;
    /// Per-thread scratch while encoding.
    type Scratch: Default;

    /// The registered kind this codec makes.
    fn kind() -> &'static dyn VectorKind;
    /// The codec's options checked and filled in: `(num_sub_vectors, num_bits)`.
    fn resolve(dim: usize, opts: &BuildOptions) -> Result<(usize, usize)>;
    /// Bytes of one code.
    fn code_bytes(dim: usize, params: &IvfParams) -> usize;
    /// Trains on `data` (prepared, row-major) given the trained `centroids`.
    fn train(
        dim: usize,
        data: &[f32],
        centroids: &[f32],
        params: &IvfParams,
        cancel: &CancelToken,
    ) -> Result<Self>;
    /// The trained state stored in `file` (checked for size).
    fn load(file: &IndexFile, dim: usize, params: &IvfParams) -> Result<Self>;
    /// Writes the trained state's sections.
    fn write(&self, centroids: &[f32], dim: usize, w: &mut FileWriter);
    /// Codes one residual into `code` and `factors`.
    fn encode(&self, resid: &[f32], s: &mut Self::Scratch, code: &mut [u8], factors: &mut [f32]);
    /// Prepares the query `q` (prepared, index space) for scanning partitions.
    fn query<'a>(&'a self, space: Space, q: &[f32], file: &'a IndexFile)
        -> Result<Self::Query<'a>>;
    /// Pushes the estimated distance of every allowed entry of partition `p` (centroid `c`)
    /// into `top`.
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        space: Space,
        query: &mut Self::Query<'_>,
        q: &[f32],
        p: usize,
        c: &[f32],
        entries: Entries<'_>,
        filter: Option<&NodeFilter>,
        top: &mut TopK,
    ) -> Result<()>;
}
