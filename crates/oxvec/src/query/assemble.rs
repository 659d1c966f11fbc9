//! Result assembly, shared by every search path: the chosen rows are gathered from the
//! fragments into one batch with their distances.

use super::plan::Plan;
use crate::snapshot::LoadedFragment;
use arrow::array::{Array, ArrayRef, Float32Array, RecordBatch, UInt32Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use oxvec_core::{Error, Result, RowId};
use oxvec_linalg::TopK;
use std::sync::Arc;

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

/// Gathers result rows from the fragments into one batch.
pub(super) fn assemble(p: &Plan<'_>, tops: Vec<TopK>) -> Result<RecordBatch> {
    let mut dists = Vec::new();
    let mut ids = Vec::new();
    let mut qis = Vec::new();
    for (qi, top) in tops.into_iter().enumerate() {
        for nb in top.into_sorted() {
            dists.push(nb.distance);
            ids.push(nb.id);
            qis.push(qi as u32);
        }
    }
    let mut cols = gather(p.frags, &p.proj, &p.out_schema, &ids)?;
    cols.push(Arc::new(Float32Array::from(dists)));
    if p.with_row_id {
        cols.push(Arc::new(UInt64Array::from(ids)));
    }
    if p.with_query_index {
        cols.push(Arc::new(UInt32Array::from(qis)));
    }
    RecordBatch::try_new(p.out_schema.clone(), cols)
        .map_err(|e| Error::internal("assembling the result batch", e))
}

/// Columns `proj` of the rows `ids` (row ids of `frags`), in that order; `out_schema`
/// starts with the projected columns' fields.
pub(super) fn gather(
    frags: &[LoadedFragment],
    proj: &[usize],
    out_schema: &SchemaRef,
    ids: &[u64],
) -> Result<Vec<ArrayRef>> {
    // Flat index of every (fragment, batch) so `interleave` can pick rows from all of them.
    let mut flat_start = Vec::with_capacity(frags.len());
    let mut sources: Vec<&RecordBatch> = Vec::new();
    let mut frag_pos = std::collections::HashMap::with_capacity(frags.len());
    for (fi, f) in frags.iter().enumerate() {
        flat_start.push(sources.len());
        frag_pos.insert(f.meta.id, fi);
        sources.extend(f.batches.iter());
    }
    let mut picks: Vec<(usize, usize)> = Vec::with_capacity(ids.len());
    for &id in ids {
        let row = RowId::from_u64(id);
        let fi = *frag_pos
            .get(&row.fragment())
            .ok_or_else(|| Error::internal("gathering result rows", "row of no fragment"))?;
        let off = row.offset();
        let f = &frags[fi];
        let b = f.starts.partition_point(|&s| s <= off) - 1;
        picks.push((flat_start[fi] + b, (off - f.starts[b]) as usize));
    }
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(out_schema.fields().len());
    for &c in proj.iter() {
        if sources.is_empty() {
            cols.push(arrow::array::new_empty_array(
                out_schema.field(cols.len()).data_type(),
            ));
            continue;
        }
        let arrays: Vec<&dyn Array> = sources.iter().map(|b| b.column(c).as_ref()).collect();
        cols.push(
            arrow::compute::interleave(&arrays, &picks)
                .map_err(|e| Error::internal("gathering result rows", e))?,
        );
    }
    Ok(cols)
}
