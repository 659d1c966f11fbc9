//! Indexed search: candidates from the vector index, re-ranked with the full vectors,
//! merged with an exact search of the rows the index does not cover.
//!
//! Deleted rows and filter misses are excluded through the plan's node filter, so they are
//! never returned; the plan has already chosen the knobs and widened them for the filter.

use super::plan::Plan;
use crate::snapshot::LoadedFragment;
use crate::vectors::vector_view;
use oxvec_core::{CancelToken, Error, Result, RowId, VectorValues};
use oxvec_linalg::{kernels, TopK};
use rayon::prelude::*;
use std::collections::HashMap;

/// Top-k of every query through the plan's index.
pub(super) fn tops(p: &Plan<'_>, cancel: &CancelToken) -> Result<Vec<TopK>> {
    let ix = p
        .index
        .as_ref()
        .ok_or_else(|| Error::internal("index search", "the plan has no index"))?;
    let frags = p.frags;
    let uncovered = |f: &LoadedFragment| !ix.covered.contains(&f.meta.id);
    let mut tops = if frags.iter().any(uncovered) {
        super::exact::tops(p, &uncovered, cancel)?
    } else {
        (0..p.num_queries).map(|_| TopK::new(p.k)).collect()
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
    let index = &ix.open.index;
    let rows = index.row_ids()?;
    let nf = ix.nodes.as_deref();
    let one = |qi: usize| -> Result<TopK> {
        cancel.check()?;
        let qv = &p.vectors[qi * p.dim..(qi + 1) * p.dim];
        let cands = index.search(qv, ix.param, ix.rerank, nf)?;
        let mut top = TopK::new(p.k);
        let mut buf = Vec::new();
        let mut d = [0f32];
        // Locate every candidate's row first and start loading them all: the re-rank reads
        // rows scattered over the table, and overlapping those misses is most of its cost.
        let mut located: Vec<(u64, VectorValues)> = Vec::with_capacity(cands.len());
        for c in &cands {
            let Some(&row) = rows.get(c.1 as usize) else {
                continue;
            };
            let rid = RowId::from_u64(row);
            let Some(fi) = find(rid.fragment()) else {
                continue;
            };
            let off = rid.offset();
            if nf.is_none() && frags[fi].is_deleted(off) {
                continue;
            }
            if let Some(v) = stored_vector(&frags[fi], p.col, off) {
                v.prefetch();
                located.push((row, v));
            }
        }
        for (row, v) in located {
            (kernels().distances_f32)(p.metric, qv, p.qnorms[qi], v.as_f32(&mut buf), &mut d);
            top.push(d[0], row);
        }
        Ok(top)
    };
    let ann: Vec<TopK> = if p.num_queries > 1 {
        (0..p.num_queries)
            .into_par_iter()
            .map(one)
            .collect::<Result<_>>()?
    } else {
        vec![one(0)?]
    };
    for (t, a) in tops.iter_mut().zip(ann) {
        t.merge(a);
    }
    Ok(tops)
}

/// The vector of row `off` of `frag`, or `None` if the offset is past the fragment.
pub(super) fn stored_vector(
    frag: &LoadedFragment,
    col: usize,
    off: u32,
) -> Option<VectorValues<'_>> {
    let b = frag.starts.partition_point(|&s| s <= off).checked_sub(1)?;
    let row = (off - frag.starts[b]) as usize;
    let view = vector_view(frag.batches[b].column(col))?;
    (row < view.len()).then(|| view.row(row))
}
