//! Preparing changes: writing new fragments (all-or-nothing, cleaned up on failure) and
//! computing deletions and updates against a snapshot.

use crate::ingest::conform;
use crate::snapshot::LoadedFragment;
use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_query::{evaluate, Filter};
use oxvec_storage::{
    inline_total, sync_all, write_deletions, FragmentMeta, FragmentWriter, TableDir, Unsynced,
    INLINE_TOTAL_BYTES,
};
use roaring::RoaringBitmap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Rows per fragment file at most (row offsets are 32-bit; smaller files also spread
/// search work and keep rewrites cheap).
pub const MAX_FRAGMENT_ROWS: u64 = 1 << 20;

/// Files written for a change that is not committed yet.
#[derive(Debug, Default)]
pub struct Staged {
    pub fragments: Vec<FragmentMeta>,
    pub paths: Vec<PathBuf>,
    pub rows: u64,
    /// Files among `paths` written in full but not fsynced yet (see
    /// [`write_fragments_unsynced`]); the commit syncs them before it publishes. Private,
    /// with `syncing`: they move only with their paths ([`Staged::take_files_from`]), so no
    /// caller can commit a path while dropping the duty to sync it.
    unsynced: Vec<Unsynced>,
    /// Syncs of such files already running (see [`Staged::start_sync`]).
    syncing: Vec<std::thread::JoinHandle<Result<()>>>,
}

impl Staged {
    /// Removes every staged file: the change will not be committed.
    pub fn discard(&self) {
        for p in &self.paths {
            let _ = oxvec_storage::io::remove_file(p);
        }
    }

    /// Adds `other`'s fragments and files to these.
    pub fn extend(&mut self, mut other: Staged) {
        self.fragments.append(&mut other.fragments);
        self.rows += other.rows;
        self.take_files_from(&mut other);
    }

    /// Moves `other`'s files (and the duty to sync them) to these, leaving its fragment
    /// descriptions: for a change whose transaction lists those apart.
    pub fn take_files_from(&mut self, other: &mut Staged) {
        self.paths.append(&mut other.paths);
        self.unsynced.append(&mut other.unsynced);
        self.syncing.append(&mut other.syncing);
    }

    /// Starts fsyncing the files not synced yet on a thread of their own, so the disk
    /// works while the caller goes on (to find the rows a merge replaces, to write the
    /// manifest); [`Staged::sync`] waits for it.
    /// When no thread can be started (a process at its thread limit), the files stay
    /// for [`Staged::sync`] to sync itself.
    pub fn start_sync(&mut self) {
        if self.unsynced.is_empty() {
            return;
        }
        let files = Arc::new(Mutex::new(std::mem::take(&mut self.unsynced)));
        let theirs = files.clone();
        let started = std::thread::Builder::new()
            .name("oxvec-sync".into())
            .spawn(move || {
                oxvec_storage::io::background_sync_pause();
                sync_all(std::mem::take(
                    &mut *theirs.lock().expect("sync files lock"),
                ))
            });
        match started {
            Ok(h) => self.syncing.push(h),
            Err(_) => self.unsynced = std::mem::take(&mut *files.lock().expect("sync files lock")),
        }
    }

    /// Makes every file durable: waits for the syncs started, then fsyncs the files not
    /// synced yet and their directory.
    pub fn sync(&mut self) -> Result<()> {
        let mut result = Ok(());
        for h in self.syncing.drain(..) {
            // A panic there is an error here, so the commit still removes its files.
            let r = h.join().unwrap_or_else(|_| {
                Err(Error::internal(
                    "syncing new files",
                    "the sync thread panicked",
                ))
            });
            result = result.and(r);
        }
        result?;
        sync_all(std::mem::take(&mut self.unsynced))
    }

    /// The files to sync and the syncs running, moved out (for a commit to wait on while
    /// it borrows the paths).
    pub fn take_sync(&mut self) -> Staged {
        Staged {
            unsynced: std::mem::take(&mut self.unsynced),
            syncing: std::mem::take(&mut self.syncing),
            ..Staged::default()
        }
    }
}

/// Writes `batches` (conformed to `schema`) as new fragments, fsynced.
///
/// All-or-nothing: on any error (bad row, IO, Ctrl-C) the files written so far are removed
/// and the error is returned.
pub fn write_fragments(
    dir: &TableDir,
    schema: &SchemaRef,
    batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
    cancel: &CancelToken,
) -> Result<Staged> {
    let mut staged = write_fragments_unsynced(dir, schema, batches, cancel)?;
    if let Err(e) = staged.sync() {
        staged.unsynced.clear();
        staged.discard();
        return Err(e);
    }
    Ok(staged)
}

/// Fragments a write keeps open unsynced at most (whole fragments of 1M rows: a write
/// this large is long, so syncing its files in batches costs nothing visible).
const MAX_UNSYNCED: usize = 16;

/// [`write_fragments`] without waiting for the fsyncs: the files not synced yet (at most
/// 16 per call) stay in the returned [`Staged`] for [`crate::Table`]'s commit, which syncs
/// them while it writes the manifest.
pub fn write_fragments_unsynced(
    dir: &TableDir,
    schema: &SchemaRef,
    batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
    cancel: &CancelToken,
) -> Result<Staged> {
    let mut staged = Staged::default();
    let mut current: Option<FragmentWriter> = None;
    let result = (|| -> Result<()> {
        let mut row_base = 0usize;
        for batch in batches {
            cancel.check()?;
            let batch = conform(&batch?, schema, row_base)?;
            row_base += batch.num_rows();
            let mut offset = 0usize;
            while offset < batch.num_rows() {
                if current.is_none() {
                    let w = FragmentWriter::create(&dir.data_dir(), schema)?;
                    staged.paths.push(w.path().to_path_buf());
                    current = Some(w);
                }
                let w = current.as_mut().expect("writer just created");
                let room = (MAX_FRAGMENT_ROWS - w.rows()) as usize;
                let take = room.min(batch.num_rows() - offset);
                w.write(&batch.slice(offset, take))?;
                offset += take;
                if w.rows() >= MAX_FRAGMENT_ROWS {
                    let w = current.take().expect("writer present");
                    let (meta, unsynced) = w.finish_unsynced()?;
                    staged.fragments.push(meta);
                    staged.unsynced.push(unsynced);
                    if staged.unsynced.len() >= MAX_UNSYNCED {
                        // Each holds its file open: a huge write syncs as it goes rather
                        // than run out of file descriptors.
                        staged.sync()?;
                    }
                }
            }
        }
        if let Some(w) = current.take() {
            if w.rows() > 0 {
                let (meta, unsynced) = w.finish_unsynced()?;
                staged.fragments.push(meta);
                staged.unsynced.push(unsynced);
            } else if let Some(p) = staged.paths.pop() {
                drop(w);
                let _ = oxvec_storage::io::remove_file(&p);
            }
        }
        Ok(())
    })();
    drop(current);
    match result {
        Ok(()) => {
            staged.rows = staged.fragments.iter().map(|f| f.num_rows).sum();
            Ok(staged)
        }
        Err(e) => {
            staged.unsynced.clear();
            staged.discard();
            Err(e)
        }
    }
}

/// A fragment's rows matching `filter` that are not already deleted, as fragment offsets,
/// along with the filtered batches themselves when `keep_rows` is set.
fn matching_rows(
    frag: &LoadedFragment,
    filter: Option<&Filter>,
    keep_rows: bool,
) -> Result<(RoaringBitmap, Vec<RecordBatch>)> {
    let mut hits = RoaringBitmap::new();
    let mut kept = Vec::new();
    for (b, batch) in frag.batches.iter().enumerate() {
        let mask = crate::scan::row_mask(frag, b, filter)?;
        if mask.true_count() == 0 {
            continue;
        }
        let start = frag.starts[b];
        hits.extend(mask.values().set_indices().map(|i| start + i as u32));
        if keep_rows {
            kept.push(
                filter_record_batch(batch, &mask).map_err(|e| Error::invalid(e.to_string()))?,
            );
        }
    }
    Ok((hits, kept))
}

/// New metadata for a fragment after deleting `rows` more of it: `None` when nothing is left.
///
/// `inline_room` is the bytes of deletion vectors the new manifest may still carry inline
/// (start from [`inline_room`]); a small vector goes there instead of into a file.
pub(crate) fn with_deletions(
    dir: &TableDir,
    frag: &LoadedFragment,
    rows: &RoaringBitmap,
    staged: &mut Staged,
    inline_room: &mut usize,
) -> Result<Option<FragmentMeta>> {
    let mut all = frag.deleted.as_deref().cloned().unwrap_or_default();
    all |= rows;
    // The fragment's old vector leaves the manifest whatever replaces it.
    *inline_room += frag.meta.deletion.as_ref().map_or(0, |d| d.inline_len());
    if all.len() >= frag.meta.num_rows {
        return Ok(None);
    }
    let meta = write_deletions(&dir.deletions_dir(), &all, inline_room)?;
    if meta.inline.is_none() {
        staged.paths.push(dir.deletions_dir().join(&meta.file));
    }
    let mut out = frag.meta.clone();
    out.deletion = Some(meta);
    Ok(Some(out))
}

/// Bytes of deletion vectors a manifest over `frags` (every fragment of the version written
/// over) may still take inline.
pub(crate) fn inline_room(frags: &[LoadedFragment], enabled: bool) -> usize {
    if !enabled {
        return 0;
    }
    let used = inline_total(frags.iter().filter_map(|f| f.meta.deletion.as_ref()));
    INLINE_TOTAL_BYTES.saturating_sub(used)
}

/// Deletion plan: the fragments touched, before and after, and the number of rows removed.
pub struct DeletePlan {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
    pub staged: Staged,
    pub rows: u64,
}

/// Deletes the live rows matching `filter` (all live rows when `None`) from every fragment,
/// writing new deletion vectors, and hands each fragment's matched rows to `on_rows` when
/// `keep_rows` is set. On error every file written is removed.
fn delete_matching(
    dir: &TableDir,
    frags: &[LoadedFragment],
    filter: Option<&Filter>,
    keep_rows: bool,
    inline_room: usize,
    cancel: &CancelToken,
    mut on_rows: impl FnMut(Vec<RecordBatch>) -> Result<()>,
) -> Result<DeletePlan> {
    let mut plan = DeletePlan {
        before: vec![],
        after: vec![],
        staged: Staged::default(),
        rows: 0,
    };
    let mut room = inline_room;
    let res = (|| -> Result<()> {
        for frag in frags {
            cancel.check()?;
            let (hits, kept) = matching_rows(frag, filter, keep_rows)?;
            if hits.is_empty() {
                continue;
            }
            on_rows(kept)?;
            plan.rows += hits.len();
            let after = with_deletions(dir, frag, &hits, &mut plan.staged, &mut room)?;
            plan.before.push(frag.meta.clone());
            plan.after.push(after);
        }
        Ok(())
    })();
    if let Err(e) = res {
        plan.staged.discard();
        return Err(e);
    }
    Ok(plan)
}

/// Computes and writes the deletion vectors for `DELETE WHERE filter`.
pub fn plan_delete(
    dir: &TableDir,
    frags: &[LoadedFragment],
    filter: &Filter,
    inline_room: usize,
    cancel: &CancelToken,
) -> Result<DeletePlan> {
    delete_matching(dir, frags, Some(filter), false, inline_room, cancel, |_| {
        Ok(())
    })
}

/// A new value for a column in an update.
#[derive(Debug, Clone)]
pub enum Assignment {
    /// A one-row array, broadcast to every updated row (and converted like input data).
    Value(ArrayRef),
    /// A SQL expression over the row's current values, e.g. `price * 1.1`.
    Sql(String),
}

/// Computes an update: matched rows are rewritten into new fragments and deleted from their
/// old ones, in one change.
pub fn plan_update(
    dir: &TableDir,
    schema: &SchemaRef,
    frags: &[LoadedFragment],
    filter: Option<&Filter>,
    assignments: &[(String, Assignment)],
    inline_room: usize,
    cancel: &CancelToken,
) -> Result<(DeletePlan, Staged)> {
    let mut exprs = Vec::with_capacity(assignments.len());
    for (i, (col, _)) in assignments.iter().enumerate() {
        if assignments[..i].iter().any(|(c, _)| c == col) {
            return Err(Error::invalid(format!(
                "update sets column '{col}' twice (in values= and values_sql=, or twice in \
                 one); give it one new value"
            )));
        }
    }
    for (col, a) in assignments {
        if schema.field_with_name(col).is_err() {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::invalid(format!(
                "cannot update unknown column '{col}'; the table has {names:?}"
            )));
        }
        exprs.push(match a {
            Assignment::Sql(sql) => Some(oxvec_query::parse_expr(sql, &[], schema).map_err(
                |e| match e {
                    Error::Filter { message, .. } => Error::Filter {
                        what: "values_sql expression",
                        message: format!("{message} (the new value of '{col}')"),
                    },
                    other => other,
                },
            )?),
            Assignment::Value(v) if v.len() != 1 => {
                return Err(Error::invalid(format!(
                    "update value for '{col}' must be a single value"
                )))
            }
            Assignment::Value(_) => None,
        });
    }
    let mut rewritten: Vec<RecordBatch> = Vec::new();
    let plan = delete_matching(dir, frags, filter, true, inline_room, cancel, |kept| {
        for batch in kept {
            rewritten.push(assign(&batch, assignments, &exprs)?);
        }
        Ok(())
    })?;
    let mut iter = rewritten.into_iter().map(Ok);
    match write_fragments_unsynced(dir, schema, &mut iter, cancel) {
        Ok(added) => Ok((plan, added)),
        Err(e) => {
            plan.staged.discard();
            Err(e)
        }
    }
}

fn assign(
    batch: &RecordBatch,
    assignments: &[(String, Assignment)],
    exprs: &[Option<oxvec_query::Expr>],
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let schema = batch.schema();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    for ((col, a), expr) in assignments.iter().zip(exprs) {
        let idx = schema
            .index_of(col)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let value = match (a, expr) {
            (_, Some(e)) => evaluate(e, batch)?.into_array(n)?,
            (Assignment::Value(v), None) => {
                arrow::compute::take(v, &UInt32Array::from(vec![0u32; n]), None)
                    .map_err(|e| Error::invalid(e.to_string()))?
            }
            (Assignment::Sql(_), None) => unreachable!("SQL assignments are parsed up front"),
        };
        cols[idx] = value;
    }
    // The new columns may have other types than the table's: build a loose schema and let
    // `conform` convert and validate them like any input.
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .zip(&cols)
        .map(|(f, c)| arrow::datatypes::Field::new(f.name(), c.data_type().clone(), true))
        .collect();
    let loose = std::sync::Arc::new(arrow::datatypes::Schema::new(fields));
    RecordBatch::try_new(loose, cols).map_err(|e| Error::invalid(e.to_string()))
}
