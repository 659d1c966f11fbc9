//! oxvec-index: approximate nearest-neighbour indexes.
//!
//! - `HNSW`: a navigable small-world graph over SQ8 codes ([`hnsw`]).
//! - `IVF_PQ` / `IVF_RQ`: k-means partitions with product-quantized or RaBitQ residual codes
//!   ([`ivf`]).
//!
//! Every index is one immutable file ([`file`]) searched in place from a memory map, and
//! returns *candidates* with estimated distances; the caller re-ranks them with the full
//! vectors. [`calibrate`] measures an index's recall against exact search at build time so a
//! query can ask for a recall instead of a knob. Depends on oxvec-core and oxvec-linalg only:
//! no Arrow, no table format, no Python.

pub mod calibrate;
pub mod file;
pub mod filter;
pub mod hnsw;
pub mod ivf;
pub mod space;
mod visited;

pub use calibrate::{calibrate, Calibration};
pub use filter::NodeFilter;
pub use hnsw::layer::Scored;
pub use space::Space;

use file::{FileWriter, IndexFile};
use hnsw::{build::Builder, Frozen, HnswParams};
use ivf::{Codec, Ivf};
use oxvec_core::{CancelToken, Error, Metric, Result};
use oxvec_linalg::sq8::Sq8;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

/// The index families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexType {
    #[serde(rename = "HNSW")]
    Hnsw,
    #[serde(rename = "IVF_PQ")]
    IvfPq,
    #[serde(rename = "IVF_RQ")]
    IvfRq,
}

impl IndexType {
    /// Parses `HNSW`, `IVF_PQ`, `IVF_RQ` (any case; `IVF_HNSW_SQ`-style aliases are not taken).
    pub fn parse(s: &str) -> Result<IndexType> {
        match s.to_ascii_uppercase().as_str() {
            "HNSW" | "HNSW_SQ" => Ok(IndexType::Hnsw),
            "IVF_PQ" => Ok(IndexType::IvfPq),
            "IVF_RQ" => Ok(IndexType::IvfRq),
            _ => Err(Error::invalid(format!(
                "unknown index_type '{s}'; expected 'HNSW', 'IVF_PQ' or 'IVF_RQ'"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            IndexType::Hnsw => "HNSW",
            IndexType::IvfPq => "IVF_PQ",
            IndexType::IvfRq => "IVF_RQ",
        }
    }

    /// Candidates re-ranked per result when the query does not say (`refine_factor`).
    pub fn default_refine(self) -> usize {
        match self {
            IndexType::Hnsw => 0,
            IndexType::IvfPq => 10,
            IndexType::IvfRq => 20,
        }
    }
}

/// What the user may set at build time; `None` means the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildOptions {
    pub m: Option<usize>,
    pub ef_construction: Option<usize>,
    pub num_partitions: Option<usize>,
    pub num_sub_vectors: Option<usize>,
    pub num_bits: Option<usize>,
    pub seed: Option<u64>,
}

/// Search knobs; `None` means "from calibration".
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SearchKnobs {
    pub ef: Option<usize>,
    pub nprobes: Option<usize>,
    pub refine_factor: Option<usize>,
    pub target_recall: Option<f32>,
}

/// Recall the index aims for (on its calibration queries) when the query sets no knob.
/// Calibration queries are sampled rows moved off the data; real held-out queries measured
/// about 0.03 lower (MiniLM: 0.942 at a calibrated 0.97), so the default aims high.
pub const DEFAULT_RECALL: f32 = 0.99;

/// Builds an index over `vectors` (raw, row-major, `dim` wide; node `i` is `row_ids[i]`).
/// Returns the file bytes and the header CRC the manifest records.
#[allow(clippy::too_many_arguments)]
pub fn build(
    index_type: IndexType,
    metric: Metric,
    dim: usize,
    vectors: &[f32],
    row_ids: &[u64],
    opts: &BuildOptions,
    progress: &AtomicU64,
    cancel: &CancelToken,
) -> Result<(Vec<u8>, u32)> {
    let n = row_ids.len();
    if dim == 0 || vectors.len() != n * dim {
        return Err(Error::invalid("index build: vectors and row ids disagree"));
    }
    if n >= u32::MAX as usize {
        return Err(Error::invalid("an index holds at most 2^32 - 1 vectors"));
    }
    let space = Space::for_metric(metric);
    let prepared = prepare_all(metric, vectors, dim);
    let seed = opts.seed.unwrap_or(42);
    let mut w = FileWriter::new();
    let meta = match index_type {
        IndexType::Hnsw => {
            if opts.num_partitions.is_some()
                || opts.num_sub_vectors.is_some()
                || opts.num_bits.is_some()
            {
                return Err(Error::invalid(
                    "num_partitions, num_sub_vectors and num_bits apply to IVF indexes; HNSW takes m and ef_construction",
                ));
            }
            let params = hnsw_params(opts, seed)?;
            let sq = Sq8::train(&prepared, dim);
            let mut b = Builder::new(space, dim, params, sq, n);
            let vec_of = |i: u32| prepared[i as usize * dim..(i as usize + 1) * dim].to_vec();
            b.encode(0..n as u32, &vec_of);
            b.insert_all(0..n as u32, &vec_of, progress, cancel)?;
            hnsw::write(&b, row_ids, &mut w)
        }
        IndexType::IvfPq | IndexType::IvfRq => {
            if opts.m.is_some() || opts.ef_construction.is_some() {
                return Err(Error::invalid(
                    "m and ef_construction apply to HNSW; IVF indexes take num_partitions, num_sub_vectors and num_bits",
                ));
            }
            let codec = if index_type == IndexType::IvfPq {
                Codec::Pq
            } else {
                Codec::Rq
            };
            let params = ivf::resolve_params(
                codec,
                dim,
                n,
                opts.num_partitions,
                opts.num_sub_vectors,
                opts.num_bits,
                seed,
            )?;
            let trained = ivf::train(dim, &prepared, &params, cancel)?;
            ivf::write(
                space, dim, &params, &trained, &prepared, row_ids, None, progress, cancel, &mut w,
            )?
        }
    };
    let meta =
        serde_json::json!({ "metric": metric.name(), "type": index_type.name(), "inner": meta });
    w.finish("oxvec-ann", meta)
}

fn hnsw_params(opts: &BuildOptions, seed: u64) -> Result<HnswParams> {
    let d = HnswParams::default();
    let m = opts.m.unwrap_or(d.m);
    let efc = opts.ef_construction.unwrap_or(d.ef_construction);
    if !(2..=128).contains(&m) {
        return Err(Error::invalid(format!(
            "m must be between 2 and 128, got {m}"
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
        seed,
    })
}

/// Vectors as the index stores them (unit length for cosine).
pub fn prepare_all(metric: Metric, vectors: &[f32], dim: usize) -> Vec<f32> {
    if metric != Metric::Cosine {
        return vectors.to_vec();
    }
    let mut out = vectors.to_vec();
    for r in out.chunks_exact_mut(dim) {
        let n = r.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            r.iter_mut().for_each(|x| *x /= n);
        }
    }
    out
}

#[derive(Debug)]
enum Inner {
    Hnsw(
        IndexFile,
        OnceLock<std::result::Result<hnsw::HnswHeader, String>>,
    ),
    Ivf(Ivf),
}

/// An opened index of any type.
#[derive(Debug)]
pub struct VectorIndex {
    pub index_type: IndexType,
    pub metric: Metric,
    pub dim: usize,
    pub len: usize,
    inner: Inner,
}

impl VectorIndex {
    /// Opens an index file, checking its size and header checksum.
    pub fn open(path: &Path, size: u64, header_crc: u32) -> Result<VectorIndex> {
        let f = IndexFile::open(path, size, header_crc)?;
        let bad = |m: &str| Error::corrupt(path, m.to_string());
        let meta = f.header.meta.clone();
        let index_type: IndexType =
            serde_json::from_value(meta["type"].clone()).map_err(|_| bad("unknown index type"))?;
        let metric = meta["metric"]
            .as_str()
            .and_then(|m| Metric::parse(m).ok())
            .ok_or_else(|| bad("unknown metric"))?;
        let inner_meta = &meta["inner"];
        let dim = inner_meta["dim"]
            .as_u64()
            .ok_or_else(|| bad("missing dim"))? as usize;
        let len = inner_meta["n"].as_u64().ok_or_else(|| bad("missing n"))? as usize;
        let mut f = f;
        f.header.meta = inner_meta.clone();
        let inner = match index_type {
            IndexType::Hnsw => Inner::Hnsw(f, OnceLock::new()),
            _ => Inner::Ivf(Ivf::open(f)?),
        };
        Ok(VectorIndex {
            index_type,
            metric,
            dim,
            len,
            inner,
        })
    }

    fn file(&self) -> &IndexFile {
        match &self.inner {
            Inner::Hnsw(f, _) => f,
            Inner::Ivf(i) => &i.file,
        }
    }

    fn hnsw(&self) -> Result<Option<Frozen<'_>>> {
        let Inner::Hnsw(f, header) = &self.inner else {
            return Ok(None);
        };
        let h = header.get_or_init(|| hnsw::HnswHeader::read(f).map_err(|e| e.to_string()));
        match h {
            Ok(h) => Frozen::view(f, h).map(Some),
            Err(m) => Err(Error::corrupt(f.path(), m.clone())),
        }
    }

    /// Table row id of every node (`u64::MAX` marks a node whose row is gone).
    pub fn row_ids(&self) -> Result<&[u64]> {
        self.file().get("row_ids")
    }

    /// Bytes of the index file (what search keeps mapped).
    pub fn size_bytes(&self) -> u64 {
        self.file().header.sections.iter().map(|s| s.len).sum()
    }

    /// Checks every section's checksum and every partition.
    pub fn verify_all(&self) -> Result<()> {
        self.file().verify_all()?;
        if let Inner::Ivf(ivf) = &self.inner {
            ivf.verify_partitions()?;
        }
        self.hnsw().map(|_| ())
    }

    /// The name of the search parameter (`ef` or `nprobes`).
    pub fn param_name(&self) -> &'static str {
        match self.index_type {
            IndexType::Hnsw => "ef",
            _ => "nprobes",
        }
    }

    /// The search parameter to use and how many candidates to re-rank, before any widening
    /// for a filter: the query's knob if set, else the smallest calibrated setting reaching
    /// the target recall. Saturates instead of wrapping on huge knobs.
    pub fn resolve_knobs(
        &self,
        k: usize,
        knobs: &SearchKnobs,
        cal: Option<&Calibration>,
    ) -> (usize, usize) {
        let refine = knobs
            .refine_factor
            .unwrap_or(self.index_type.default_refine());
        let explicit = match self.index_type {
            IndexType::Hnsw => knobs.ef,
            _ => knobs.nprobes,
        };
        let param = explicit.unwrap_or_else(|| {
            let target = knobs.target_recall.unwrap_or(DEFAULT_RECALL);
            cal.and_then(|c| c.param_for(target))
                .unwrap_or(match self.index_type {
                    IndexType::Hnsw => 64,
                    _ => 16,
                })
        });
        match self.index_type {
            IndexType::Hnsw => {
                // A beam wider than the graph finds nothing more.
                let ef = param.max(k).min(self.len.max(k).max(1));
                let rerank = if refine == 0 {
                    ef
                } else {
                    k.saturating_mul(refine).min(ef).max(k)
                };
                (ef, rerank)
            }
            _ => (param.max(1), k.saturating_mul(refine.max(1))),
        }
    }

    /// `param` widened for a filter admitting `selectivity` of the nodes: a graph walk meets
    /// about `selectivity * ef` admitted nodes per region, so its beam grows by
    /// `1/sqrt(selectivity)`; IVF probes `1/selectivity` times as many partitions.
    pub fn widen_for_filter(&self, param: usize, selectivity: f32) -> usize {
        if selectivity >= 1.0 {
            return param;
        }
        match self.index_type {
            IndexType::Hnsw => ((param as f32) / selectivity.max(0.05).sqrt()) as usize,
            _ => ((param as f32) / selectivity.max(0.01)).ceil() as usize,
        }
    }

    /// Roughly how many nodes a search with `param` looks at (for `explain`).
    pub fn estimate_visited(&self, param: usize) -> usize {
        match &self.inner {
            // About `ef` nodes are expanded, each scoring its layer-0 neighbours.
            Inner::Hnsw(..) => {
                let m0 = self.hnsw().ok().flatten().map_or(32, |g| g.m0);
                param.saturating_mul(m0).min(self.len)
            }
            Inner::Ivf(ivf) => {
                let parts = ivf.params.num_partitions.max(1);
                (self.len.saturating_mul(param.min(parts)) / parts).min(self.len)
            }
        }
    }

    /// Candidates for the `k` nearest to raw query `q` under `knobs` (resolved and widened
    /// for `filter` as a query plan would).
    pub fn candidates(
        &self,
        q: &[f32],
        k: usize,
        knobs: &SearchKnobs,
        cal: Option<&Calibration>,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        let (param, rerank) = self.resolve_knobs(k, knobs, cal);
        let sel = filter.map_or(1.0, |f| f.count() as f32 / self.len.max(1) as f32);
        self.search(q, self.widen_for_filter(param, sel), rerank.max(k), filter)
    }

    /// The `keep` best candidates for raw query `q`, by estimated distance in index space,
    /// searching with `param` (`ef` or `nprobes`) and only among nodes `filter` admits.
    pub fn search(
        &self,
        q: &[f32],
        param: usize,
        keep: usize,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        if q.len() != self.dim {
            return Err(Error::invalid(format!(
                "query vector has dimension {}, but the index has dimension {}",
                q.len(),
                self.dim
            )));
        }
        let mut pq = Vec::with_capacity(self.dim);
        space::prepare_into(self.metric, q, &mut pq);
        match &self.inner {
            Inner::Hnsw(..) => {
                let g = self.hnsw()?.expect("hnsw inner");
                let mut out = g.search(&pq, param.max(keep), filter);
                out.truncate(keep);
                Ok(out)
            }
            Inner::Ivf(ivf) => ivf.search(&pq, param, keep, filter),
        }
    }

    /// A new index holding this one's nodes plus `vectors` (raw) as nodes `len..`, without
    /// retraining: HNSW inserts them into the graph, IVF assigns them to its partitions.
    pub fn extend(
        &self,
        vectors: &[f32],
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u32)> {
        let dim = self.dim;
        if vectors.len() != row_ids.len() * dim {
            return Err(Error::invalid("index extend: vectors and row ids disagree"));
        }
        let prepared = prepare_all(self.metric, vectors, dim);
        let mut w = FileWriter::new();
        let inner = match &self.inner {
            Inner::Hnsw(..) => {
                let old = self.hnsw()?.expect("hnsw inner");
                let n0 = old.n as u32;
                let mut b = Builder::extend(&old, row_ids.len());
                let vec_of = |i: u32| {
                    prepared[(i - n0) as usize * dim..(i - n0 + 1) as usize * dim].to_vec()
                };
                let n1 = n0 + row_ids.len() as u32;
                b.encode(n0..n1, &vec_of);
                b.insert_all(n0..n1, &vec_of, progress, cancel)?;
                let mut rows = self.row_ids()?.to_vec();
                rows.extend_from_slice(row_ids);
                hnsw::write(&b, &rows, &mut w)
            }
            Inner::Ivf(ivf) => {
                let trained = ivf.trained()?;
                ivf::write(
                    ivf.space,
                    dim,
                    &ivf.params,
                    &trained,
                    &prepared,
                    row_ids,
                    Some(ivf),
                    progress,
                    cancel,
                    &mut w,
                )?
            }
        };
        let meta = serde_json::json!({ "metric": self.metric.name(), "type": self.index_type.name(), "inner": inner });
        w.finish("oxvec-ann", meta)
    }

    /// A copy of this index with its node -> row id map replaced (after compaction).
    pub fn with_row_ids(&self, row_ids: &[u64]) -> Result<(Vec<u8>, u32)> {
        if row_ids.len() != self.len {
            return Err(Error::invalid("index remap: wrong number of row ids"));
        }
        let f = self.file();
        let mut w = FileWriter::new();
        for s in &f.header.sections {
            if s.name == "row_ids" {
                w.section("row_ids", row_ids);
            } else {
                w.section::<u8>(&s.name, f.get(&s.name)?);
            }
        }
        let meta = serde_json::json!({ "metric": self.metric.name(), "type": self.index_type.name(), "inner": f.header.meta });
        w.finish("oxvec-ann", meta)
    }

    /// Build parameters as recorded in the file.
    pub fn params(&self) -> serde_json::Value {
        let m = &self.file().header.meta;
        m.get("params").cloned().unwrap_or(serde_json::Value::Null)
    }
}

impl Ivf {
    /// Checks every partition's checksum.
    pub fn verify_partitions(&self) -> Result<()> {
        for p in 0..self.params.num_partitions {
            self.check_partition(p)?;
        }
        Ok(())
    }
}
