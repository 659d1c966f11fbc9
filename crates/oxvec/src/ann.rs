//! Indexed vector search: candidates from the ANN index, re-ranked with the full vectors,
//! merged with an exact scan of the rows the index does not cover.
//!
//! Deleted rows and filter misses are excluded through a node filter, so they are never
//! returned. The planner measures the filter's selectivity first: when few rows match, exact
//! search over just those rows is both faster and exact, so it is used instead of the index.

use crate::search::{exact_tops, is_parallel, prepare, row_masks, Masks, Prepared, VectorQuery};
use crate::snapshot::{LoadedFragment, OpenIndex};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float16Type, Float32Type, SchemaRef};
use oxvec_core::{CancelToken, Result};
use oxvec_index::NodeFilter;
use oxvec_linalg::{kernels, TopK};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A filter matching at most this many rows x dimensions is served by exact search.
const EXACT_MAX_FLOPS: usize = 6 << 20;
/// ... as is one matching under this fraction of the indexed rows.
const EXACT_MAX_FRACTION: f32 = 0.02;

/// Runs `q` through `idx` (whose metric `q.metric` must be).
pub fn search(
    frags: &[LoadedFragment],
    schema: &SchemaRef,
    q: &VectorQuery,
    idx: &OpenIndex,
    norms: Option<&[Arc<Vec<f32>>]>,
    cancel: &CancelToken,
) -> Result<RecordBatch> {
    let p = prepare(schema, q)?;
    let covered: HashSet<u32> = idx.meta.fragment_ids.iter().copied().collect();
    let parallel = is_parallel(frags, &p, q);
    // Without a filter, covered fragments need no masks: their deletions are in the cached
    // node filter.
    let masks = if q.filter.is_some() {
        row_masks(frags, q, parallel, &|_| true)?
    } else {
        row_masks(frags, q, parallel, &|f| !covered.contains(&f.meta.id))?
    };
    let nf = node_filter(frags, idx, q.filter.is_some(), &masks, &covered)?;
    if q.filter.is_some() {
        let allowed = nf.as_ref().map_or(idx.index.len, |f| f.count());
        let fraction = allowed as f32 / idx.index.len.max(1) as f32;
        if allowed * p.dim <= EXACT_MAX_FLOPS || fraction < EXACT_MAX_FRACTION {
            let tops = exact_tops(frags, &|_| true, &p, q, norms, &masks, cancel)?;
            return p.assemble(frags, q, tops);
        }
    }
    let uncovered = |f: &LoadedFragment| !covered.contains(&f.meta.id);
    let mut tops = if frags.iter().any(uncovered) {
        exact_tops(frags, &uncovered, &p, q, norms, &masks, cancel)?
    } else {
        (0..q.num_queries).map(|_| TopK::new(q.k)).collect()
    };
    // Fragment id -> position; a scan beats hashing for the usual handful of fragments.
    let pos: Option<HashMap<u32, usize>> = (frags.len() > 16).then(|| {
        frags
            .iter()
            .enumerate()
            .map(|(i, f)| (f.meta.id, i))
            .collect()
    });
    let find = |id: u32| match &pos {
        Some(m) => m.get(&id).copied(),
        None => frags.iter().position(|f| f.meta.id == id),
    };
    let rows = idx.index.row_ids()?;
    let one = |qi: usize| -> Result<TopK> {
        cancel.check()?;
        let qv = &q.vectors[qi * p.dim..(qi + 1) * p.dim];
        let cands =
            idx.index
                .candidates(qv, q.k, &q.knobs, idx.calibration.as_ref(), nf.as_deref())?;
        let mut top = TopK::new(q.k);
        let mut buf = Vec::new();
        let mut d = [0f32];
        // Locate every candidate's row first and start loading them all: the re-rank reads
        // rows scattered over the table, and overlapping those misses is most of its cost.
        let mut located: Vec<(u64, StoredVector)> = Vec::with_capacity(cands.len());
        for c in &cands {
            let Some(&row) = rows.get(c.1 as usize) else {
                continue;
            };
            let Some(fi) = find((row >> 32) as u32) else {
                continue;
            };
            let off = (row & 0xffff_ffff) as u32;
            if nf.is_none() && frags[fi].is_deleted(off) {
                continue;
            }
            if let Some(v) = stored_vector(&frags[fi], &p, off) {
                v.prefetch();
                located.push((row, v));
            }
        }
        for (row, v) in located {
            (kernels().distances_f32)(q.metric(), qv, p.qnorms[qi], v.as_f32(&mut buf), &mut d);
            top.push(d[0], row);
        }
        Ok(top)
    };
    let ann: Vec<TopK> = if q.num_queries > 1 {
        (0..q.num_queries)
            .into_par_iter()
            .map(one)
            .collect::<Result<_>>()?
    } else {
        vec![one(0)?]
    };
    for (t, a) in tops.iter_mut().zip(ann) {
        t.merge(a);
    }
    p.assemble(frags, q, tops)
}

/// A row's vector in place in its fragment.
enum StoredVector<'a> {
    F32(&'a [f32]),
    F16(&'a [half::f16]),
}

impl StoredVector<'_> {
    /// Starts loading the vector into the cache.
    fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            let (base, len) = match self {
                StoredVector::F32(v) => (v.as_ptr() as *const u8, std::mem::size_of_val(*v)),
                StoredVector::F16(v) => (v.as_ptr() as *const u8, std::mem::size_of_val(*v)),
            };
            for at in (0..len).step_by(64) {
                // SAFETY: `at` lies inside the slice; a prefetch has no observable effect.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        base.add(at) as *const i8,
                    )
                };
            }
        }
    }

    /// The vector as f32 (f16 widened into `buf`).
    fn as_f32<'b>(&'b self, buf: &'b mut Vec<f32>) -> &'b [f32] {
        match self {
            StoredVector::F32(v) => v,
            StoredVector::F16(v) => {
                buf.clear();
                buf.extend(v.iter().map(|x| x.to_f32()));
                buf
            }
        }
    }
}

/// The vector of row `off` of `frag`, or `None` if the offset is past the fragment.
fn stored_vector<'a>(frag: &'a LoadedFragment, p: &Prepared, off: u32) -> Option<StoredVector<'a>> {
    let b = frag.starts.partition_point(|&s| s <= off).checked_sub(1)?;
    let row = (off - frag.starts[b]) as usize;
    let fsl = frag.batches[b].column(p.col).as_fixed_size_list();
    if row >= fsl.len() {
        return None;
    }
    let at = fsl.value_offset_at(0) + row * p.dim;
    Some(match fsl.value_type() {
        DataType::Float16 => {
            StoredVector::F16(&fsl.values().as_primitive::<Float16Type>().values()[at..at + p.dim])
        }
        _ => {
            StoredVector::F32(&fsl.values().as_primitive::<Float32Type>().values()[at..at + p.dim])
        }
    })
}

/// Which index nodes may be returned: `None` when every node's row is live and no filter is
/// set (the common case, cached per snapshot).
fn node_filter(
    frags: &[LoadedFragment],
    idx: &OpenIndex,
    has_filter: bool,
    masks: &Masks,
    covered: &HashSet<u32>,
) -> Result<Option<Arc<NodeFilter>>> {
    let compute = || -> Result<Option<NodeFilter>> {
        let present: HashSet<u32> = frags.iter().map(|f| f.meta.id).collect();
        let all_present = covered.iter().all(|id| present.contains(id));
        let any_deleted = frags
            .iter()
            .any(|f| covered.contains(&f.meta.id) && f.deleted.is_some());
        if !has_filter
            && all_present
            && !any_deleted
            && idx.meta.tombstones == 0
            && idx.meta.num_nodes as usize == idx.index.len
        {
            return Ok(None);
        }
        let reverse = idx.reverse(frags)?;
        let mut nf = NodeFilter::none(idx.index.len);
        for (fi, frag) in frags.iter().enumerate() {
            let Some(rev) = reverse.get(&frag.meta.id) else {
                continue;
            };
            for (b, batch) in frag.batches.iter().enumerate() {
                let start = frag.starts[b] as usize;
                let mut set = |j: usize| {
                    if let Some(&node) = rev.get(start + j) {
                        if node != u32::MAX {
                            nf.set(node, true);
                        }
                    }
                };
                match (&masks[fi][b], has_filter) {
                    (Some(m), true) => m.values().set_indices().for_each(&mut set),
                    _ => (0..batch.num_rows())
                        .filter(|&j| !frag.is_deleted((start + j) as u32))
                        .for_each(&mut set),
                }
            }
        }
        Ok(Some(nf))
    };
    if has_filter {
        Ok(compute()?.map(Arc::new))
    } else {
        idx.live(compute)
    }
}
