//! Exact (brute-force) search: the ground truth for every index.
//!
//! Rows are cut into blocks of about 1 MiB of vectors; each block runs the dispatched SIMD
//! batch kernel for every query and keeps a bounded heap per query; heaps are merged.
//! Blocks run in parallel on rayon when the work is large enough to pay for it, and
//! serially otherwise, so a query on a small table stays in the microseconds. Rows the
//! plan's masks reject (deleted, filtered out) are never candidates.

use super::plan::{Plan, PARALLEL_MIN_FLOPS};
use crate::snapshot::LoadedFragment;
use crate::vectors::vector_view;
use arrow::array::BooleanArray;
use oxvec_core::{CancelToken, Metric, Result, VectorValues};
use oxvec_linalg::{kernels, TopK};
use rayon::prelude::*;

/// Bytes of vectors per unit of work: small enough that blocks spread evenly over the cores
/// (a 20k-row table must not be 5 blocks on 2 cores), large enough to amortise each block's
/// heap and buffer.
const BLOCK_BYTES: usize = 1 << 20;

struct Task {
    frag: usize,
    batch: usize,
    start: usize,
    end: usize,
}

/// Exact top-k of every query over the fragments `include` accepts.
pub(super) fn tops(
    p: &Plan<'_>,
    include: &(dyn Fn(&LoadedFragment) -> bool + Sync),
    cancel: &CancelToken,
) -> Result<Vec<TopK>> {
    let (frags, col, dim) = (p.frags, p.col, p.dim);

    let mut tasks = Vec::new();
    let mut total_rows = 0usize;
    for (fi, frag) in frags.iter().enumerate() {
        if !include(frag) {
            continue;
        }
        for (bi, batch) in frag.batches.iter().enumerate() {
            let n = batch.num_rows();
            total_rows += n;
            let block_rows = (BLOCK_BYTES / (dim * 4)).clamp(256, 16_384);
            let mut s = 0;
            while s < n {
                let e = (s + block_rows).min(n);
                tasks.push(Task {
                    frag: fi,
                    batch: bi,
                    start: s,
                    end: e,
                });
                s = e;
            }
        }
    }
    let parallel = total_rows * dim * p.num_queries >= PARALLEL_MIN_FLOPS;
    let run = |t: &Task| -> Result<Vec<TopK>> {
        cancel.check()?;
        let frag = &frags[t.frag];
        let mask = p.masks[t.frag][t.batch].as_ref();
        let mut tops: Vec<TopK> = (0..p.num_queries).map(|_| TopK::new(p.k)).collect();
        let allowed = mask.map_or(t.end - t.start, |m| {
            m.slice(t.start, t.end - t.start).true_count()
        });
        if allowed == 0 {
            return Ok(tops);
        }
        let row_norms = p
            .norms
            .as_ref()
            .map(|n| &n[t.frag][frag.starts[t.batch] as usize..]);
        scan_block(p, frag, t, col, row_norms, mask, allowed, &mut tops);
        Ok(tops)
    };
    let merge = |mut a: Vec<TopK>, b: Vec<TopK>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(y);
        }
        a
    };
    let empty = || {
        (0..p.num_queries)
            .map(|_| TopK::new(p.k))
            .collect::<Vec<_>>()
    };
    if parallel {
        tasks
            .par_iter()
            .map(run)
            .try_reduce(empty, |a, b| Ok(merge(a, b)))
    } else {
        let mut acc = empty();
        for t in &tasks {
            acc = merge(acc, run(t)?);
        }
        Ok(acc)
    }
}

#[allow(clippy::too_many_arguments)]
fn scan_block(
    p: &Plan<'_>,
    frag: &LoadedFragment,
    t: &Task,
    col: usize,
    row_norms: Option<&[f32]>,
    mask: Option<&BooleanArray>,
    allowed: usize,
    tops: &mut [TopK],
) {
    let k = kernels();
    // With cached row norms, cosine runs the cheaper dot kernel and is finished below.
    let (dim, qnorms) = (p.dim, &p.qnorms);
    let kernel_metric = match (p.metric, row_norms) {
        (Metric::Cosine, Some(_)) => Metric::Dot,
        (m, _) => m,
    };
    let Some(view) = vector_view(frag.batches[t.batch].column(col)) else {
        return;
    };
    let n = t.end - t.start;
    let mut dist = vec![0f32; n];
    let compute = |qv: &[f32], qn: f32, rows: std::ops::Range<usize>, out: &mut [f32]| match view
        .slice(rows)
        .values
    {
        VectorValues::F16(v) => (k.distances_f16)(kernel_metric, qv, qn, v, out),
        VectorValues::F32(v) => (k.distances_f32)(kernel_metric, qv, qn, v, out),
    };
    // A selective mask is cheaper to serve row by row than by computing the whole block.
    let sparse = mask.is_some() && allowed * 4 < n;
    for (qi, top) in tops.iter_mut().enumerate() {
        let qv = &p.vectors[qi * dim..(qi + 1) * dim];
        if sparse {
            let m = mask.expect("sparse implies a mask").slice(t.start, n);
            for j in m.values().set_indices() {
                let r = t.start + j;
                compute(qv, qnorms[qi], r..r + 1, &mut dist[..1]);
                if let Some(rn) = row_norms {
                    dist[0] = cosine_from_dot_distance(dist[0], qnorms[qi], rn[t.start + j]);
                }
                top.push(dist[0], frag.row_id(t.batch, t.start + j));
            }
            continue;
        }
        compute(qv, qnorms[qi], t.start..t.end, &mut dist);
        if let Some(rn) = row_norms {
            let rn = &rn[t.start..t.end];
            for (d, &n) in dist.iter_mut().zip(rn) {
                *d = cosine_from_dot_distance(*d, qnorms[qi], n);
            }
        }
        match mask {
            None => {
                for (j, &d) in dist.iter().enumerate() {
                    if d < top.threshold() {
                        top.push(d, frag.row_id(t.batch, t.start + j));
                    }
                }
            }
            Some(m) => {
                for (j, &d) in dist.iter().enumerate() {
                    if d < top.threshold() && m.value(t.start + j) {
                        top.push(d, frag.row_id(t.batch, t.start + j));
                    }
                }
            }
        }
    }
}

/// Cosine distance from the dot kernel's output (`1 - a·b`) and the two squared norms.
#[inline]
fn cosine_from_dot_distance(dot_distance: f32, qn: f32, rn: f32) -> f32 {
    oxvec_linalg::cosine_from_parts(1.0 - dot_distance, qn, rn)
}
