//! Reads beside scans and searches: given rows, and what the version holds.

use super::Table;
use crate::scalar::is_scalar;
use crate::scan::{ScanCursor, ScanRequest};
use crate::snapshot::{is_text, FragmentCache, Snapshot};
use crate::take::{take, Rows};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_query::Filter;
use oxvec_storage::TableDir;
use serde_json::json;
use std::sync::Arc;

/// A scan read one batch at a time, as the caller asks for them: the data files are mapped,
/// and each step reads at most a batch's worth of rows of them, so memory holds about one
/// batch (the kernel may drop the pages read again) whatever the table's size. It reads the
/// version the handle was on when it started.
pub struct ScanStream {
    snap: Arc<Snapshot>,
    dir: TableDir,
    cache: Arc<FragmentCache>,
    filter: Option<Filter>,
    /// The table columns the scan reads (checked before their first read).
    reads: Vec<String>,
    cursor: ScanCursor,
    /// Rows read past the last batch handed out (the start of the next one).
    carry: Option<RecordBatch>,
    max_rows: usize,
    cancel: CancelToken,
}

impl ScanStream {
    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.cursor.schema().clone()
    }
}

impl Iterator for ScanStream {
    type Item = Result<RecordBatch>;

    /// The next `max_rows` rows (fewer only at the end): the cursor's windows (at most
    /// `max_rows` rows each, fewer when the filter drops some) joined up.
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let frags = match self
            .snap
            .fragments_reading(&self.dir, &self.cache, &self.reads)
        {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        let mut parts: Vec<RecordBatch> = self.carry.take().into_iter().collect();
        let mut rows: usize = parts.iter().map(RecordBatch::num_rows).sum();
        while rows < self.max_rows {
            let batch = match self
                .cursor
                .next_batch(frags, self.filter.as_ref(), &self.cancel)
            {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => return Some(Err(e)),
            };
            let take = batch.num_rows().min(self.max_rows - rows);
            if take < batch.num_rows() {
                self.carry = Some(batch.slice(take, batch.num_rows() - take));
            }
            parts.push(batch.slice(0, take));
            rows += take;
        }
        match parts.len() {
            0 => None,
            1 => parts.pop().map(Ok),
            _ => Some(
                arrow::compute::concat_batches(self.cursor.schema(), &parts)
                    .map_err(|e| Error::internal("joining scan batches", e)),
            ),
        }
    }
}

impl Table {
    /// The rows `rows` of the pinned version (see [`crate::take::take`]).
    pub fn take(
        &self,
        rows: Rows<'_>,
        columns: Option<&[String]>,
        with_row_id: bool,
        cancel: &CancelToken,
    ) -> Result<(SchemaRef, RecordBatch)> {
        let snap = self.read_snapshot()?;
        let schema = &snap.manifest.schema;
        // Only the columns taken are checked (and so read): a take of one blob column
        // reads that column's bytes, not the table's.
        let reads: Vec<String> = match columns {
            Some(c) => c.to_vec(),
            None => schema.fields().iter().map(|f| f.name().clone()).collect(),
        };
        let frags = snap
            .fragments_reading(&self.dir, &self.cache, &reads)
            .map_err(|e| self.not_found_if_dropped(e))?;
        take(frags, schema, rows, columns, with_row_id, cancel)
    }

    /// A scan as a stream of batches of at most `max_rows` rows (see [`ScanStream`]),
    /// stopped by `cancel` (Ctrl-C, or its deadline) at the next batch.
    pub fn scan_stream(
        &self,
        req: &ScanRequest,
        max_rows: usize,
        cancel: CancelToken,
    ) -> Result<ScanStream> {
        if max_rows == 0 {
            return Err(Error::invalid("a batch size must be at least 1 row"));
        }
        let snap = self.read_snapshot()?;
        let filter = req
            .filter
            .as_ref()
            .map(|w| snap.compile(w, &self.dir, &self.cache))
            .transpose()?;
        let reads = crate::scan::columns_read(&snap.manifest.schema, req, filter.as_ref());
        snap.fragments_reading(&self.dir, &self.cache, &reads)
            .map_err(|e| self.not_found_if_dropped(e))?;
        let cursor = ScanCursor::windowed(&snap.manifest.schema, req, max_rows)?;
        Ok(ScanStream {
            snap,
            dir: self.dir.clone(),
            cache: self.cache.clone(),
            filter,
            reads,
            cursor,
            carry: None,
            max_rows,
            cancel,
        })
    }

    /// What the pinned version holds, as JSON: rows (live and deleted), fragments and their
    /// sizes in rows, bytes of data, deletion vectors and indexes, and each index. Read from
    /// the manifest alone: no data file is opened.
    pub fn stats(&self) -> Result<serde_json::Value> {
        let snap = self.read_snapshot()?;
        let m = &snap.manifest;
        let frags = &m.body.fragments;
        let mut lengths: Vec<u64> = frags.iter().map(|f| f.live_rows()).collect();
        lengths.sort_unstable();
        // Nearest rank: the smallest length with at least p% of the fragments at or below.
        let pct = |p: usize| -> u64 {
            match lengths.len() {
                0 => 0,
                n => lengths[(n * p).div_ceil(100).max(1) - 1],
            }
        };
        let data_bytes: u64 = frags.iter().map(|f| f.file_size).sum();
        let deletion_bytes: u64 = frags
            .iter()
            .filter_map(|f| f.deletion.as_ref())
            .map(|d| d.file_size)
            .sum();
        let index_bytes: u64 = m.body.indices.iter().map(|i| i.file_size).sum();
        let indices: Vec<serde_json::Value> = m
            .body
            .indices
            .iter()
            .map(|i| {
                let kind = if is_text(i) {
                    "fts"
                } else if is_scalar(i) {
                    "scalar"
                } else {
                    "vector"
                };
                json!({
                    "name": i.name,
                    "index_type": i.index_type,
                    "kind": kind,
                    "columns": i.indexed_columns(),
                    "bytes": i.file_size,
                })
            })
            .collect();
        let mean = if lengths.is_empty() {
            0.0
        } else {
            lengths.iter().sum::<u64>() as f64 / lengths.len() as f64
        };
        Ok(json!({
            "version": m.version,
            "num_rows": m.live_rows(),
            "num_deleted_rows": frags.iter().map(|f| f.num_rows - f.live_rows()).sum::<u64>(),
            "num_indices": indices.len(),
            "total_bytes": data_bytes + deletion_bytes + index_bytes,
            "data_bytes": data_bytes,
            "deletion_bytes": deletion_bytes,
            "index_bytes": index_bytes,
            "fragment_stats": {
                "num_fragments": frags.len(),
                "num_small_fragments": lengths
                    .iter()
                    .filter(|&&n| n < crate::options::SMALL_FRAGMENT_ROWS)
                    .count(),
                "lengths": {
                    "min": lengths.first().copied().unwrap_or(0),
                    "max": lengths.last().copied().unwrap_or(0),
                    "mean": mean,
                    "p25": pct(25),
                    "p50": pct(50),
                    "p75": pct(75),
                    "p99": pct(99),
                },
            },
            "indices": indices,
        }))
    }
}
