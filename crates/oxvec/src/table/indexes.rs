//! Index management on a table: build, list, describe, drop, and fold new rows in.

use super::Table;
use crate::memory::PeakMemory;
use crate::query::resolve_vector_column;
use crate::snapshot::{is_text, LoadedFragment, Snapshot};
use crate::texts::{text_columns, FragmentTexts};
use crate::vectors::FragmentVectors;
use crate::write::{write_fragments, Staged, MAX_FRAGMENT_ROWS};
use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use oxvec_core::{CancelToken, Error, Metric, Result, RowId};
use oxvec_index::scalar::ScalarIndex;
use oxvec_index::text::{TextIndex, TextSource};
use oxvec_index::{build, calibrate, BuildOptions, VectorIndex, VectorKind};
use oxvec_storage::durable::{new_id, sync_dir, write_new_file_durable};
use oxvec_storage::transaction::{Compaction, CreateIndex, DropIndex, IndexChange};
use oxvec_storage::FragmentMeta;
use oxvec_storage::{commit, IndexMeta, Transaction};
use std::collections::HashMap;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// What `create_index` builds.
#[derive(Debug, Clone)]
pub struct IndexRequest {
    /// The vector column; found automatically when the table has exactly one.
    pub column: Option<String>,
    /// The registered kind to build (`oxvec_index::vector_kind("HNSW")`, ...).
    pub index_type: &'static dyn VectorKind,
    pub metric: Metric,
    /// Replace an existing index on the column (else that is an error).
    pub replace: bool,
    pub options: BuildOptions,
    /// Queries like the ones the index will serve (raw, row-major), to measure its recall
    /// curve on instead of rows sampled from the table.
    pub calibration_queries: Option<Vec<f32>>,
    /// The index's name; default `<column>_idx`.
    pub name: Option<String>,
}

/// What a new index's builder should be told when its measured recall curve stays under the
/// default target (searches without a knob will get less than they aim for), or `None`.
pub fn calibration_warning(meta: &IndexMeta) -> Option<String> {
    let cal: oxvec_index::Calibration = serde_json::from_value(meta.calibration.clone()).ok()?;
    let best = cal.best_recall();
    (best < oxvec_index::DEFAULT_RECALL).then(|| {
        format!(
            "index '{}' reached at most recall@10 {best:.3} on its calibration ({}); \
             searches without a knob aim for {} and will get less. Raise the build \
             parameters, or set ef/nprobes",
            meta.name,
            cal.describe(),
            oxvec_index::DEFAULT_RECALL
        )
    })
}

/// Progress of a long index operation, read by the Python progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

/// Live vectors of the fragments `include` accepts, read in place by the build, and the
/// ids of those fragments.
fn live_vectors<'a>(
    frags: &'a [LoadedFragment],
    col: usize,
    dim: usize,
    include: &dyn Fn(&LoadedFragment) -> bool,
) -> (FragmentVectors<'a>, Vec<u32>) {
    let used: Vec<&LoadedFragment> = frags.iter().filter(|f| include(f)).collect();
    let ids = used.iter().map(|f| f.meta.id).collect();
    (FragmentVectors::new(&used, col, dim), ids)
}

impl Table {
    /// Writes an index file; returns its name and the path to remove if the commit fails.
    pub(super) fn write_index_file(&self, bytes: &[u8]) -> Result<(String, PathBuf)> {
        let dir = self.dir.indices_dir();
        if !dir.exists() {
            oxvec_storage::io::create_dir_all(&dir).map_err(|e| Error::storage(&dir, e))?;
            sync_dir(self.dir.root())?;
        }
        let file = format!("{}.idx", new_id());
        let path = dir.join(&file);
        write_new_file_durable(&path, bytes)?;
        oxvec_storage::crash::point("index_written");
        Ok((file, path))
    }

    /// Builds a vector index over every live row and commits it as a new version.
    pub fn create_index(
        &self,
        req: &IndexRequest,
        progress: &Progress,
        cancel: &CancelToken,
    ) -> Result<IndexMeta> {
        let snap = self.latest_for_write()?;
        let frags = self.fragments_for_write(&snap)?;
        let schema = snap.manifest.schema.clone();
        let (col, dim) = resolve_vector_column(&schema, req.column.as_deref())?;
        let column = schema.field(col).name().clone();
        if let Some(n) = &req.name {
            oxvec_core::validate_index_name(n)?;
        }
        let name = req.name.clone().unwrap_or_else(|| format!("{column}_idx"));
        let indices = &snap.manifest.body.indices;
        let is_vector = |i: &IndexMeta| !is_text(i) && !crate::scalar::is_scalar(i);
        if let Some(b) = indices.iter().find(|i| i.name == name && !is_vector(i)) {
            return Err(Error::invalid(format!(
                "index name '{name}' is taken by a {} index on {:?}",
                b.index_type,
                b.indexed_columns()
            )));
        }
        let before = indices.iter().find(|i| i.name == name).cloned();
        if let Some(b) = &before {
            if b.column != column {
                return Err(Error::invalid(format!(
                    "index name '{name}' is taken by the vector index on column '{}'",
                    b.column
                )));
            }
        }
        if let Some(other) = indices
            .iter()
            .find(|i| is_vector(i) && i.column == column && i.name != name)
        {
            return Err(Error::invalid(format!(
                "column '{column}' already has vector index '{}'; drop it first, or pass \
                 name='{}' to rebuild it",
                other.name, other.name
            )));
        }
        if before.is_some() && !req.replace {
            return Err(Error::invalid(format!(
                "column '{column}' already has an index '{name}'; pass replace=True to rebuild it"
            )));
        }
        if let Some(q) = &req.calibration_queries {
            if q.is_empty() || !q.len().is_multiple_of(dim) || q.iter().any(|x| !x.is_finite()) {
                return Err(Error::invalid(format!(
                    "calibration_queries must be finite vectors of dimension {dim} (got {} values)",
                    q.len()
                )));
            }
        }
        let started = Instant::now();
        let memory = PeakMemory::start();
        let (vectors, used) = live_vectors(frags, col, dim, &|_| true);
        let ids = vectors.row_ids();
        if ids.is_empty() {
            return Err(Error::invalid(format!(
                "table '{}' has no rows to index",
                self.name
            )));
        }
        progress.total.store(ids.len() as u64, Relaxed);
        let (bytes, crc) = build(
            req.index_type,
            req.metric,
            &vectors,
            ids,
            &req.options,
            &progress.done,
            cancel,
        )?;
        let (file, path) = self.write_index_file(&bytes)?;
        let file_size = bytes.len() as u64;
        drop(bytes);
        let mut committing = false;
        let result = (|| {
            let index = oxvec_index::open(&path, file_size, crc)?;
            let cal = calibrate(
                index.as_ref(),
                &vectors,
                req.calibration_queries.as_deref(),
                cancel,
            )?;
            let (build_peak_rss, build_peak_anon) = memory.finish();
            let meta = IndexMeta {
                name: name.clone(),
                index_type: req.index_type.name().into(),
                column,
                columns: Vec::new(),
                metric: req.metric.name().into(),
                file: file.clone(),
                file_size,
                header_crc32c: crc,
                fragment_ids: used,
                num_nodes: ids.len() as u64,
                tombstones: 0,
                params: serde_json::to_value(&req.options).unwrap_or_default(),
                calibration: serde_json::to_value(&cal).unwrap_or_default(),
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
                    columns: vec![schema.field(col).clone()],
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

    /// The indexes of the pinned version.
    pub fn list_indices(&self) -> Vec<IndexMeta> {
        self.snapshot().manifest.body.indices.clone()
    }

    /// Describes index `name` as JSON: its record, indexed and unindexed rows, sizes.
    pub fn index_stats(&self, name: &str) -> Result<serde_json::Value> {
        let snap = self.snapshot();
        let meta = self.index_named(&snap.manifest, name)?;
        let covered: HashSet<u32> = meta.fragment_ids.iter().copied().collect();
        let (mut indexed, mut unindexed) = (0u64, 0u64);
        for f in &snap.manifest.body.fragments {
            if covered.contains(&f.id) {
                indexed += f.live_rows();
            } else {
                unindexed += f.live_rows();
            }
        }
        let text = is_text(&meta) || crate::scalar::is_scalar(&meta);
        let open = match text {
            true => None,
            false => snap.index_on(&self.dir, &self.cache, &meta.column)?,
        };
        let memory = open.as_ref().map_or(0, |o| o.index.size_bytes());
        let params = match text {
            // The file is mapped: its pages are the page cache's, not the process's.
            true => meta.params.clone(),
            false => open.as_ref().map(|o| o.index.params()).unwrap_or_default(),
        };
        let served = open
            .as_ref()
            .filter(|_| self.options.monitor_recall)
            .map(|o| o.served.stats());
        Ok(serde_json::json!({
            "name": meta.name,
            "index_type": meta.index_type,
            "column": meta.column,
            "columns": meta.indexed_columns(),
            "metric": meta.metric,
            "params": params,
            "num_indexed_rows": indexed,
            "num_unindexed_rows": unindexed,
            "num_nodes": meta.num_nodes,
            "size_on_disk": meta.file_size,
            "size_in_memory": memory,
            "calibration": meta.calibration,
            "served_recall": served,
            "build_seconds": meta.build_seconds,
            "build_peak_rss": meta.build_peak_rss,
            "build_peak_anon": meta.build_peak_anon,
        }))
    }

    /// The record of index `name` in `manifest`.
    fn index_named(&self, manifest: &oxvec_storage::Manifest, name: &str) -> Result<IndexMeta> {
        manifest
            .body
            .indices
            .iter()
            .find(|i| i.name == name)
            .cloned()
            .ok_or_else(|| self.no_index(name))
    }

    fn no_index(&self, name: &str) -> Error {
        let have: Vec<String> = self.list_indices().into_iter().map(|i| i.name).collect();
        Error::invalid(format!(
            "table '{}' has no index named '{name}'; its indexes are {have:?}",
            self.name
        ))
    }

    /// Removes index `name` in a new version (its file stays for older versions).
    pub fn drop_index(&self, name: &str) -> Result<u64> {
        let snap = self.latest_for_write()?;
        let before = self.index_named(&snap.manifest, name)?;
        let txn = Transaction::new(snap.manifest.version, DropIndex { before });
        let m = commit(&self.dir, &txn, &[])?;
        let v = m.version;
        self.set_snapshot(m, false);
        Ok(v)
    }

    /// Folds rows added since each index was built into it (no retraining), compacts small
    /// fragments and fragments with many deleted rows, and remaps the indexes onto the
    /// compacted rows, all as one new version (none if there is nothing to do).
    pub fn optimize(&self, progress: &Progress, cancel: &CancelToken) -> Result<OptimizeStats> {
        let snap = self.latest_for_write()?;
        let frags = self.fragments_for_write(&snap)?;
        let schema = snap.manifest.schema.clone();
        let mut written: Vec<PathBuf> = Vec::new();
        let mut staged: Option<Staged> = None;
        let mut committing = false;
        let result = (|| {
            let mut stats = OptimizeStats::default();
            // 1. Fold uncovered rows into each index: (before, after, opened after).
            let mut folded: Vec<(IndexMeta, IndexMeta, Opened)> = Vec::new();
            for meta in &snap.manifest.body.indices {
                if crate::scalar::is_scalar(meta) {
                    folded.push(self.fold_scalar(&snap, frags, meta, &mut written, cancel)?);
                    stats.rows_indexed += folded
                        .last()
                        .map_or(0, |(b, a, _)| a.num_nodes - b.num_nodes);
                    continue;
                }
                if is_text(meta) {
                    let (b, a, i) = self.fold_text(&snap, frags, meta, &mut written, cancel)?;
                    // Not a difference of node counts: folding also drops deleted rows.
                    let was: HashSet<u32> = b.fragment_ids.iter().copied().collect();
                    stats.rows_indexed += frags
                        .iter()
                        .filter(|f| !was.contains(&f.meta.id))
                        .map(|f| f.meta.live_rows())
                        .sum::<u64>();
                    folded.push((b, a, i));
                    continue;
                }
                let started = Instant::now();
                let memory = PeakMemory::start();
                let open = snap
                    .index_on(&self.dir, &self.cache, &meta.column)?
                    .ok_or_else(|| self.no_index(&meta.name))?;
                let covered: HashSet<u32> = meta.fragment_ids.iter().copied().collect();
                let col = schema.index_of(&meta.column).map_err(|_| {
                    Error::schema(format!("indexed column '{}' is missing", meta.column))
                })?;
                let dim = open.index.dim();
                let (vectors, used) =
                    live_vectors(frags, col, dim, &|f| !covered.contains(&f.meta.id));
                let ids = vectors.row_ids();
                if ids.is_empty() {
                    folded.push((
                        meta.clone(),
                        meta.clone(),
                        Opened::Vector(open.index.clone()),
                    ));
                    continue;
                }
                progress.total.fetch_add(ids.len() as u64, Relaxed);
                let (bytes, crc) = open.index.extend(&vectors, ids, &progress.done, cancel)?;
                let (file, path) = self.write_index_file(&bytes)?;
                written.push(path.clone());
                let index: Arc<dyn VectorIndex> =
                    oxvec_index::open(&path, bytes.len() as u64, crc)?.into();
                let mut after = meta.clone();
                point_at(&mut after, file, &bytes, crc);
                after.fragment_ids.extend(used);
                after.num_nodes += ids.len() as u64;
                after.build_seconds = started.elapsed().as_secs_f64();
                (after.build_peak_rss, after.build_peak_anon) = memory.finish();
                stats.rows_indexed += ids.len() as u64;
                folded.push((meta.clone(), after, Opened::Vector(index)));
            }
            // 2. Compact: every covered fragment is now in every index, so rows can move.
            let small = (MAX_FRAGMENT_ROWS / 4) as usize;
            let picked: Vec<&LoadedFragment> = frags
                .iter()
                .filter(|f| {
                    let live = f.meta.live_rows() as usize;
                    live < small || (f.meta.num_rows as usize - live) * 5 > f.meta.num_rows as usize
                })
                .collect();
            let worth = picked.len() >= 2 || picked.iter().any(|f| f.deleted.is_some());
            let mut removed = Vec::new();
            let mut added = Vec::new();
            let first_id = snap.manifest.body.next_fragment_id;
            if worth {
                let mut live = picked.iter().flat_map(|f| live_batches(f));
                let st = staged.insert(write_fragments(&self.dir, &schema, &mut live, cancel)?);
                for (j, f) in st.fragments.iter_mut().enumerate() {
                    f.id = first_id + j as u32;
                }
                let moved = new_row_ids(&picked, &st.fragments);
                removed = picked.iter().map(|f| f.meta.clone()).collect::<Vec<_>>();
                added = st.fragments.clone();
                oxvec_storage::crash::point("compaction_written");
                stats.fragments_removed = removed.len();
                stats.fragments_added = added.len();
                let gone: HashSet<u32> = removed.iter().map(|f: &FragmentMeta| f.id).collect();
                let map = |r: u64| {
                    let r = RowId::from_u64(r);
                    match moved.get(&r.fragment()) {
                        Some(m) => m.get(r.offset() as usize).copied().unwrap_or(u64::MAX),
                        None => r.as_u64(),
                    }
                };
                for (_, after, index) in folded.iter_mut() {
                    let (bytes, crc, tomb) = index.remap(&map, cancel)?;
                    let (file, path) = self.write_index_file(&bytes)?;
                    written.push(path);
                    point_at(after, file, &bytes, crc);
                    if let Opened::Text(_) = index {
                        after.num_nodes = TextIndex::open(
                            &self.dir.indices_dir().join(&after.file),
                            after.file_size,
                            after.header_crc32c,
                        )?
                        .len() as u64;
                    }
                    if let Opened::Scalar(_) = index {
                        after.num_nodes = ScalarIndex::open(
                            &self.dir.indices_dir().join(&after.file),
                            after.file_size,
                            after.header_crc32c,
                        )?
                        .header()
                        .rows;
                    }
                    after.tombstones = tomb;
                    after.fragment_ids.retain(|id| !gone.contains(id));
                    after
                        .fragment_ids
                        .extend(added.iter().map(|f: &FragmentMeta| f.id));
                }
            }
            let indices: Vec<IndexChange> = folded
                .into_iter()
                .filter(|(b, a, _)| b.file != a.file)
                .map(|(b, a, _)| IndexChange {
                    name: b.name.clone(),
                    before: Some(b),
                    after: Some(a),
                })
                .collect();
            if indices.is_empty() && removed.is_empty() {
                return Ok(stats);
            }
            cancel.check()?;
            let txn = Transaction::new(
                snap.manifest.version,
                Compaction {
                    removed,
                    added,
                    first_id,
                    indices,
                },
            );
            let mut files = written.clone();
            if let Some(st) = &staged {
                files.extend(st.paths.iter().cloned());
            }
            committing = true;
            let m = commit(&self.dir, &txn, &files)?;
            self.set_snapshot(m, false);
            Ok(stats)
        })();
        if result.is_err() && !committing {
            for p in written {
                let _ = oxvec_storage::io::remove_file(&p);
            }
            if let Some(st) = &staged {
                st.discard();
            }
        } else {
            // Intermediate index files (folded, then remapped) that no version references.
            let keep: HashSet<String> = self.list_indices().into_iter().map(|i| i.file).collect();
            for p in written {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if !keep.contains(name) {
                    let _ = oxvec_storage::io::remove_file(&p);
                }
            }
        }
        result
    }
}

/// An opened index of any family, as `optimize` remaps it.
enum Opened {
    Vector(Arc<dyn VectorIndex>),
    Text(Arc<TextIndex>),
    Scalar(Arc<ScalarIndex>),
}

impl Opened {
    /// A new file with every row id mapped by `map` (`u64::MAX`: the row is gone), and the
    /// number of rows gone.
    fn remap(&self, map: &dyn Fn(u64) -> u64, cancel: &CancelToken) -> Result<(Vec<u8>, u32, u64)> {
        let by_node = |rows: &[u64]| -> (Vec<u64>, u64) {
            let new: Vec<u64> = rows.iter().map(|&r| map(r)).collect();
            let gone = new.iter().filter(|&&r| r == u64::MAX).count() as u64;
            (new, gone)
        };
        match self {
            Opened::Vector(i) => {
                let (rows, gone) = by_node(i.row_ids()?);
                let (b, c) = i.remap(&rows)?;
                Ok((b, c, gone))
            }
            // Text indexes drop gone rows too: their statistics must be the live rows'.
            Opened::Text(i) => {
                let (rows, _) = by_node(i.row_ids()?);
                let (b, c) = i.remap(&rows)?;
                Ok((b, c, 0))
            }
            // Scalar indexes drop gone rows instead of keeping tombstones.
            Opened::Scalar(i) => {
                let (b, c) = i.remap(&|r| Some(map(r)).filter(|&r| r != u64::MAX), cancel)?;
                Ok((b, c, 0))
            }
        }
    }
}

impl Table {
    /// Folds the live rows of fragments full-text index `meta` does not cover into a new
    /// file (analysed with the index's own analyzer; the old postings carried over).
    /// Returns (before, after, the index after); `after` is `meta` when there was nothing
    /// to fold.
    fn fold_text(
        &self,
        snap: &Snapshot,
        frags: &[LoadedFragment],
        meta: &IndexMeta,
        written: &mut Vec<PathBuf>,
        cancel: &CancelToken,
    ) -> Result<(IndexMeta, IndexMeta, Opened)> {
        let started = Instant::now();
        let memory = PeakMemory::start();
        let open = snap.text_index(&self.dir, &self.cache, meta)?;
        let schema = &snap.manifest.schema;
        let columns: Vec<String> = open.index.header().columns.clone();
        let cols = text_columns(schema, &columns)?;
        let covered: HashSet<u32> = meta.fragment_ids.iter().copied().collect();
        let new: Vec<&LoadedFragment> = frags
            .iter()
            .filter(|f| !covered.contains(&f.meta.id))
            .collect();
        let rows = FragmentTexts::new(&new, &cols);
        // Rows deleted since they were indexed still count in the index's statistics
        // (document count, lengths, frequencies): drop them so scores are those of the
        // live rows, as a rebuild would give.
        let by_id: HashMap<u32, &LoadedFragment> = frags.iter().map(|f| (f.meta.id, f)).collect();
        let old_rows = open.index.row_ids()?;
        let dead = old_rows.iter().any(|&r| {
            let r = RowId::from_u64(r);
            by_id
                .get(&r.fragment())
                .is_none_or(|f| f.is_deleted(r.offset()))
        });
        if TextSource::is_empty(&rows) && !dead {
            return Ok((meta.clone(), meta.clone(), Opened::Text(open.index.clone())));
        }
        let mut current = open.index.clone();
        let mut after = meta.clone();
        if dead {
            let live: Vec<u64> = old_rows
                .iter()
                .map(|&r| {
                    let id = RowId::from_u64(r);
                    match by_id.get(&id.fragment()) {
                        Some(f) if !f.is_deleted(id.offset()) => r,
                        _ => u64::MAX,
                    }
                })
                .collect();
            let (bytes, crc) = current.remap(&live)?;
            let (file, path) = self.write_index_file(&bytes)?;
            written.push(path.clone());
            current = Arc::new(TextIndex::open(&path, bytes.len() as u64, crc)?);
            point_at(&mut after, file, &bytes, crc);
        }
        if !TextSource::is_empty(&rows) {
            let (bytes, crc) = current.extend(&rows, rows.row_ids(), cancel)?;
            let (file, path) = self.write_index_file(&bytes)?;
            written.push(path.clone());
            current = Arc::new(TextIndex::open(&path, bytes.len() as u64, crc)?);
            point_at(&mut after, file, &bytes, crc);
        }
        after.fragment_ids.extend(new.iter().map(|f| f.meta.id));
        after.num_nodes = current.len() as u64;
        after.tombstones = 0;
        after.build_seconds = started.elapsed().as_secs_f64();
        (after.build_peak_rss, after.build_peak_anon) = memory.finish();
        Ok((meta.clone(), after, Opened::Text(current)))
    }
}

impl Table {
    /// Folds the live rows of fragments scalar index `meta` does not cover into a new file.
    fn fold_scalar(
        &self,
        snap: &Snapshot,
        frags: &[LoadedFragment],
        meta: &IndexMeta,
        written: &mut Vec<PathBuf>,
        cancel: &CancelToken,
    ) -> Result<(IndexMeta, IndexMeta, Opened)> {
        let started = Instant::now();
        let memory = PeakMemory::start();
        let open = snap.scalar_index(&self.dir, &self.cache, meta)?;
        let col =
            snap.manifest.schema.index_of(&meta.column).map_err(|_| {
                Error::schema(format!("indexed column '{}' is missing", meta.column))
            })?;
        let covered: HashSet<u32> = meta.fragment_ids.iter().copied().collect();
        let new: Vec<&LoadedFragment> = frags
            .iter()
            .filter(|f| !covered.contains(&f.meta.id))
            .collect();
        let pairs = crate::scalar::column_keys(&new, col)?;
        if pairs.is_empty() {
            let mut after = meta.clone();
            after.fragment_ids.extend(new.iter().map(|f| f.meta.id));
            return Ok((meta.clone(), after, Opened::Scalar(open)));
        }
        let added = pairs.len() as u64;
        let (bytes, crc) = open.extend(pairs, cancel)?;
        let (file, path) = self.write_index_file(&bytes)?;
        written.push(path.clone());
        let index = Arc::new(ScalarIndex::open(&path, bytes.len() as u64, crc)?);
        let mut after = meta.clone();
        point_at(&mut after, file, &bytes, crc);
        after.fragment_ids.extend(new.iter().map(|f| f.meta.id));
        after.num_nodes += added;
        after.build_seconds = started.elapsed().as_secs_f64();
        (after.build_peak_rss, after.build_peak_anon) = memory.finish();
        Ok((meta.clone(), after, Opened::Scalar(index)))
    }
}

/// Makes `meta` name a newly written index file.
fn point_at(meta: &mut IndexMeta, file: String, bytes: &[u8], header_crc: u32) {
    meta.file = file;
    meta.file_size = bytes.len() as u64;
    meta.header_crc32c = header_crc;
}

/// What `optimize` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptimizeStats {
    /// Rows added to indexes.
    pub rows_indexed: u64,
    /// Fragments compacted away, and fragments written in their place.
    pub fragments_removed: usize,
    pub fragments_added: usize,
}

/// The live rows of `f`, batch by batch.
fn live_batches(f: &LoadedFragment) -> Vec<Result<RecordBatch>> {
    f.batches
        .iter()
        .enumerate()
        .map(|(b, batch)| {
            let Some(del) = &f.deleted else {
                return Ok(batch.clone());
            };
            let start = f.starts[b];
            let keep: BooleanArray = (0..batch.num_rows() as u32)
                .map(|r| Some(!del.contains(start + r)))
                .collect();
            filter_record_batch(batch, &keep)
                .map_err(|e| Error::internal("dropping deleted rows", e))
        })
        .collect()
}

/// Old fragment id -> new row id of each old offset (`u64::MAX`: the row was deleted).
fn new_row_ids(picked: &[&LoadedFragment], added: &[FragmentMeta]) -> HashMap<u32, Vec<u64>> {
    let mut out = HashMap::new();
    let mut frag = 0usize;
    let mut off = 0u32;
    for f in picked {
        let mut map = vec![u64::MAX; f.meta.num_rows as usize];
        for (o, slot) in map.iter_mut().enumerate() {
            if f.is_deleted(o as u32) {
                continue;
            }
            while frag < added.len() && u64::from(off) >= added[frag].num_rows {
                frag += 1;
                off = 0;
            }
            if let Some(a) = added.get(frag) {
                *slot = RowId::new(a.id, off).as_u64();
                off += 1;
            }
        }
        out.insert(f.meta.id, map);
    }
    out
}
