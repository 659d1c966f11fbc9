//! Scalar indexes on a table: build one over a column and commit it (`optimize` folds new
//! rows in and remaps it after compaction, see `indexes.rs`).

use super::indexes::Progress;
use super::Table;
use crate::memory::PeakMemory;
use crate::scalar::{column_keys, is_scalar, key_kind};
use crate::snapshot::LoadedFragment;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_index::scalar::{build, ScalarIndex, KINDS};
use oxvec_storage::transaction::CreateIndex;
use oxvec_storage::{commit, IndexMeta, Transaction};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// What `create_scalar_index` builds.
#[derive(Debug, Clone)]
pub struct ScalarIndexRequest {
    pub column: String,
    /// `BTREE` (many distinct values), `BITMAP` (few) or `LABEL_LIST` (the elements of a
    /// list column); any case.
    pub index_type: String,
    /// Replace an index of the same name (else that is an error).
    pub replace: bool,
    /// The index's name; default `<column>_idx`.
    pub name: Option<String>,
}

impl Table {
    /// Builds a scalar index over every live row of a column and commits it.
    pub fn create_scalar_index(
        &self,
        req: &ScalarIndexRequest,
        progress: &Progress,
        cancel: &CancelToken,
    ) -> Result<IndexMeta> {
        let kind = req.index_type.to_ascii_uppercase();
        if !KINDS.contains(&kind.as_str()) {
            return Err(Error::invalid(format!(
                "unknown scalar index_type '{}'; expected one of {KINDS:?}",
                req.index_type
            )));
        }
        let snap = self.latest_for_write()?;
        let frags = self.fragments_for_write(&snap)?;
        let schema = snap.manifest.schema.clone();
        let col = schema
            .index_of(&req.column)
            .map_err(|_| Error::invalid(format!("no column named '{}'", req.column)))?;
        let field = schema.field(col).clone();
        let labels = crate::scalar::list_item(field.data_type());
        if kind == "LABEL_LIST" && labels.and_then(key_kind).is_none() {
            return Err(Error::invalid(format!(
                "column '{}' is {}; a LABEL_LIST index holds lists of integers, floats, \
                 strings, booleans, dates or timestamps (microseconds, no time zone)",
                req.column,
                field.data_type()
            )));
        }
        if kind != "LABEL_LIST" && labels.is_some() {
            return Err(Error::invalid(format!(
                "column '{}' is a list; index its elements with index_type='LABEL_LIST'",
                req.column
            )));
        }
        if kind != "LABEL_LIST" && key_kind(field.data_type()).is_none() {
            return Err(Error::invalid(format!(
                "column '{}' is {}; a scalar index holds integer, float, string, boolean, \
                 date and timestamp (microsecond, no time zone) columns",
                req.column,
                field.data_type()
            )));
        }
        if let Some(n) = &req.name {
            oxvec_core::validate_index_name(n)?;
        }
        let name = req
            .name
            .clone()
            .unwrap_or_else(|| format!("{}_idx", req.column));
        let indices = &snap.manifest.body.indices;
        let before = indices.iter().find(|i| i.name == name).cloned();
        match &before {
            // Another column's index under this name (a renamed column keeps its index's
            // name): replacing it would drop that index.
            Some(b) if !is_scalar(b) || b.column != req.column => {
                return Err(Error::invalid(format!(
                    "index name '{name}' is taken by a {} index on column '{}'; pass name=",
                    b.index_type, b.column
                )))
            }
            Some(_) if !req.replace => {
                return Err(Error::invalid(format!(
                    "scalar index '{name}' exists; pass replace=True to rebuild it"
                )))
            }
            _ => {}
        }
        if let Some(other) = indices
            .iter()
            .find(|i| is_scalar(i) && i.name != name && i.column == req.column)
        {
            return Err(Error::invalid(format!(
                "column '{}' already has scalar index '{}'; drop it first",
                req.column, other.name
            )));
        }
        let started = Instant::now();
        let memory = PeakMemory::start();
        let all: Vec<&LoadedFragment> = frags.iter().collect();
        let live = snap.manifest.live_rows();
        progress.total.store(live, Relaxed);
        let pairs = column_keys(&all, col)?;
        let rows = pairs.len() as u64;
        let type_name = field.data_type().to_string();
        let (bytes, crc) = build(&kind, &req.column, &type_name, pairs, cancel)?;
        progress.done.store(live, Relaxed);
        let (file, path) = self.write_index_file(&bytes)?;
        let file_size = bytes.len() as u64;
        drop(bytes);
        let mut committing = false;
        let result = (|| {
            let ix = ScalarIndex::open(&path, file_size, crc)?;
            let (build_peak_rss, build_peak_anon) = memory.finish();
            let meta = IndexMeta {
                name: name.clone(),
                index_type: kind.clone(),
                column: req.column.clone(),
                columns: Vec::new(),
                // The column's type: an index built for another type is never used.
                metric: type_name.clone(),
                file: file.clone(),
                file_size,
                header_crc32c: crc,
                fragment_ids: frags.iter().map(|f| f.meta.id).collect(),
                num_nodes: rows,
                tombstones: 0,
                params: serde_json::json!({ "distinct": ix.header().distinct }),
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
                    columns: vec![field.clone()],
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
