//! A table handle: pinned to a version for reads, always writing on top of the latest.

mod indexes;
mod maintenance;
mod merge;
mod merge_keys;
mod reads;
mod retry;
mod rewrite_columns;
mod scalar_index;
mod schema_change;
mod text_index;
pub use indexes::{calibration_warning, IndexRequest, OptimizeStats, Progress};
pub use maintenance::{CleanupStats, VerifyReport, UNVERIFIED_GRACE};
pub use merge::{MergeInsert, MergeStats};
pub use reads::ScanStream;
pub use rewrite_columns::{BatchFn, ColumnRewrite};
pub use scalar_index::ScalarIndexRequest;
pub use schema_change::ColumnChange;
pub use text_index::{TextIndexRequest, TextParams};

use crate::bad_vectors::{repair, BadVectors};
use crate::options::TableOptions;
use crate::query::{self, plan::Sources, VectorQuery};
use crate::scan::{self, ScanRequest};
use crate::snapshot::{FragmentCache, LoadedFragment, Snapshot};
use crate::write::{
    inline_room, plan_delete, plan_update, write_fragments_unsynced, Assignment, Staged,
};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_query::Where;
use oxvec_storage::transaction::{Append, Delete, Overwrite, Restore, UnseenCheck, Update};
use oxvec_storage::{commit, commit_when, Manifest, TableDir, Transaction, VersionWatch};
use retry::retrying;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// What a delete or update did: how many rows it changed, and the version it left the
/// table at (the version it read when no row matched and nothing was committed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowsChanged {
    pub rows: u64,
    pub version: u64,
}

/// Whether `add` appends to the table's rows or replaces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddMode {
    #[default]
    Append,
    /// Replace every row (the schema stays; indexes are dropped with the rows they covered).
    Overwrite,
}

/// One row of `list_versions`.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    pub version: u64,
    /// Microseconds since the Unix epoch.
    pub timestamp_micros: i64,
    pub operation: String,
    pub rows: u64,
}

#[derive(Debug)]
struct State {
    snapshot: Arc<Snapshot>,
    /// Set by `checkout(v)`: reads stay on `v` and writes are refused.
    detached: bool,
}

/// A table of a [`crate::Database`].
#[derive(Debug)]
pub struct Table {
    name: String,
    dir: TableDir,
    /// Shared with background recall measurements of this handle's snapshots.
    cache: Arc<FragmentCache>,
    state: RwLock<State>,
    options: TableOptions,
    /// When reads last looked for a newer version (for `read_consistency_interval`).
    last_check: Mutex<Instant>,
    /// `versions/`, held open for the per-read look for newer versions; re-opened whenever
    /// it is listed.
    watch: Mutex<VersionWatch>,
    /// How many times a read looked for a newer version (tests hold calls to one look).
    looks: AtomicU64,
    /// The last look found the table dropped (its `versions/` gone or empty).
    dropped: AtomicBool,
}

impl Table {
    pub(crate) fn open(name: &str, dir: TableDir, options: &TableOptions) -> Result<Table> {
        let v = dir.latest_version()?.ok_or_else(|| Error::TableNotFound {
            name: name.to_string(),
        })?;
        Ok(Table::from_manifest(
            name,
            dir.clone(),
            dir.load_manifest(v)?,
            options,
        ))
    }

    pub(crate) fn from_manifest(
        name: &str,
        dir: TableDir,
        m: Manifest,
        options: &TableOptions,
    ) -> Table {
        let watch = Mutex::new(VersionWatch::open(&dir));
        Table {
            name: name.to_string(),
            dir,
            cache: Arc::default(),
            state: RwLock::new(State {
                snapshot: Arc::new(Snapshot::new(m)),
                detached: false,
            }),
            options: options.clone(),
            last_check: Mutex::new(Instant::now()),
            watch,
            looks: AtomicU64::new(0),
            dropped: AtomicBool::new(false),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table's directory.
    pub fn dir(&self) -> &TableDir {
        &self.dir
    }

    /// The pinned snapshot, first moved to the newest version when the handle follows the
    /// latest and `read_consistency_interval` says it is time to look.
    fn snapshot(&self) -> Arc<Snapshot> {
        let snap = self.pinned();
        let Some(interval) = self.options.read_consistency_interval else {
            return snap;
        };
        if self.is_detached() {
            return snap;
        }
        {
            let mut last = self.last_check.lock().expect("check lock");
            if last.elapsed() < interval {
                return snap;
            }
            *last = Instant::now();
        }
        self.looks.fetch_add(1, Relaxed);
        if !self.newer_version_possible(snap.manifest.version) {
            return snap;
        }
        // A failed look (a concurrent cleanup, a transient error) keeps the pinned version;
        // the next read looks again. A dropped table is remembered for `read_snapshot`.
        match self.refresh() {
            Err(Error::TableNotFound { .. }) => self.dropped.store(true, Relaxed),
            Ok(()) => self.dropped.store(false, Relaxed),
            Err(_) => {}
        }
        self.pinned()
    }

    /// Two `stat` calls: the next version's manifest, and whether `versions/` changed since
    /// it was last listed (versions removed by cleanup can hide the next number).
    fn newer_version_possible(&self, pinned: u64) -> bool {
        let watch = self.watch.lock().expect("watch lock");
        watch.manifest_exists(pinned + 1) || watch.changed()
    }

    fn set_snapshot(&self, m: Manifest, detached: bool) {
        self.cache.retain(&m);
        let mut st = self.state.write().expect("table lock");
        st.snapshot = Arc::new(Snapshot::new(m));
        st.detached = detached;
    }

    /// Runs `f` on the snapshot's opened fragments.
    fn with_fragments<T>(
        &self,
        f: impl FnOnce(&Snapshot, &[LoadedFragment]) -> Result<T>,
    ) -> Result<T> {
        let snap = self.read_snapshot()?;
        let frags = snap
            .fragments(&self.dir, &self.cache)
            .map_err(|e| self.not_found_if_dropped(e))?;
        f(&snap, frags)
    }

    /// The fragments of `snap`, the version a write read. A file of it that is gone while a
    /// newer version exists means another process's cleanup removed that version after this
    /// write read it: a retryable conflict (read again and redo), not a storage fault.
    pub(crate) fn fragments_for_write<'a>(
        &self,
        snap: &'a Snapshot,
    ) -> Result<&'a [LoadedFragment]> {
        snap.fragments(&self.dir, &self.cache).map_err(|e| match e {
            Error::Storage { ref source, .. }
                if source.kind() == std::io::ErrorKind::NotFound
                    && self
                        .dir
                        .latest_version()
                        .is_ok_and(|v| v.is_some_and(|v| v > snap.manifest.version)) =>
            {
                Error::CommitConflict {
                    message: format!(
                        "version {} of table '{}' was cleaned up while this write read it; \
                         retry on the newest version",
                        snap.manifest.version, self.name
                    ),
                    retryable: true,
                }
            }
            other => other,
        })
    }

    /// The snapshot a read runs on: a table dropped under this handle is
    /// [`Error::TableNotFound`], not a missing-file error from deep inside the read.
    fn read_snapshot(&self) -> Result<Arc<Snapshot>> {
        let snap = self.snapshot();
        if self.dropped.load(Relaxed) {
            return Err(Error::TableNotFound {
                name: self.name.clone(),
            });
        }
        Ok(snap)
    }

    /// `e`, or [`Error::TableNotFound`] when the table has no versions any more (a handle
    /// that never looks for new versions meets the drop only when its files are gone).
    fn not_found_if_dropped(&self, e: Error) -> Error {
        match self.dir.latest_version() {
            Ok(None) => Error::TableNotFound {
                name: self.name.clone(),
            },
            _ => e,
        }
    }

    /// Schema of the pinned version.
    pub fn schema(&self) -> SchemaRef {
        self.snapshot().manifest.schema.clone()
    }

    /// How many times this handle has looked for a newer version before a read.
    #[doc(hidden)]
    pub fn refresh_looks(&self) -> u64 {
        self.looks.load(Relaxed)
    }

    /// Live rows of the pinned version, without looking for a newer one (a cost hint).
    pub fn pinned_live_rows(&self) -> u64 {
        self.pinned().manifest.live_rows()
    }

    /// The pinned version number (after the read-consistency check).
    pub fn version(&self) -> u64 {
        self.snapshot().manifest.version
    }

    /// The pinned snapshot, without looking for a newer version.
    fn pinned(&self) -> Arc<Snapshot> {
        self.state.read().expect("table lock").snapshot.clone()
    }

    /// Whether the pinned version has any vector index (a hint: no look for newer versions).
    pub fn has_indices(&self) -> bool {
        !self.pinned().manifest.body.indices.is_empty()
    }

    /// Whether the handle is checked out at an older version.
    pub fn is_detached(&self) -> bool {
        self.state.read().expect("table lock").detached
    }

    /// Live rows, optionally only those matching `filter`.
    pub fn count_rows(&self, filter: Option<&Where>, cancel: &CancelToken) -> Result<u64> {
        match filter {
            None => Ok(self.read_snapshot()?.manifest.live_rows()),
            Some(w) => {
                let snap = self.read_snapshot()?;
                let filter = snap.compile(w, &self.dir, &self.cache)?;
                let frags = snap
                    .fragments_reading(&self.dir, &self.cache, &filter.expr.columns())
                    .map_err(|e| self.not_found_if_dropped(e))?;
                scan::count(frags, &filter, cancel)
            }
        }
    }

    /// Reads rows. Returns the output schema with the batches (see [`scan::scan_schema`]).
    pub fn scan(
        &self,
        req: &ScanRequest,
        cancel: &CancelToken,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let snap = self.read_snapshot()?;
        let schema = &snap.manifest.schema;
        let filter = req
            .filter
            .as_ref()
            .map(|w| snap.compile(w, &self.dir, &self.cache))
            .transpose()?;
        let reads = scan::columns_read(schema, req, filter.as_ref());
        let frags = snap
            .fragments_reading(&self.dir, &self.cache, &reads)
            .map_err(|e| self.not_found_if_dropped(e))?;
        scan::scan(frags, schema, req, filter.as_ref(), cancel)
    }

    /// Nearest-neighbour search, planned once over one snapshot (see [`query::plan`]):
    /// through the column's index when it has one and the query's metric (if set) is the
    /// index's, else exact. The result layout is [`query::result_schema`].
    pub fn search(&self, q: &VectorQuery, cancel: &CancelToken) -> Result<RecordBatch> {
        self.search_reporting(q, cancel).map(|(batch, _)| batch)
    }

    /// [`Table::search`], with what the caller should be told about how it ran (a damaged
    /// index searched around).
    pub fn search_reporting(
        &self,
        q: &VectorQuery,
        cancel: &CancelToken,
    ) -> Result<(RecordBatch, Vec<String>)> {
        let snap = self.read_snapshot()?;
        let frags = snap
            .fragments(&self.dir, &self.cache)
            .map_err(|e| self.not_found_if_dropped(e))?;
        self.search_on(&snap, frags, q, cancel)
    }

    /// Runs a vector search on `snap`, whose fragments are `frags`.
    fn search_on(
        &self,
        snap: &Arc<Snapshot>,
        frags: &[LoadedFragment],
        q: &VectorQuery,
        cancel: &CancelToken,
    ) -> Result<(RecordBatch, Vec<String>)> {
        let mut plan = query::plan::plan(snap, frags, &self.sources(), q)?;
        let batch = match query::execute(&plan, cancel) {
            // A section of the index failed its checksum when first read: answer exactly.
            Err(e)
                if plan.index.as_ref().is_some_and(|ix| {
                    query::plan::index_unreadable(&e, Some(ix.open.index.file().path()))
                }) =>
            {
                plan = query::plan::plan_around(snap, frags, &self.sources(), q, Some(&e))?;
                query::execute(&plan, cancel)?
            }
            other => other?,
        };
        if let Some(ix) = plan.index.as_ref().filter(|_| self.options.monitor_recall) {
            self.sample_served(snap, &ix.open, &plan.vector_column, q);
        }
        Ok((batch, plan.warnings))
    }

    /// Adds `q`'s vectors to the index's served-query sample, and starts a background
    /// recall measurement when one is due (see [`crate::served`]).
    fn sample_served(
        &self,
        snap: &Arc<Snapshot>,
        open: &crate::snapshot::OpenIndex,
        column: &str,
        q: &VectorQuery,
    ) {
        let Some((queries, queries_served)) = open.served.record(&q.vectors, open.index.dim())
        else {
            return;
        };
        crate::served::spawn(crate::served::Job {
            served: open.served.clone(),
            snapshot: snap.clone(),
            dir: self.dir.clone(),
            cache: self.cache.clone(),
            column: column.to_string(),
            build: open.calibration.clone(),
            queries,
            queries_served,
        });
    }

    /// What [`Table::search`] would do for `q`, as readable text: the version, the path
    /// (which index and knobs, or exact search and why), the filter strategy with the number
    /// of matching rows, and the estimated rows scanned. Evaluates the filter, runs no search.
    pub fn explain(&self, q: &VectorQuery) -> Result<query::Explanation> {
        self.with_fragments(|snap, frags| {
            let plan = query::plan::plan(snap, frags, &self.sources(), q)?;
            Ok(query::Explanation {
                version: plan.version,
                path: plan.path.clone(),
                filter_strategy: plan.filter_strategy,
                text: plan.to_string(),
            })
        })
    }

    /// Runs a full-text search on the pinned version (refreshed per the read consistency
    /// setting); returns the results (sorted by `_score`, best first) and what the caller
    /// should be told (a damaged index searched around).
    pub fn search_text(
        &self,
        q: &query::TextSearch,
        cancel: &CancelToken,
    ) -> Result<(RecordBatch, Vec<String>)> {
        let snap = self.read_snapshot()?;
        let frags = snap
            .fragments(&self.dir, &self.cache)
            .map_err(|e| self.not_found_if_dropped(e))?;
        let plan = query::text::plan_text(&snap, frags, &self.sources(), q, &self.name)?;
        let batch = query::text::execute_text(&plan, cancel)?;
        Ok((batch, plan.warnings))
    }

    /// A vector search and a full-text search on the same version (one snapshot, so a
    /// write landing between them cannot make the legs disagree), for hybrid search: the
    /// two result batches (fused by the caller) and the warnings of both.
    pub fn search_hybrid(
        &self,
        vq: &VectorQuery,
        tq: &query::TextSearch,
        cancel: &CancelToken,
    ) -> Result<(RecordBatch, RecordBatch, Vec<String>)> {
        let snap = self.read_snapshot()?;
        let frags = snap
            .fragments(&self.dir, &self.cache)
            .map_err(|e| self.not_found_if_dropped(e))?;
        let (vectors, mut warnings) = self.search_on(&snap, frags, vq, cancel)?;
        let plan = query::text::plan_text(&snap, frags, &self.sources(), tq, &self.name)?;
        let texts = query::text::execute_text(&plan, cancel)?;
        warnings.extend(plan.warnings);
        Ok((vectors, texts, warnings))
    }

    /// How a full-text search will run, as text (`Query.explain()`); runs no search.
    pub fn explain_text(&self, q: &query::TextSearch) -> Result<String> {
        self.with_fragments(|snap, frags| {
            let plan = query::text::plan_text(snap, frags, &self.sources(), q, &self.name)?;
            Ok(plan.to_string())
        })
    }

    fn sources(&self) -> Sources<'_> {
        Sources {
            dir: &self.dir,
            cache: &self.cache,
            served_recall: self.options.monitor_recall,
        }
    }

    /// Moves to the newest version before a write, refusing if checked out.
    fn latest_for_write(&self) -> Result<Arc<Snapshot>> {
        if self.is_detached() {
            return Err(Error::invalid(format!(
                "table '{}' is checked out at version {}; call checkout_latest() or restore() before writing",
                self.name,
                self.version()
            )));
        }
        self.refresh()?;
        Ok(self.snapshot())
    }

    /// Re-reads the newest version (a no-op when already there or checked out).
    pub fn refresh(&self) -> Result<()> {
        if self.is_detached() {
            return Ok(());
        }
        // Re-opened: the table may have been dropped and created again under the path.
        *self.watch.lock().expect("watch lock") = VersionWatch::open(&self.dir);
        let latest = self
            .dir
            .latest_version()?
            .ok_or_else(|| Error::TableNotFound {
                name: self.name.clone(),
            })?;
        if latest != self.pinned().manifest.version {
            self.set_snapshot(self.dir.load_manifest(latest)?, false);
        }
        Ok(())
    }

    /// Commits `txn` and makes the new version this handle's. Files of `staged` not
    /// fsynced yet are synced on a second thread while the manifest is written, and the
    /// manifest is published once they are durable.
    fn commit_and_pin(
        &self,
        txn: &Transaction,
        staged: &mut Staged,
        cancel: &CancelToken,
    ) -> Result<u64> {
        // Nothing to sync: no thread starts and the barrier returns at once.
        staged.start_sync();
        let mut pending = staged.take_sync();
        let m = commit_when(&self.dir, txn, &staged.paths, &mut || pending.sync())?;
        let v = m.version;
        self.set_snapshot(m, false);
        self.maintain(cancel);
        Ok(v)
    }

    /// Automatic compaction and cleanup after a write (see [`TableOptions`]). The write has
    /// committed already, so a failure here (say, a concurrent writer's conflict) is left for
    /// the next write to retry rather than reported as the write's failure.
    fn maintain(&self, cancel: &CancelToken) {
        let o = &self.options;
        let snap = self.pinned();
        let small = snap
            .manifest
            .body
            .fragments
            .iter()
            .filter(|f| f.live_rows() < crate::options::SMALL_FRAGMENT_ROWS)
            .count();
        if o.auto_compact_fragments > 0 && small >= o.auto_compact_fragments {
            let _ = self.optimize(&Progress::default(), cancel);
        }
        if o.auto_cleanup_every > 0 && snap.manifest.version.is_multiple_of(o.auto_cleanup_every) {
            let _ = self.cleanup_old_versions(o.auto_cleanup_older_than, false);
        }
    }

    /// Appends rows as one new version. Returns the new version.
    pub fn add(
        &self,
        batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
        cancel: &CancelToken,
    ) -> Result<u64> {
        self.add_with(batches, AddMode::Append, BadVectors::Error, cancel)
    }

    /// Appends rows (or replaces all rows, keeping the schema) as one new version, rows with
    /// bad vectors handled by `bad_vectors`. Returns the new version.
    pub fn add_with(
        &self,
        batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
        mode: AddMode,
        bad_vectors: BadVectors,
        cancel: &CancelToken,
    ) -> Result<u64> {
        let snap = self.latest_for_write()?;
        let schema = snap.manifest.schema.clone();
        let mut batches = batches.map(|b| b.and_then(|b| repair(b, &schema, bad_vectors)));
        if mode == AddMode::Overwrite {
            return self.overwrite(schema.clone(), &mut batches, cancel);
        }
        let mut staged = write_fragments_unsynced(&self.dir, &schema, &mut batches, cancel)?;
        if staged.fragments.is_empty() {
            return Ok(snap.manifest.version);
        }
        if let Err(e) = cancel.check() {
            staged.discard();
            return Err(e);
        }
        let txn = Transaction::new(
            snap.manifest.version,
            Append {
                fragments: staged.fragments.clone(),
                schema,
            },
        );
        self.commit_and_pin(&txn, &mut staged, cancel)
    }

    /// Replaces all rows (and the schema) as one new version.
    pub fn overwrite(
        &self,
        schema: SchemaRef,
        batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
        cancel: &CancelToken,
    ) -> Result<u64> {
        let snap = self.latest_for_write()?;
        let mut staged = write_fragments_unsynced(&self.dir, &schema, batches, cancel)?;
        let txn = Transaction::new(
            snap.manifest.version,
            Overwrite {
                schema,
                fragments: staged.fragments.clone(),
            },
        );
        self.commit_and_pin(&txn, &mut staged, cancel)
    }

    /// Deletes rows matching `filter` as one new version (none when no row matches). A
    /// commit that loses a race to another writer is planned again on the newer version
    /// (`max_retries` times).
    pub fn delete(&self, filter: &Where, cancel: &CancelToken) -> Result<RowsChanged> {
        retrying(self.options.max_retries, cancel, || {
            self.delete_once(filter, cancel)
        })
    }

    fn delete_once(&self, filter: &Where, cancel: &CancelToken) -> Result<RowsChanged> {
        let snap = self.latest_for_write()?;
        let filter = snap.compile(filter, &self.dir, &self.cache)?;
        let frags = self.fragments_for_write(&snap)?;
        let room = inline_room(frags, self.options.inline_deletions);
        let mut plan = plan_delete(&self.dir, frags, &filter, room, cancel)?;
        if plan.rows == 0 {
            return Ok(RowsChanged {
                rows: 0,
                version: snap.manifest.version,
            });
        }
        let txn = Transaction::new(
            snap.manifest.version,
            Delete {
                before: plan.before,
                after: plan.after,
                read_fragments: snap.manifest.body.fragments.clone(),
                unseen: Some(self.unseen_check(&snap, Some(filter), cancel)),
            },
        );
        let version = self.commit_and_pin(&txn, &mut plan.staged, cancel)?;
        Ok(RowsChanged {
            rows: plan.rows,
            version,
        })
    }

    /// Whether fragments the write's read (`snap`) did not see hold live rows `filter`
    /// matches (any live row for `None`), evaluated when a commit has to rebase over them; a
    /// changed schema always counts as a match (the filter was compiled for the old one).
    fn unseen_check(
        &self,
        snap: &Snapshot,
        filter: Option<oxvec_query::Filter>,
        cancel: &CancelToken,
    ) -> UnseenCheck {
        let (dir, cache, cancel) = (self.dir.clone(), self.cache.clone(), cancel.clone());
        let schema = snap.manifest.schema.clone();
        UnseenCheck(Arc::new(move |now, metas| {
            if *now != schema {
                return Ok(true);
            }
            let Some(filter) = &filter else {
                return Ok(metas.iter().any(|m| m.live_rows() > 0));
            };
            let frags = metas
                .iter()
                .map(|m| cache.load(&dir, m, now))
                .collect::<Result<Vec<_>>>()?;
            Ok(scan::count(&frags, filter, &cancel)? > 0)
        }))
    }

    /// Sets columns on rows matching `filter` (all rows when `None`) as one new version
    /// (none when no row matches), planned again after a lost race like `delete`.
    pub fn update(
        &self,
        filter: Option<&Where>,
        assignments: &[(String, Assignment)],
        cancel: &CancelToken,
    ) -> Result<RowsChanged> {
        retrying(self.options.max_retries, cancel, || {
            self.update_once(filter, assignments, cancel)
        })
    }

    fn update_once(
        &self,
        filter: Option<&Where>,
        assignments: &[(String, Assignment)],
        cancel: &CancelToken,
    ) -> Result<RowsChanged> {
        if assignments.is_empty() {
            return Err(Error::invalid(
                "update needs at least one column to set (values= or values_sql=)",
            ));
        }
        let snap = self.latest_for_write()?;
        let filter = filter
            .map(|w| snap.compile(w, &self.dir, &self.cache))
            .transpose()?;
        let frags = self.fragments_for_write(&snap)?;
        let (plan, mut added) = plan_update(
            &self.dir,
            &snap.manifest.schema,
            frags,
            filter.as_ref(),
            assignments,
            inline_room(frags, self.options.inline_deletions),
            cancel,
        )?;
        if plan.rows == 0 {
            return Ok(RowsChanged {
                rows: 0,
                version: snap.manifest.version,
            });
        }
        let mut staged = plan.staged;
        staged.take_files_from(&mut added);
        let txn = Transaction::new(
            snap.manifest.version,
            Update {
                before: plan.before,
                after: plan.after,
                added: added.fragments,
                read_fragments: snap.manifest.body.fragments.clone(),
                unseen: Some(self.unseen_check(&snap, filter, cancel)),
            },
        );
        let version = self.commit_and_pin(&txn, &mut staged, cancel)?;
        Ok(RowsChanged {
            rows: plan.rows,
            version,
        })
    }

    /// Every version of the table, oldest first.
    pub fn list_versions(&self) -> Result<Vec<VersionInfo>> {
        let mut out = Vec::new();
        for v in self.dir.versions()? {
            let m = match self.dir.load_manifest(v) {
                Ok(m) => m,
                // Removed by another process's cleanup since the listing.
                Err(_) if !self.dir.manifest_path(v).exists() => continue,
                Err(e) => return Err(e),
            };
            out.push(VersionInfo {
                version: v,
                timestamp_micros: m.body.timestamp_micros,
                operation: m.body.operation.clone(),
                rows: m.live_rows(),
            });
        }
        Ok(out)
    }

    /// Pins reads to `version`; writes are refused until `checkout_latest` or `restore`.
    pub fn checkout(&self, version: u64) -> Result<()> {
        let versions = self.dir.versions()?;
        if !versions.contains(&version) {
            return Err(Error::invalid(format!(
                "table '{}' has no version {version}; versions are {:?}",
                self.name, versions
            )));
        }
        // Pinned even when `version` is the newest: a checkout promises reads of that version
        // and no writes until `checkout_latest` or `restore`, whatever others commit.
        self.set_snapshot(self.dir.load_manifest(version)?, true);
        Ok(())
    }

    /// Returns to the newest version.
    pub fn checkout_latest(&self) -> Result<()> {
        self.state.write().expect("table lock").detached = false;
        self.refresh()
    }

    /// Makes `version` (default: the checked-out one) the newest version, as a new commit.
    pub fn restore(&self, version: Option<u64>) -> Result<u64> {
        let target = match version {
            Some(v) => {
                if !self.dir.versions()?.contains(&v) {
                    return Err(Error::invalid(format!(
                        "table '{}' has no version {v}",
                        self.name
                    )));
                }
                self.dir.load_manifest(v)?
            }
            None => (*self.snapshot().manifest).clone(),
        };
        // Cleanup may have removed the version (and its files) since this handle pinned it:
        // linking them anew fails then, naming the file.
        let (target, links) = crate::table::maintenance::relink_for_restore(&self.dir, &target)?;
        let txn = Transaction::new(target.version, Restore::of(&target));
        let m = commit(&self.dir, &txn, &links)?;
        let v = m.version;
        self.set_snapshot(m, false);
        Ok(v)
    }
}
