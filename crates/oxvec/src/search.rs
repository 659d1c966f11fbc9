//! Exact (brute-force) vector search over a snapshot: the ground truth for every index.
//!
//! Work is split into blocks of about 1 MiB of vectors; each block runs the dispatched SIMD batch kernel for
//! every query and keeps a bounded heap per query. Blocks run in parallel on rayon when the
//! work is large enough to pay for it, and serially otherwise, so a query on a small table
//! stays in the microseconds. Deleted and filtered-out rows are never candidates.

use crate::ingest::vector_dim;
use crate::scan::{project, row_mask};
use crate::snapshot::LoadedFragment;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float32Array, RecordBatch, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Float16Type, Float32Type, Schema, SchemaRef};
use oxvec_core::{CancelToken, Error, Metric, Result};
use oxvec_linalg::{kernels, TopK};
use oxvec_query::Filter;
use rayon::prelude::*;
use std::sync::Arc;

/// Bytes of vectors per unit of work: small enough that blocks spread evenly over the cores
/// (a 20k-row table must not be 5 blocks on 2 cores), large enough to amortise each block's
/// heap and buffer.
const BLOCK_BYTES: usize = 1 << 20;
/// Below this many multiply-adds (rows x dim x queries) a search runs on the calling thread.
const PARALLEL_MIN_FLOPS: usize = 1 << 20;
/// Largest k accepted.
pub const MAX_K: usize = 1 << 20;

/// A vector search request.
#[derive(Debug, Clone)]
pub struct VectorQuery {
    /// The vector column; found automatically when the table has exactly one.
    pub column: Option<String>,
    /// `num_queries` query vectors, row-major.
    pub vectors: Vec<f32>,
    pub num_queries: usize,
    /// `None`: the index's metric when an index is used, else L2.
    pub metric: Option<Metric>,
    pub k: usize,
    pub filter: Option<Filter>,
    pub columns: Option<Vec<String>>,
    pub with_row_id: bool,
    /// Adds `query_index: uint32` (always set for multi-query searches).
    pub with_query_index: bool,
    /// Index search knobs (ignored by exact search).
    pub knobs: oxvec_index::SearchKnobs,
    /// Search exactly even when an index exists.
    pub bypass_index: bool,
}

impl VectorQuery {
    /// The metric exact search uses.
    pub fn metric(&self) -> Metric {
        self.metric.unwrap_or(Metric::L2)
    }
}

/// Row masks per fragment and batch (`None`: every row counts).
pub(crate) type Masks = Vec<Vec<Option<BooleanArray>>>;

/// What every search path needs, validated once.
pub(crate) struct Prepared {
    pub col: usize,
    pub dim: usize,
    pub proj: Vec<usize>,
    pub out_schema: SchemaRef,
    pub with_qi: bool,
    pub qnorms: Vec<f32>,
}

/// Picks the vector column: the named one, or the only one.
pub fn resolve_vector_column(schema: &Schema, name: Option<&str>) -> Result<(usize, usize)> {
    if let Some(n) = name {
        let i = schema
            .index_of(n)
            .map_err(|_| Error::invalid(format!("no column named '{n}'")))?;
        let dim = vector_dim(schema.field(i).data_type()).ok_or_else(|| {
            Error::invalid(format!(
                "column '{n}' is {}, not a vector column",
                schema.field(i).data_type()
            ))
        })?;
        return Ok((i, dim));
    }
    let vecs: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| vector_dim(schema.field(i).data_type()).is_some())
        .collect();
    match vecs.as_slice() {
        [i] => Ok((*i, vector_dim(schema.field(*i).data_type()).unwrap_or(0))),
        [] => Err(Error::invalid("the table has no vector column to search")),
        many => {
            let names: Vec<&str> = many
                .iter()
                .map(|&i| schema.field(i).name().as_str())
                .collect();
            Err(Error::invalid(format!(
                "the table has several vector columns {names:?}; pass vector_column="
            )))
        }
    }
}

struct Task {
    frag: usize,
    batch: usize,
    start: usize,
    end: usize,
}

/// The schema of search results: the projected columns, `_distance`, then optional
/// `_rowid` and `query_index`.
pub fn result_schema(
    schema: &Schema,
    proj: &[usize],
    with_row_id: bool,
    with_query_index: bool,
) -> SchemaRef {
    let mut fields: Vec<Field> = proj.iter().map(|&i| schema.field(i).clone()).collect();
    fields.push(Field::new("_distance", DataType::Float32, false));
    if with_row_id {
        fields.push(Field::new("_rowid", DataType::UInt64, false));
    }
    if with_query_index {
        fields.push(Field::new("query_index", DataType::UInt32, false));
    }
    Arc::new(Schema::new(fields))
}

/// Appends the squared L2 norm of every vector of `col` (a vector column) to `out`.
pub fn squared_norms(col: &ArrayRef, out: &mut Vec<f32>) {
    let fsl = col.as_fixed_size_list();
    let dim = fsl.value_length() as usize;
    let base = fsl.value_offset_at(0);
    let range = base..base + fsl.len() * dim;
    match fsl.value_type() {
        DataType::Float16 => {
            let v = &fsl.values().as_primitive::<Float16Type>().values()[range];
            out.extend(
                v.chunks_exact(dim)
                    .map(|r| r.iter().map(|x| x.to_f32() * x.to_f32()).sum::<f32>()),
            );
        }
        _ => {
            let v = &fsl.values().as_primitive::<Float32Type>().values()[range];
            out.extend(
                v.chunks_exact(dim)
                    .map(|r| r.iter().map(|x| x * x).sum::<f32>()),
            );
        }
    }
}

/// Runs an exact search. Results are sorted by query, then distance ascending.
///
/// `norms`, when given (cosine only), holds each fragment's squared vector norms by offset;
/// cosine then needs only the dot-product kernel.
pub fn search(
    frags: &[LoadedFragment],
    schema: &SchemaRef,
    q: &VectorQuery,
    norms: Option<&[std::sync::Arc<Vec<f32>>]>,
    cancel: &CancelToken,
) -> Result<RecordBatch> {
    let p = prepare(schema, q)?;
    let parallel = is_parallel(frags, &p, q);
    let masks = row_masks(frags, q, parallel, &|_| true)?;
    let tops = exact_tops(frags, &|_| true, &p, q, norms, &masks, cancel)?;
    assemble(
        frags,
        &p.out_schema,
        &p.proj,
        tops,
        q.with_row_id,
        p.with_qi,
    )
}

impl Prepared {
    /// Gathers the result batch of `tops` (see [`assemble`]).
    pub(crate) fn assemble(
        &self,
        frags: &[LoadedFragment],
        q: &VectorQuery,
        tops: Vec<TopK>,
    ) -> Result<RecordBatch> {
        assemble(
            frags,
            &self.out_schema,
            &self.proj,
            tops,
            q.with_row_id,
            self.with_qi,
        )
    }
}

/// Validates a query against the schema.
pub(crate) fn prepare(schema: &SchemaRef, q: &VectorQuery) -> Result<Prepared> {
    let (col, dim) = resolve_vector_column(schema, q.column.as_deref())?;
    if q.num_queries == 0 || q.vectors.len() != q.num_queries * dim {
        let got = q.vectors.len().checked_div(q.num_queries).unwrap_or(0);
        return Err(Error::invalid(format!(
            "query vector has dimension {got}, but column '{}' has dimension {dim}",
            schema.field(col).name()
        )));
    }
    if let Some(bad) = q.vectors.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "query {} has {} at position {}; query vectors must be finite",
            bad / dim,
            q.vectors[bad],
            bad % dim
        )));
    }
    if q.k == 0 || q.k > MAX_K {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_K}, got {}",
            q.k
        )));
    }
    let proj = project(schema, q.columns.as_deref(), "select")?;
    let with_qi = q.with_query_index || q.num_queries > 1;
    let out_schema = result_schema(schema, &proj, q.with_row_id, with_qi);
    let qnorms: Vec<f32> = q
        .vectors
        .chunks_exact(dim)
        .map(|v| v.iter().map(|x| x * x).sum())
        .collect();
    Ok(Prepared {
        col,
        dim,
        proj,
        out_schema,
        with_qi,
        qnorms,
    })
}

/// Whether exact search over `frags` is worth spreading over the cores.
pub(crate) fn is_parallel(frags: &[LoadedFragment], p: &Prepared, q: &VectorQuery) -> bool {
    let rows: usize = frags.iter().map(|f| f.meta.num_rows as usize).sum();
    rows * p.dim * q.num_queries >= PARALLEL_MIN_FLOPS
}

/// Deletion and filter masks of the fragments `include` accepts (others get `None`).
pub(crate) fn row_masks(
    frags: &[LoadedFragment],
    q: &VectorQuery,
    parallel: bool,
    include: &(dyn Fn(&LoadedFragment) -> bool + Sync),
) -> Result<Masks> {
    let per_frag = |frag: &LoadedFragment| -> Result<Vec<Option<BooleanArray>>> {
        (0..frag.batches.len())
            .map(|b| {
                if !include(frag) || (q.filter.is_none() && frag.deleted.is_none()) {
                    Ok(None)
                } else {
                    row_mask(frag, b, q.filter.as_ref()).map(Some)
                }
            })
            .collect()
    };
    if parallel && q.filter.is_some() {
        frags.par_iter().map(per_frag).collect()
    } else {
        frags.iter().map(per_frag).collect()
    }
}

/// Exact top-k of every query over the fragments `include` accepts.
pub(crate) fn exact_tops(
    frags: &[LoadedFragment],
    include: &(dyn Fn(&LoadedFragment) -> bool + Sync),
    p: &Prepared,
    q: &VectorQuery,
    norms: Option<&[std::sync::Arc<Vec<f32>>]>,
    masks: &Masks,
    cancel: &CancelToken,
) -> Result<Vec<TopK>> {
    let (col, dim) = (p.col, p.dim);
    let qnorms = &p.qnorms;

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
    let parallel = total_rows * dim * q.num_queries >= PARALLEL_MIN_FLOPS;
    let run = |t: &Task| -> Result<Vec<TopK>> {
        cancel.check()?;
        let frag = &frags[t.frag];
        let mask = masks[t.frag][t.batch].as_ref();
        let mut tops: Vec<TopK> = (0..q.num_queries).map(|_| TopK::new(q.k)).collect();
        let allowed = mask.map_or(t.end - t.start, |m| {
            m.slice(t.start, t.end - t.start).true_count()
        });
        if allowed == 0 {
            return Ok(tops);
        }
        let row_norms = norms.map(|n| &n[t.frag][frag.starts[t.batch] as usize..]);
        scan_block(
            frag, t, col, dim, q, qnorms, row_norms, mask, allowed, &mut tops,
        );
        Ok(tops)
    };
    let merge = |mut a: Vec<TopK>, b: Vec<TopK>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(y);
        }
        a
    };
    let empty = || {
        (0..q.num_queries)
            .map(|_| TopK::new(q.k))
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
    frag: &LoadedFragment,
    t: &Task,
    col: usize,
    dim: usize,
    q: &VectorQuery,
    qnorms: &[f32],
    row_norms: Option<&[f32]>,
    mask: Option<&BooleanArray>,
    allowed: usize,
    tops: &mut [TopK],
) {
    let k = kernels();
    // With cached row norms, cosine runs the cheaper dot kernel and is finished below.
    let kernel_metric = match (q.metric(), row_norms) {
        (Metric::Cosine, Some(_)) => Metric::Dot,
        (m, _) => m,
    };
    let fsl = frag.batches[t.batch].column(col).as_fixed_size_list();
    let base = fsl.value_offset_at(0);
    let n = t.end - t.start;
    let range = (base + t.start * dim)..(base + t.end * dim);
    let mut dist = vec![0f32; n];
    let compute = |qv: &[f32], qn: f32, rows: std::ops::Range<usize>, out: &mut [f32]| match fsl
        .value_type()
    {
        DataType::Float16 => {
            let v = fsl.values().as_primitive::<Float16Type>().values();
            (k.distances_f16)(kernel_metric, qv, qn, &v[rows], out)
        }
        _ => {
            let v = fsl.values().as_primitive::<Float32Type>().values();
            (k.distances_f32)(kernel_metric, qv, qn, &v[rows], out)
        }
    };
    // A selective mask is cheaper to serve row by row than by computing the whole block.
    let sparse = mask.is_some() && allowed * 4 < n;
    for (qi, top) in tops.iter_mut().enumerate() {
        let qv = &q.vectors[qi * dim..(qi + 1) * dim];
        if sparse {
            let m = mask.expect("sparse implies a mask").slice(t.start, n);
            for j in m.values().set_indices() {
                let r = base + (t.start + j) * dim;
                compute(qv, qnorms[qi], r..r + dim, &mut dist[..1]);
                if let Some(rn) = row_norms {
                    dist[0] = cosine_from_dot_distance(dist[0], qnorms[qi], rn[t.start + j]);
                }
                top.push(dist[0], frag.row_id(t.batch, t.start + j));
            }
            continue;
        }
        compute(qv, qnorms[qi], range.clone(), &mut dist);
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

/// Gathers result rows from the fragments into one batch.
pub(crate) fn assemble(
    frags: &[LoadedFragment],
    out_schema: &SchemaRef,
    proj: &[usize],
    tops: Vec<TopK>,
    with_row_id: bool,
    with_qi: bool,
) -> Result<RecordBatch> {
    // Flat index of every (fragment, batch) so `interleave` can pick rows from all of them.
    let mut flat_start = Vec::with_capacity(frags.len());
    let mut sources: Vec<&RecordBatch> = Vec::new();
    let mut frag_pos = std::collections::HashMap::with_capacity(frags.len());
    for (fi, f) in frags.iter().enumerate() {
        flat_start.push(sources.len());
        frag_pos.insert(f.meta.id, fi);
        sources.extend(f.batches.iter());
    }
    let mut picks: Vec<(usize, usize)> = Vec::new();
    let mut dists = Vec::new();
    let mut ids = Vec::new();
    let mut qis = Vec::new();
    for (qi, top) in tops.into_iter().enumerate() {
        for nb in top.into_sorted() {
            let fi = frag_pos[&((nb.id >> 32) as u32)];
            let off = (nb.id & 0xffff_ffff) as u32;
            let f = &frags[fi];
            let b = f.starts.partition_point(|&s| s <= off) - 1;
            picks.push((flat_start[fi] + b, (off - f.starts[b]) as usize));
            dists.push(nb.distance);
            ids.push(nb.id);
            qis.push(qi as u32);
        }
    }
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(out_schema.fields().len());
    for &c in proj {
        if sources.is_empty() {
            cols.push(arrow::array::new_empty_array(
                out_schema.field(cols.len()).data_type(),
            ));
            continue;
        }
        let arrays: Vec<&dyn Array> = sources.iter().map(|b| b.column(c).as_ref()).collect();
        cols.push(
            arrow::compute::interleave(&arrays, &picks)
                .map_err(|e| Error::invalid(e.to_string()))?,
        );
    }
    cols.push(Arc::new(Float32Array::from(dists)));
    if with_row_id {
        cols.push(Arc::new(UInt64Array::from(ids)));
    }
    if with_qi {
        cols.push(Arc::new(UInt32Array::from(qis)));
    }
    RecordBatch::try_new(out_schema.clone(), cols).map_err(|e| Error::invalid(e.to_string()))
}
