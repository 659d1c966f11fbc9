//! An opened vector index: the [`VectorIndex`] trait each kind implements, and the
//! operations every kind shares (knob resolution, query preparation, remapping, stats).

use crate::calibrate::Calibration;
use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::header::{IndexHeader, CONTAINER};
use crate::hnsw::layer::Scored;
use crate::kind::VectorKind;
use crate::options::{SearchKnobs, DEFAULT_RECALL};
use crate::source::{Prepared, VectorSource};
use crate::space;
use oxvec_core::{CancelToken, Error, Metric, Result};
use std::fmt::Debug;
use std::sync::atomic::AtomicU64;

/// An opened vector index of one kind, searched in place from its file.
pub trait VectorIndex: Debug + Send + Sync {
    fn kind(&self) -> &'static dyn VectorKind;
    fn header(&self) -> &IndexHeader;
    fn file(&self) -> &IndexFile;

    /// The `keep` best candidates for the prepared query `q` (see [`space::prepare_into`]) by
    /// estimated index-space distance, sorted, searching with `param` (the kind's knob) and
    /// only among the nodes `filter` admits.
    fn candidates(
        &self,
        q: &[f32],
        param: usize,
        keep: usize,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>>;

    /// `(param, candidates to re-rank)` for `k` results at knob setting `param` with
    /// `refine` candidates per result (`0`: the kind's natural candidate count).
    fn resolve(&self, k: usize, param: usize, refine: usize) -> (usize, usize);

    /// `param` widened for a filter admitting `selectivity` (0..1) of the nodes.
    fn widen_for_filter(&self, param: usize, selectivity: f32) -> usize;

    /// Roughly how many nodes a search with `param` scores (for `explain`).
    fn estimate_visited(&self, param: usize) -> usize;

    /// The knob settings calibration measures for this index.
    fn calibration_ladder(&self) -> Vec<usize> {
        self.kind().knob().ladder.to_vec()
    }

    /// Writes a new index holding this one's nodes plus `vectors` (prepared) as nodes
    /// `len..`, without retraining; returns the kind's header fields.
    fn extend_with(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
        w: &mut FileWriter,
    ) -> Result<serde_json::Value>;

    /// The kind's deep checks beyond section checksums (graph shape, partitions).
    fn verify_structure(&self) -> Result<()>;

    /// Build parameters as recorded in the file.
    fn params(&self) -> serde_json::Value;

    /// A copy of this index whose node `i` is table row `row_ids[i]` (after compaction moved
    /// rows). Every kind keeps the map in its `row_ids` section, so this rewrites that alone.
    fn remap(&self, row_ids: &[u64]) -> Result<(Vec<u8>, u32)> {
        if row_ids.len() != self.header().len {
            return Err(Error::invalid("index remap: wrong number of row ids"));
        }
        crate::file::with_row_ids(self.file(), row_ids, CONTAINER, self.header().to_json()?)
    }
}

impl dyn VectorIndex + '_ {
    pub fn metric(&self) -> Metric {
        self.header().metric
    }

    pub fn dim(&self) -> usize {
        self.header().dim
    }

    /// Number of nodes (including tombstoned ones).
    pub fn len(&self) -> usize {
        self.header().len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind's name (`HNSW`, ...).
    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    /// The name of the search knob (`ef` or `nprobes`).
    pub fn param_name(&self) -> &'static str {
        self.kind().knob().name
    }

    /// Table row id of every node (`u64::MAX` marks a node whose row is gone).
    pub fn row_ids(&self) -> Result<&[u64]> {
        self.file().get("row_ids")
    }

    /// Bytes of the index file (what search keeps mapped).
    pub fn size_bytes(&self) -> u64 {
        self.file().header.sections.iter().map(|s| s.len).sum()
    }

    /// Checks every section's checksum and the kind's structure.
    pub fn verify_all(&self) -> Result<()> {
        self.file().verify_all()?;
        self.verify_structure()
    }

    /// The search parameter to use and how many candidates to re-rank, before any widening
    /// for a filter: the query's knob if set, else the smallest calibrated setting reaching
    /// the target recall, else the kind's default; the re-rank depth likewise from the query,
    /// the calibration, or the kind. Saturates instead of wrapping.
    pub fn resolve_knobs(
        &self,
        k: usize,
        knobs: &SearchKnobs,
        cal: Option<&Calibration>,
    ) -> (usize, usize) {
        let knob = self.kind().knob();
        let refine = knobs
            .refine_factor
            .or(cal.and_then(|c| c.refine))
            .unwrap_or(self.kind().default_refine());
        let param = knobs.get(knob.name).unwrap_or_else(|| {
            let target = knobs.target_recall.unwrap_or(DEFAULT_RECALL);
            cal.and_then(|c| c.param_for(target))
                .unwrap_or(knob.default)
        });
        self.resolve(k, param, refine)
    }

    /// The `keep` best candidates for the raw query `q` (see [`VectorIndex::candidates`]).
    pub fn search(
        &self,
        q: &[f32],
        param: usize,
        keep: usize,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        if q.len() != self.dim() {
            return Err(Error::invalid(format!(
                "query vector has dimension {}, but the index has dimension {}",
                q.len(),
                self.dim()
            )));
        }
        let mut prepared = Vec::with_capacity(q.len());
        space::prepare_into(self.metric(), q, &mut prepared);
        self.candidates(&prepared, param, keep, filter)
    }

    /// Candidates for the `k` nearest to raw query `q` under `knobs`, resolved and widened
    /// for `filter` as a query plan would.
    pub fn search_knobs(
        &self,
        q: &[f32],
        k: usize,
        knobs: &SearchKnobs,
        cal: Option<&Calibration>,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        let (param, rerank) = self.resolve_knobs(k, knobs, cal);
        let sel = filter.map_or(1.0, |f| f.count() as f32 / self.len().max(1) as f32);
        self.search(q, self.widen_for_filter(param, sel), rerank.max(k), filter)
    }

    /// A new index file holding this one's nodes plus raw `vectors` as nodes `len..`.
    pub fn extend(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u32)> {
        let dim = self.dim();
        if vectors.dim() != dim || vectors.len() != row_ids.len() {
            return Err(Error::invalid("index extend: vectors and row ids disagree"));
        }
        let prepared = Prepared {
            inner: vectors,
            metric: self.metric(),
        };
        let mut w = FileWriter::new();
        let fields = self.extend_with(&prepared, row_ids, progress, cancel, &mut w)?;
        let len = self
            .len()
            .checked_add(row_ids.len())
            .filter(|&n| n < u32::MAX as usize)
            .ok_or_else(|| Error::invalid("an index holds at most 2^32 - 1 vectors"))?;
        finish(w, self.kind().name(), self.metric(), dim, len, fields)
    }

    /// What `index_stats` reports about the file.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind_name(),
            "format_version": self.header().format_version,
            "metric": self.metric().name(),
            "dim": self.dim(),
            "num_nodes": self.len(),
            "params": self.params(),
            "size_bytes": self.size_bytes(),
        })
    }
}

/// Vectors as the index stores them (unit length for cosine).
pub fn prepare_all(metric: Metric, vectors: &[f32], dim: usize) -> Vec<f32> {
    let mut out = vectors.to_vec();
    if metric == Metric::Cosine {
        crate::source::normalize_rows(&mut out, dim);
    }
    out
}

/// The file's bytes and header CRC, with a current-format header.
pub(crate) fn finish(
    w: FileWriter,
    kind: &str,
    metric: Metric,
    dim: usize,
    len: usize,
    fields: serde_json::Value,
) -> Result<(Vec<u8>, u32)> {
    let header = IndexHeader::new(kind, metric, dim, len, &fields)?;
    w.finish(CONTAINER, header.to_json()?)
}
