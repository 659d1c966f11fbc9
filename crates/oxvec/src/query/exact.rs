//! Exact (brute-force) search: the ground truth for every index.
//!
//! Rows are cut into blocks of about 1 MiB of vectors; each block runs the dispatched SIMD
//! batch kernel for every query and keeps a bounded heap per query; heaps are merged. Many
//! queries at once go through the tile kernel instead: tiles of queries x rows share every
//! load, so a block is read once per [`QUERY_TILE`] queries rather than once per query, and
//! distances come from dot products and cached norms (L2 results are then re-measured
//! directly, so the distances returned are the exact kernel's).
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
/// Searches of at least this many queries use the tile kernel.
pub(super) const TILE_MIN_QUERIES: usize = 4;
/// Queries per pass of the tile kernel over a block: their dot products with the block's
/// rows (32 x 1 MiB of rows / 4 bytes per dimension) stay in L2 beside it.
const QUERY_TILE: usize = 32;

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
    let empty = || {
        (0..p.num_queries)
            .map(|_| TopK::new(p.k))
            .collect::<Vec<_>>()
    };
    // Each unit of work scans consecutive blocks into one set of heaps: once a heap is
    // full its threshold turns most later rows away without touching the heap.
    let run = |group: &[Task]| -> Result<Vec<TopK>> {
        let mut tops = empty();
        for t in group {
            cancel.check()?;
            let frag = &frags[t.frag];
            let mask = p.masks[t.frag][t.batch].as_ref();
            let allowed = mask.map_or(t.end - t.start, |m| {
                m.slice(t.start, t.end - t.start).true_count()
            });
            if allowed == 0 {
                continue;
            }
            let row_norms = p
                .norms
                .as_ref()
                .map(|n| &n[t.frag][frag.starts[t.batch] as usize..]);
            scan_block(p, frag, t, col, row_norms, mask, allowed, &mut tops);
        }
        Ok(tops)
    };
    let merge = |mut a: Vec<TopK>, b: Vec<TopK>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(y);
        }
        a
    };
    let tops = if parallel {
        // A few groups per thread, so uneven blocks still spread over the cores.
        let per_group = tasks
            .len()
            .div_ceil(rayon::current_num_threads() * 4)
            .max(1);
        tasks
            .par_chunks(per_group)
            .map(run)
            .try_reduce(empty, |a, b| Ok(merge(a, b)))?
    } else {
        run(&tasks)?
    };
    if tiled(p) && p.metric == Metric::L2 {
        return Ok(remeasure_l2(p, tops));
    }
    Ok(tops)
}

/// Whether the plan's queries go through the tile kernel.
fn tiled(p: &Plan<'_>) -> bool {
    p.num_queries >= TILE_MIN_QUERIES
}

/// The L2 top-k found from dot products and norms (`|q|^2 + |x|^2 - 2 q.x`, which rounds
/// differently), with every distance measured again by the direct kernel and re-sorted.
fn remeasure_l2(p: &Plan<'_>, tops: Vec<TopK>) -> Vec<TopK> {
    let k = kernels();
    let mut d = [0f32];
    let mut buf = Vec::new();
    tops.into_iter()
        .enumerate()
        .map(|(qi, top)| {
            let qv = &p.vectors[qi * p.dim..(qi + 1) * p.dim];
            let mut exact = TopK::new(p.k);
            for nb in top.into_sorted() {
                let rid = oxvec_core::RowId::from_u64(nb.id);
                let v = p
                    .frags
                    .iter()
                    .find(|f| f.meta.id == rid.fragment())
                    .and_then(|f| super::ann::stored_vector(f, p.col, rid.offset()));
                let dist = match v {
                    Some(v) => {
                        (k.distances_f32)(Metric::L2, qv, 0.0, v.as_f32(&mut buf), &mut d);
                        d[0]
                    }
                    None => nb.distance,
                };
                exact.push(dist, nb.id);
            }
            exact
        })
        .collect()
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
    // A selective mask is cheaper to serve row by row than by computing the whole block.
    let sparse = mask.is_some() && allowed * 4 < n;
    if tiled(p) && !sparse && scan_tiled(p, frag, t, &view, row_norms, mask, tops) {
        return;
    }
    // Row norms are also planned for L2 when queries are tiled; only cosine finishes here.
    let row_norms = row_norms.filter(|_| p.metric == Metric::Cosine);
    let mut dist = vec![0f32; n];
    let compute = |qv: &[f32], qn: f32, rows: std::ops::Range<usize>, out: &mut [f32]| match view
        .slice(rows)
        .values
    {
        VectorValues::F16(v) => (k.distances_f16)(kernel_metric, qv, qn, v, out),
        VectorValues::F32(v) => (k.distances_f32)(kernel_metric, qv, qn, v, out),
    };
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

/// [`QUERY_TILE`] queries at a time against the block through the tile kernel; distances
/// from the dot products and the squared norms. Returns `false` (nothing done) when the
/// metric needs row norms the plan did not cache.
#[allow(clippy::too_many_arguments)]
fn scan_tiled(
    p: &Plan<'_>,
    frag: &LoadedFragment,
    t: &Task,
    view: &oxvec_core::VectorView<'_>,
    row_norms: Option<&[f32]>,
    mask: Option<&BooleanArray>,
    tops: &mut [TopK],
) -> bool {
    let n = t.end - t.start;
    let rn = match (p.metric, row_norms) {
        (Metric::Dot, _) => &[][..],
        (_, Some(r)) => &r[t.start..t.end],
        (_, None) => return false,
    };
    let k = kernels();
    let rows = view.slice(t.start..t.end).values;
    // Cosine divides by both norms: the rows' inverse norms once per block, not per query.
    let inv_rn: Vec<f32> = match p.metric {
        Metric::Cosine => rn.iter().map(|&r| inv_norm(r)).collect(),
        _ => Vec::new(),
    };
    let mut dots = vec![0f32; QUERY_TILE * n];
    let mut dist = vec![0f32; n];
    for (c, chunk) in p.vectors.chunks(QUERY_TILE * p.dim).enumerate() {
        let m = chunk.len() / p.dim;
        let out = &mut dots[..m * n];
        match rows {
            VectorValues::F32(v) => (k.dot_tile_f32)(chunk, v, p.dim, out),
            VectorValues::F16(v) => (k.dot_tile_f16)(chunk, v, p.dim, out),
        }
        for (a, row) in out.chunks_exact(n).enumerate() {
            let qi = c * QUERY_TILE + a;
            let qn = p.qnorms[qi];
            // Branch-free loops the compiler vectorises; the scan for candidates follows.
            match p.metric {
                Metric::L2 => {
                    for ((d, &dot), &r) in dist.iter_mut().zip(row).zip(rn) {
                        *d = (qn + r - 2.0 * dot).max(0.0);
                    }
                }
                Metric::Dot => {
                    for (d, &dot) in dist.iter_mut().zip(row) {
                        *d = 1.0 - dot;
                    }
                }
                Metric::Cosine => {
                    let iq = inv_norm(qn);
                    for ((d, &dot), &ir) in dist.iter_mut().zip(row).zip(&inv_rn) {
                        *d = 1.0 - dot * iq * ir;
                    }
                }
            }
            let top = &mut tops[qi];
            let mut threshold = top.threshold();
            for (j, &d) in dist.iter().enumerate() {
                if d < threshold && mask.is_none_or(|m| m.value(t.start + j)) {
                    top.push(d, frag.row_id(t.batch, t.start + j));
                    threshold = top.threshold();
                }
            }
        }
    }
    true
}

/// `1 / sqrt(norm_sq)`, or 0 for a zero vector (whose cosine distance is then 1, as
/// [`oxvec_linalg::cosine_from_parts`] has it).
#[inline]
fn inv_norm(norm_sq: f32) -> f32 {
    if norm_sq > 0.0 {
        1.0 / norm_sq.sqrt()
    } else {
        0.0
    }
}

/// Cosine distance from the dot kernel's output (`1 - a·b`) and the two squared norms.
#[inline]
fn cosine_from_dot_distance(dot_distance: f32, qn: f32, rn: f32) -> f32 {
    oxvec_linalg::cosine_from_parts(1.0 - dot_distance, qn, rn)
}
