//! HNSW over SQ8 codes: the graph index kind.
//!
//! - [`build`]: parallel construction; [`layer`]: the one layer walk build and search share.
//! - [`graph`]: the file layout and the in-place view of a built graph.
//! - [`search`]: the query walk over that view.
//!
//! Search returns the `ef` best nodes by SQ8 distance; the caller re-ranks them with the full
//! vectors.

pub mod build;
pub mod graph;
pub mod layer;
pub mod search;

use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::header::IndexHeader;
use crate::index::VectorIndex;
use crate::kind::{IndexBuilder, IndexKind, Knob, VectorKind};
use crate::options::BuildOptions;
use crate::source::{fold_blocks, VectorSource};
use crate::space::Space;
use build::Builder;
use graph::{Frozen, HnswHeader};
use layer::Scored;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_linalg::sq8::{Sq8, Sq8Query};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

/// Largest `m` a graph may have.
pub const MAX_M: usize = 128;

/// The HNSW kind (registered as `HNSW`, alias `HNSW_SQ`).
#[derive(Debug)]
pub struct Hnsw;

/// Build parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HnswParams {
    /// Neighbours per node on upper layers (twice that on layer 0).
    pub m: usize,
    pub ef_construction: usize,
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construction: 150,
            seed: 42,
        }
    }
}

impl HnswParams {
    /// The user's options checked and filled in; IVF options are refused.
    pub fn from_options(opts: &BuildOptions) -> Result<HnswParams> {
        if opts.num_partitions.is_some()
            || opts.num_sub_vectors.is_some()
            || opts.num_bits.is_some()
        {
            return Err(Error::invalid(
                "num_partitions, num_sub_vectors and num_bits apply to IVF indexes; HNSW takes m and ef_construction",
            ));
        }
        let d = HnswParams::default();
        let m = opts.m.unwrap_or(d.m);
        let efc = opts.ef_construction.unwrap_or(d.ef_construction);
        if !(2..=MAX_M).contains(&m) {
            return Err(Error::invalid(format!(
                "m must be between 2 and {MAX_M}, got {m}"
            )));
        }
        if !(1..=10_000).contains(&efc) {
            return Err(Error::invalid(format!(
                "ef_construction must be between 1 and 10000, got {efc}"
            )));
        }
        Ok(HnswParams {
            m,
            ef_construction: efc.max(m),
            seed: opts.seed(),
        })
    }
}

/// Distance from a prepared query to a code with decoded squared norm `norm`.
#[inline]
pub fn node_distance(space: Space, q: &Sq8Query, code: &[u8], norm: f32) -> f32 {
    space.from_dot(q.norm_sq, norm, q.dot(code))
}

impl IndexKind for Hnsw {
    fn name(&self) -> &'static str {
        "HNSW"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["HNSW_SQ"]
    }
}

impl VectorKind for Hnsw {
    fn knob(&self) -> Knob {
        Knob {
            name: "ef",
            default: 64,
            ladder: &[
                10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024,
            ],
        }
    }

    fn default_refine(&self) -> usize {
        0
    }

    fn builder(
        &self,
        space: Space,
        dim: usize,
        _n: usize,
        opts: &BuildOptions,
    ) -> Result<Box<dyn IndexBuilder>> {
        Ok(Box::new(HnswBuilder {
            space,
            dim,
            params: HnswParams::from_options(opts)?,
        }))
    }

    fn open(&self, file: IndexFile, header: IndexHeader) -> Result<Box<dyn VectorIndex>> {
        Ok(Box::new(HnswIndex {
            file,
            header,
            graph: OnceLock::new(),
        }))
    }
}

struct HnswBuilder {
    space: Space,
    dim: usize,
    params: HnswParams,
}

impl IndexBuilder for HnswBuilder {
    fn build(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
        w: &mut FileWriter,
    ) -> Result<serde_json::Value> {
        let (dim, n) = (self.dim, row_ids.len());
        // The graph is built over SQ8 codes; full vectors are read from the source only for
        // the node being inserted, so the build holds a quarter of the data, not a copy.
        let empty = || (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
        let merge = |mut a, b| {
            Sq8::merge_bounds(&mut a, &b);
            a
        };
        let bounds = fold_blocks(
            vectors,
            cancel,
            empty,
            |acc, _, rows| merge(acc, Sq8::bounds(rows, dim)),
            merge,
        )?;
        let sq = Sq8::from_bounds(bounds.0, bounds.1);
        let mut b = Builder::new(self.space, dim, self.params, sq, n);
        let vec_of = |i: u32| vectors.row(i as usize);
        b.encode(0..n as u32, &vec_of);
        vectors.release(0, n);
        b.insert_all(0..n as u32, &vec_of, progress, cancel)?;
        fields_json(&graph::write(&b, row_ids, w))
    }
}

fn fields_json(f: &graph::HnswFields) -> Result<serde_json::Value> {
    serde_json::to_value(f).map_err(|e| Error::internal("encoding the HNSW header", e))
}

/// An opened HNSW file; the graph's small header is parsed and checked on first use.
#[derive(Debug)]
pub struct HnswIndex {
    file: IndexFile,
    header: IndexHeader,
    graph: OnceLock<std::result::Result<HnswHeader, String>>,
}

impl HnswIndex {
    /// The graph viewed in place.
    pub fn graph(&self) -> Result<Frozen<'_>> {
        let f = &self.file;
        let h = self
            .graph
            .get_or_init(|| HnswHeader::read(f, &self.header).map_err(|e| e.to_string()));
        match h {
            Ok(h) => Frozen::view(f, h),
            Err(m) => Err(Error::corrupt(f.path(), m.clone())),
        }
    }
}

impl VectorIndex for HnswIndex {
    fn kind(&self) -> &'static dyn VectorKind {
        &Hnsw
    }

    fn header(&self) -> &IndexHeader {
        &self.header
    }

    fn file(&self) -> &IndexFile {
        &self.file
    }

    fn candidates(
        &self,
        q: &[f32],
        param: usize,
        keep: usize,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        let mut out = self.graph()?.search(q, param.max(keep), filter);
        out.truncate(keep);
        Ok(out)
    }

    fn resolve(&self, k: usize, param: usize, refine: usize) -> (usize, usize) {
        // A beam wider than the graph finds nothing more.
        let ef = param.max(k).min(self.header.len.max(k).max(1));
        let rerank = if refine == 0 {
            ef
        } else {
            k.saturating_mul(refine).min(ef).max(k)
        };
        (ef, rerank)
    }

    /// A graph walk meets about `selectivity * ef` admitted nodes per region, so its beam
    /// grows by `1/sqrt(selectivity)`.
    fn widen_for_filter(&self, param: usize, selectivity: f32) -> usize {
        if selectivity >= 1.0 {
            return param;
        }
        ((param as f32) / selectivity.max(0.05).sqrt()) as usize
    }

    /// About `ef` nodes are expanded, each scoring its layer-0 neighbours.
    fn estimate_visited(&self, param: usize) -> usize {
        let m0 = self.graph().map_or(32, |g| g.m0);
        param.saturating_mul(m0).min(self.header.len)
    }

    fn extend_with(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
        w: &mut FileWriter,
    ) -> Result<serde_json::Value> {
        let old = self.graph()?;
        let n0 = old.n as u32;
        let mut b = Builder::extend(&old, row_ids.len());
        let vec_of = |i: u32| vectors.row((i - n0) as usize);
        let n1 = n0 + row_ids.len() as u32;
        b.encode(n0..n1, &vec_of);
        b.insert_all(n0..n1, &vec_of, progress, cancel)?;
        let mut rows = self.file.get::<u64>("row_ids")?.to_vec();
        rows.extend_from_slice(row_ids);
        fields_json(&graph::write(&b, &rows, w))
    }

    fn verify_structure(&self) -> Result<()> {
        self.graph().map(|_| ())
    }

    fn params(&self) -> serde_json::Value {
        self.header
            .kind_header
            .get("params")
            .cloned()
            .unwrap_or_default()
    }
}
