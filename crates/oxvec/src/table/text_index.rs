//! Full-text indexes on a table: build one over string columns and commit it.
//!
//! The index lives beside the vector indexes (`indices/<uuid>.idx`, the same checksummed
//! container, the same manifest record with `index_type` `FTS`); `optimize` folds new rows
//! into it and remaps it after compaction like any index (see `indexes.rs`).

use super::indexes::Progress;
use super::Table;
use crate::memory::PeakMemory;
use crate::snapshot::{is_text, LoadedFragment};
use crate::texts::{text_columns, FragmentTexts};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_index::text::{build_text_index, AnalyzerOptions, TextIndex};
use oxvec_storage::transaction::CreateIndex;
use oxvec_storage::{commit, IndexMeta, Transaction};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// What `create_fts_index` builds.
#[derive(Debug, Clone)]
pub struct TextIndexRequest {
    /// The string columns indexed (one inverted index each, searchable together).
    pub columns: Vec<String>,
    pub analyzer: AnalyzerOptions,
    /// Keep token positions (phrase queries need them).
    pub with_position: bool,
    /// Replace an index of the same name (else that is an error).
    pub replace: bool,
    /// The index's name; default `<column>_idx` (columns joined by `_`).
    pub name: Option<String>,
}

/// A full-text index's build options as its manifest record keeps them: enough to analyse
/// rows the same way without opening the file (a damaged index is searched around with
/// them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextParams {
    pub columns: Vec<String>,
    pub analyzer: AnalyzerOptions,
    pub with_position: bool,
}

impl TextParams {
    /// The options recorded for full-text index `meta`.
    pub fn of(meta: &IndexMeta) -> Result<TextParams> {
        serde_json::from_value(meta.params.clone()).map_err(|e| {
            Error::invalid(format!(
                "full-text index '{}' has unreadable build options: {e}",
                meta.name
            ))
        })
    }
}

/// Builds a full-text index of `columns` over the live rows of `frags`; returns the file
/// bytes, header CRC and the row ids indexed.
pub(crate) fn build_over(
    frags: &[&LoadedFragment],
    cols: &[usize],
    params: &TextParams,
    cancel: &CancelToken,
) -> Result<(Vec<u8>, u32, usize)> {
    let rows = FragmentTexts::new(frags, cols);
    let (bytes, crc) = build_text_index(
        &rows,
        &params.columns,
        rows.row_ids(),
        &params.analyzer,
        params.with_position,
        cancel,
    )?;
    Ok((bytes, crc, oxvec_index::text::TextSource::len(&rows)))
}

impl Table {
    /// Builds a full-text index over every live row and commits it as a new version.
    pub fn create_fts_index(
        &self,
        req: &TextIndexRequest,
        progress: &Progress,
        cancel: &CancelToken,
    ) -> Result<IndexMeta> {
        let snap = self.latest_for_write()?;
        let frags = self.fragments_for_write(&snap)?;
        let schema = snap.manifest.schema.clone();
        let cols = text_columns(&schema, &req.columns)?;
        // Refuse options that cannot build before reading any row.
        oxvec_index::text::Analyzer::new(req.analyzer.clone())?;
        if let Some(n) = &req.name {
            oxvec_core::validate_index_name(n)?;
        }
        let name = req
            .name
            .clone()
            .unwrap_or_else(|| format!("{}_idx", req.columns.join("_")));
        let indices = &snap.manifest.body.indices;
        let before = indices.iter().find(|i| i.name == name).cloned();
        match &before {
            Some(b) if !is_text(b) => {
                return Err(Error::invalid(format!(
                    "index name '{name}' is taken by a {} index on column '{}'",
                    b.index_type, b.column
                )))
            }
            Some(_) if !req.replace => {
                return Err(Error::invalid(format!(
                    "full-text index '{name}' exists; pass replace=True to rebuild it"
                )))
            }
            _ => {}
        }
        for other in indices.iter().filter(|i| is_text(i) && i.name != name) {
            if let Some(c) = other
                .indexed_columns()
                .into_iter()
                .find(|c| req.columns.iter().any(|r| r == c))
            {
                return Err(Error::invalid(format!(
                    "column '{c}' is already in full-text index '{}'; drop it first \
                     (drop_index('{}'))",
                    other.name, other.name
                )));
            }
        }
        let started = Instant::now();
        let memory = PeakMemory::start();
        let params = TextParams {
            columns: req.columns.clone(),
            analyzer: req.analyzer.clone(),
            with_position: req.with_position,
        };
        let all: Vec<&LoadedFragment> = frags.iter().collect();
        let live = snap.manifest.live_rows();
        progress.total.store(live, Relaxed);
        let (bytes, crc, rows) = build_over(&all, &cols, &params, cancel)?;
        progress.done.store(live, Relaxed);
        let (file, path) = self.write_index_file(&bytes)?;
        let file_size = bytes.len() as u64;
        drop(bytes);
        let mut committing = false;
        let result = (|| {
            // Read back before committing: a version must never name a file that fails to open.
            TextIndex::open(&path, file_size, crc)?;
            let (build_peak_rss, build_peak_anon) = memory.finish();
            let meta = IndexMeta {
                name: name.clone(),
                index_type: oxvec_index::text::index::KIND.into(),
                column: req.columns[0].clone(),
                columns: if req.columns.len() > 1 {
                    req.columns.clone()
                } else {
                    Vec::new()
                },
                metric: "bm25".into(),
                file: file.clone(),
                file_size,
                header_crc32c: crc,
                fragment_ids: frags.iter().map(|f| f.meta.id).collect(),
                num_nodes: rows as u64,
                tombstones: 0,
                params: serde_json::to_value(&params)
                    .map_err(|e| Error::internal("encoding full-text options", e))?,
                calibration: serde_json::Value::Null,
                build_seconds: started.elapsed().as_secs_f64(),
                build_peak_rss,
                build_peak_anon,
                created_micros: oxvec_core::clock::now_micros(),
            };
            cancel.check()?;
            let txn = Transaction::new(
                snap.manifest.version,
                CreateIndex {
                    before,
                    after: meta.clone(),
                    columns: cols.iter().map(|&c| schema.field(c).clone()).collect(),
                },
            );
            committing = true;
            let m = commit(&self.dir, &txn, std::slice::from_ref(&path))?;
            self.set_snapshot(m, false);
            Ok(meta)
        })();
        if result.is_err() && !committing {
            let _ = oxvec_storage::io::remove_file(&path);
        }
        result
    }
}
