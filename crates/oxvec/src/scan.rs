//! Filtered scans and counts over a snapshot.

use crate::snapshot::LoadedFragment;
use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt64Array};
use arrow::compute::{and, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_query::{filter_mask, Filter, Where};
use std::sync::Arc;

/// Rows of batch `b` of `frag` that are not deleted.
pub fn live_mask(frag: &LoadedFragment, b: usize, len: usize) -> BooleanArray {
    let mut bits = arrow::array::BooleanBufferBuilder::new(len);
    bits.append_n(len, true);
    if let Some(del) = &frag.deleted {
        let start = frag.starts[b];
        for off in del.range(start..start + len as u32) {
            bits.set_bit((off - start) as usize, false);
        }
    }
    BooleanArray::new(bits.finish(), None)
}

/// Rows of batch `b` that are live and pass `filter`.
pub fn row_mask(frag: &LoadedFragment, b: usize, filter: Option<&Filter>) -> Result<BooleanArray> {
    let batch = &frag.batches[b];
    if let Some(f) = filter {
        if let Some(m) = narrowed_mask(frag, b, f)? {
            return Ok(m);
        }
    }
    let live = live_mask(frag, b, batch.num_rows());
    match filter {
        None => Ok(live),
        Some(f) => {
            and(&filter_mask(&f.expr, batch)?, &live).map_err(|e| Error::filter(e.to_string()))
        }
    }
}

/// The mask of batch `b` when an index narrowed `f` to candidate rows there (see
/// [`narrowed_rows`]); `None`: no index covers the fragment.
pub fn narrowed_mask(frag: &LoadedFragment, b: usize, f: &Filter) -> Result<Option<BooleanArray>> {
    let Some(rows) = narrowed_rows(frag, b, f)? else {
        return Ok(None);
    };
    let len = frag.batches[b].num_rows();
    let mut bits = arrow::array::BooleanBufferBuilder::new(len);
    bits.append_n(len, false);
    for o in rows {
        bits.set_bit(o as usize, true);
    }
    Ok(Some(BooleanArray::new(bits.finish(), None)))
}

/// The rows of batch `b` (offsets in the batch, ascending) that are live and pass `f`, when
/// an index narrowed `f` to candidates there: the filter is evaluated on the live
/// candidates alone (only the columns it reads), or not at all when the index answers it
/// exactly. `None`: no index covers the fragment.
pub fn narrowed_rows(frag: &LoadedFragment, b: usize, f: &Filter) -> Result<Option<Vec<u32>>> {
    let Some(pre) = &f.prefilter else {
        return Ok(None);
    };
    let batch = &frag.batches[b];
    let start = frag.starts[b];
    let Some(mut cands) = pre.candidates(frag.meta.id, start, batch.num_rows()) else {
        return Ok(None);
    };
    if frag.deleted.is_some() {
        cands.retain(|&o| !frag.is_deleted(start + o));
    }
    if pre.exact() || cands.is_empty() {
        return Ok(Some(cands));
    }
    let schema = batch.schema();
    let cols: Vec<usize> = f
        .expr
        .columns()
        .iter()
        .filter_map(|c| schema.index_of(c).ok())
        .collect();
    let read = batch
        .project(&cols)
        .map_err(|e| Error::internal("projecting filter columns", e))?;
    let idx = arrow::array::UInt32Array::from(cands.clone());
    let sub = arrow::compute::take_record_batch(&read, &idx)
        .map_err(|e| Error::internal("taking candidate rows", e))?;
    let m = filter_mask(&f.expr, &sub)?;
    Ok(Some(
        cands
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| m.is_valid(i) && m.value(i))
            .map(|(_, o)| o)
            .collect(),
    ))
}

/// What a scan returns.
#[derive(Debug, Clone, Default)]
pub struct ScanRequest {
    /// Compiled against the schema of the version scanned.
    pub filter: Option<Where>,
    /// Columns to return, in order; all when `None`.
    pub columns: Option<Vec<String>>,
    pub limit: Option<usize>,
    pub offset: usize,
    /// Adds `_rowid: uint64`.
    pub with_row_id: bool,
}

/// Resolves requested column names to indices, with an error naming unknown ones and saying
/// what they were asked for (`role`: "select", "merge_insert key").
pub fn project(schema: &Schema, columns: Option<&[String]>, role: &str) -> Result<Vec<usize>> {
    match columns {
        None => Ok((0..schema.fields().len()).collect()),
        Some(cols) => cols
            .iter()
            .map(|c| {
                schema.index_of(c).map_err(|_| {
                    let names: Vec<&str> =
                        schema.fields().iter().map(|f| f.name().as_str()).collect();
                    Error::invalid(format!(
                        "unknown column '{c}' in {role}; the table has {names:?}"
                    ))
                })
            })
            .collect(),
    }
}

/// The table columns a scan reads: those it returns, then those its filter reads.
pub fn columns_read(schema: &Schema, req: &ScanRequest, filter: Option<&Filter>) -> Vec<String> {
    let mut out: Vec<String> = match &req.columns {
        Some(cols) => cols.clone(),
        None => schema.fields().iter().map(|f| f.name().clone()).collect(),
    };
    for c in filter.map(|f| f.expr.columns()).unwrap_or_default() {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Output schema of a scan: the projected fields, then `_rowid` if asked.
pub fn scan_schema(schema: &Schema, proj: &[usize], with_row_id: bool) -> SchemaRef {
    let mut fields: Vec<Field> = proj.iter().map(|&i| schema.field(i).clone()).collect();
    if with_row_id {
        fields.push(Field::new("_rowid", DataType::UInt64, false));
    }
    Arc::new(Schema::new(fields))
}

/// Runs a scan. Batches follow the output schema `scan_schema(..)`.
pub fn scan(
    frags: &[LoadedFragment],
    schema: &SchemaRef,
    req: &ScanRequest,
    filter: Option<&Filter>,
    cancel: &CancelToken,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut cursor = ScanCursor::new(schema, req)?;
    let mut out = Vec::new();
    while let Some(batch) = cursor.next_batch(frags, filter, cancel)? {
        out.push(batch);
    }
    Ok((cursor.schema().clone(), out))
}

/// Where a scan is: the fragment batch being read (the rows of it the filter picked, and
/// how far the reading got), and the offset and limit left. A scan is a walk of the cursor
/// to its end; a stream takes one step per batch it hands out.
#[derive(Debug, Clone)]
pub struct ScanCursor {
    proj: Vec<usize>,
    out_schema: SchemaRef,
    with_row_id: bool,
    /// Rows of a fragment batch read per step: a stream's memory holds this many at most.
    window: usize,
    next_frag: usize,
    next_batch: usize,
    current: Option<Current>,
    skip: usize,
    remaining: usize,
}

#[derive(Debug, Clone)]
struct Current {
    frag: usize,
    batch: usize,
    picked: Picked,
    /// The first row of the batch not read yet.
    at: usize,
}

/// The rows of a batch a scan returns.
#[derive(Debug, Clone)]
enum Picked {
    /// Offsets in the batch an index picked (ascending).
    Rows(Vec<u32>),
    /// Live and passing the filter.
    Mask(BooleanArray),
}

impl ScanCursor {
    /// A cursor at the start of a scan of a version with `schema`, reading each fragment
    /// batch whole.
    pub fn new(schema: &SchemaRef, req: &ScanRequest) -> Result<Self> {
        Self::windowed(schema, req, usize::MAX)
    }

    /// A cursor reading at most `window` rows of a fragment batch per step.
    pub fn windowed(schema: &SchemaRef, req: &ScanRequest, window: usize) -> Result<Self> {
        let proj = project(schema, req.columns.as_deref(), "select")?;
        let out_schema = scan_schema(schema, &proj, req.with_row_id);
        Ok(ScanCursor {
            proj,
            out_schema,
            with_row_id: req.with_row_id,
            window: window.max(1),
            next_frag: 0,
            next_batch: 0,
            current: None,
            skip: req.offset,
            remaining: req.limit.unwrap_or(usize::MAX),
        })
    }

    /// The schema of the batches the scan returns.
    pub fn schema(&self) -> &SchemaRef {
        &self.out_schema
    }

    /// The next batch of results (never empty, at most `window` rows), or `None` at the end.
    pub fn next_batch(
        &mut self,
        frags: &[LoadedFragment],
        filter: Option<&Filter>,
        cancel: &CancelToken,
    ) -> Result<Option<RecordBatch>> {
        while self.remaining > 0 {
            let Some(mut cur) = self.current.take() else {
                let Some(frag) = frags.get(self.next_frag) else {
                    return Ok(None);
                };
                if self.next_batch >= frag.batches.len() {
                    self.next_frag += 1;
                    self.next_batch = 0;
                    continue;
                }
                cancel.check()?;
                let b = self.next_batch;
                self.next_batch += 1;
                let picked = match filter.map(|f| narrowed_rows(frag, b, f)).transpose()? {
                    Some(Some(rows)) => Picked::Rows(rows),
                    _ => Picked::Mask(row_mask(frag, b, filter)?),
                };
                self.current = Some(Current {
                    frag: self.next_frag,
                    batch: b,
                    picked,
                    at: 0,
                });
                continue;
            };
            let frag = &frags[cur.frag];
            let batch = &frag.batches[cur.batch];
            let end = batch.num_rows().min(cur.at.saturating_add(self.window));
            let part = self.read(frag, cur.batch, batch, &cur.picked, cur.at, end)?;
            cur.at = end;
            if end < batch.num_rows() {
                self.current = Some(cur);
            }
            if let Some(part) = part {
                return Ok(Some(part));
            }
        }
        Ok(None)
    }

    /// The results among rows `from..to` of batch `b` of `frag`, after the offset and
    /// within the limit.
    fn read(
        &mut self,
        frag: &LoadedFragment,
        b: usize,
        batch: &RecordBatch,
        picked: &Picked,
        from: usize,
        to: usize,
    ) -> Result<Option<RecordBatch>> {
        let mask = match picked {
            Picked::Mask(mask) => mask,
            Picked::Rows(all) => {
                // Rows an index picked are taken directly.
                let lo = all.partition_point(|&o| (o as usize) < from);
                let hi = all.partition_point(|&o| (o as usize) < to);
                let mut rows = &all[lo..hi];
                let s = self.skip.min(rows.len());
                rows = &rows[s..];
                self.skip -= s;
                rows = &rows[..rows.len().min(self.remaining)];
                self.remaining -= rows.len();
                if rows.is_empty() {
                    return Ok(None);
                }
                let idx = arrow::array::UInt32Array::from(rows.to_vec());
                let mut cols = Vec::with_capacity(self.out_schema.fields().len());
                for &i in &self.proj {
                    cols.push(
                        arrow::compute::take(batch.column(i).as_ref(), &idx, None)
                            .map_err(|e| Error::internal("taking scan rows", e))?,
                    );
                }
                if self.with_row_id {
                    let start = frag.starts[b];
                    let ids = UInt64Array::from_iter_values(
                        rows.iter()
                            .map(|&o| oxvec_core::RowId::new(frag.meta.id, start + o).as_u64()),
                    );
                    cols.push(Arc::new(ids));
                }
                return RecordBatch::try_new(self.out_schema.clone(), cols)
                    .map(Some)
                    .map_err(|e| Error::internal("building a scan batch", e));
            }
        };
        let len = to - from;
        let mut cols: Vec<ArrayRef> = self
            .proj
            .iter()
            .map(|&i| batch.column(i).slice(from, len))
            .collect();
        if self.with_row_id {
            let ids = UInt64Array::from_iter_values((from..to).map(|r| frag.row_id(b, r)));
            cols.push(Arc::new(ids));
        }
        let window = RecordBatch::try_new_with_options(
            self.out_schema.clone(),
            cols,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(len)),
        )
        .map_err(|e| Error::internal("building a scan batch", e))?;
        let mask = if from == 0 && to == mask.len() {
            mask.clone()
        } else {
            mask.slice(from, len)
        };
        let mut part = filter_record_batch(&window, &mask)
            .map_err(|e| Error::internal("filtering a scan batch", e))?;
        if self.skip > 0 {
            let s = self.skip.min(part.num_rows());
            part = part.slice(s, part.num_rows() - s);
            self.skip -= s;
        }
        if part.num_rows() > self.remaining {
            part = part.slice(0, self.remaining);
        }
        self.remaining -= part.num_rows();
        Ok((part.num_rows() > 0).then_some(part))
    }
}

/// Live rows passing `filter`.
pub fn count(frags: &[LoadedFragment], filter: &Filter, cancel: &CancelToken) -> Result<u64> {
    let mut n = 0u64;
    for frag in frags {
        for b in 0..frag.batches.len() {
            cancel.check()?;
            // Rows an index picked are counted without a mask.
            n += match narrowed_rows(frag, b, filter)? {
                Some(rows) => rows.len() as u64,
                None => row_mask(frag, b, Some(filter))?.true_count() as u64,
            };
        }
    }
    Ok(n)
}
