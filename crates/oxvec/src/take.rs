//! Reading given rows: by position among the version's live rows (`take_offsets`, the order
//! a scan returns them in) or by row id (`take_row_ids`, the `_rowid` results carry).
//! Rows come back in the order asked, repeats included.

use crate::scan::{project, scan_schema};
use crate::snapshot::LoadedFragment;
use arrow::array::{Array, ArrayRef, RecordBatch, UInt64Array};
use arrow::compute::interleave;
use arrow::datatypes::{Schema, SchemaRef};
use oxvec_core::{CancelToken, Error, Result, RowId};
use std::collections::HashMap;
use std::sync::Arc;

/// Which rows to read.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    /// Positions among the live rows, from 0.
    Offsets(&'a [u64]),
    /// Row ids, as `_rowid` gives them.
    RowIds(&'a [u64]),
}

/// Where a row lives: the fragment (index into the version's list) and its offset there.
type Place = (usize, u32);

/// The rows `rows` of `frags`, projected to `columns` (all when `None`), with `_rowid` when
/// asked. An offset past the live rows, or a row id not live in this version, is an error
/// naming it.
pub fn take(
    frags: &[LoadedFragment],
    schema: &Schema,
    rows: Rows<'_>,
    columns: Option<&[String]>,
    with_row_id: bool,
    cancel: &CancelToken,
) -> Result<(SchemaRef, RecordBatch)> {
    let proj = project(schema, columns, "select")?;
    let out_schema = scan_schema(schema, &proj, with_row_id);
    let places = match rows {
        Rows::Offsets(offsets) => places_of_offsets(frags, offsets)?,
        Rows::RowIds(ids) => places_of_row_ids(frags, ids)?,
    };
    cancel.check()?;
    // Each (fragment, batch) read becomes one source of `interleave`.
    let mut sources: HashMap<(usize, usize), usize> = HashMap::new();
    let mut batches: Vec<&RecordBatch> = Vec::new();
    let mut picks: Vec<(usize, usize)> = Vec::with_capacity(places.len());
    for &(f, offset) in &places {
        let frag = &frags[f];
        let b = frag.starts.partition_point(|&s| s <= offset) - 1;
        let src = *sources.entry((f, b)).or_insert_with(|| {
            batches.push(&frag.batches[b]);
            batches.len() - 1
        });
        picks.push((src, (offset - frag.starts[b]) as usize));
    }
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(out_schema.fields().len());
    for &c in &proj {
        let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
        let col = if arrays.is_empty() {
            arrow::array::new_empty_array(schema.field(c).data_type())
        } else {
            interleave(&arrays, &picks).map_err(|e| Error::internal("taking rows", e))?
        };
        cols.push(col);
    }
    if with_row_id {
        let ids = places
            .iter()
            .map(|&(f, o)| RowId::new(frags[f].meta.id, o).as_u64());
        cols.push(Arc::new(UInt64Array::from_iter_values(ids)));
    }
    let batch = RecordBatch::try_new_with_options(
        out_schema.clone(),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(places.len())),
    )
    .map_err(|e| Error::internal("building taken rows", e))?;
    Ok((out_schema, batch))
}

fn places_of_offsets(frags: &[LoadedFragment], offsets: &[u64]) -> Result<Vec<Place>> {
    // Live rows before each fragment, to find an offset's fragment by binary search.
    let mut before = Vec::with_capacity(frags.len() + 1);
    let mut total = 0u64;
    for f in frags {
        before.push(total);
        total += f.meta.live_rows();
    }
    offsets
        .iter()
        .map(|&off| {
            if off >= total {
                return Err(Error::invalid(format!(
                    "offset {off} is past the table's {total} rows"
                )));
            }
            let f = before.partition_point(|&b| b <= off) - 1;
            Ok((f, nth_live(&frags[f], off - before[f])))
        })
        .collect()
}

/// The physical offset of the `n`-th live row of `frag` (`n` below its live rows).
fn nth_live(frag: &LoadedFragment, n: u64) -> u32 {
    let Some(deleted) = frag.deleted.as_ref() else {
        return n as u32;
    };
    // The smallest offset p with p + 1 - (deleted rows <= p) == n + 1, and p itself live.
    let (mut lo, mut hi) = (n, frag.meta.num_rows - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let live_through_mid = mid + 1 - deleted.rank(mid as u32);
        if live_through_mid > n {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo as u32
}

fn places_of_row_ids(frags: &[LoadedFragment], ids: &[u64]) -> Result<Vec<Place>> {
    let by_id: HashMap<u32, usize> = frags
        .iter()
        .enumerate()
        .map(|(i, f)| (f.meta.id, i))
        .collect();
    ids.iter()
        .map(|&raw| {
            let id = RowId::from_u64(raw);
            let place = by_id.get(&id.fragment()).and_then(|&f| {
                let frag = &frags[f];
                (u64::from(id.offset()) < frag.meta.num_rows && !frag.is_deleted(id.offset()))
                    .then_some((f, id.offset()))
            });
            place.ok_or_else(|| {
                Error::invalid(format!(
                    "row id {raw} is not a row of this version (deleted, compacted away, or \
                     never one)"
                ))
            })
        })
        .collect()
}
