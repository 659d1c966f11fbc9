//! Reads beside scans and searches: given rows, and what the version holds.

use super::Table;
use crate::scalar::is_scalar;
use crate::snapshot::is_text;
use crate::take::{take, Rows};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use oxvec_core::{CancelToken, Result};
use serde_json::json;

impl Table {
    /// The rows `rows` of the pinned version (see [`crate::take::take`]).
    pub fn take(
        &self,
        rows: Rows<'_>,
        columns: Option<&[String]>,
        with_row_id: bool,
        cancel: &CancelToken,
    ) -> Result<(SchemaRef, RecordBatch)> {
        self.with_fragments(|snap, frags| {
            take(
                frags,
                &snap.manifest.schema,
                rows,
                columns,
                with_row_id,
                cancel,
            )
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
        let pct = |p: usize| -> u64 {
            match lengths.len() {
                0 => 0,
                n => lengths[((n - 1) * p).div_ceil(100)],
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
