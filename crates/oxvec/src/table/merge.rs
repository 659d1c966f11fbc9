//! Upsert: `merge_insert(on)` matches source rows to table rows by key and, in one version,
//! updates matched rows, inserts unmatched source rows, and deletes table rows the source
//! does not have. Memory holds the source and its keys; the table is streamed one fragment
//! batch at a time, except the fragments a scalar index on the key covers: the index says
//! which of their rows each source key matches.

use super::merge_keys::KeyMatches;
use super::Table;
use crate::ingest::conform;
use crate::scan::live_mask;
use crate::snapshot::LoadedFragment;
use crate::write::{inline_room, with_deletions, write_fragments_unsynced, Staged};
use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_query::{filter_mask, Filter, ScalarValue};
use oxvec_storage::transaction::Merge;
use oxvec_storage::Transaction;
use roaring::RoaringBitmap;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// What a merge does; clauses left `None` do nothing.
#[derive(Debug, Clone, Default)]
pub struct MergeInsert {
    /// Key columns.
    pub on: Vec<String>,
    /// Replace matched rows with their source rows; the optional condition may use
    /// `target.<col>` and `source.<col>` (bare names mean the target's).
    pub when_matched_update_all: Option<Option<String>>,
    /// Insert source rows that match no table row.
    pub when_not_matched_insert_all: bool,
    /// Delete table rows that no source row matches (and that the optional condition,
    /// over the table's columns, accepts).
    pub when_not_matched_by_source_delete: Option<Option<String>>,
    /// Values for `?` placeholders in both conditions.
    pub params: Vec<ScalarValue>,
}

/// What a merge changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// The version committed, or the unchanged one when nothing changed.
    pub version: u64,
}

fn arrow_err(e: arrow::error::ArrowError) -> Error {
    Error::invalid(e.to_string())
}

/// Encodes the key columns of `batch` as comparable byte rows.
fn key_rows(conv: &RowConverter, batch: &RecordBatch, keys: &[usize]) -> Result<Rows> {
    let cols: Vec<ArrayRef> = keys.iter().map(|&k| batch.column(k).clone()).collect();
    conv.convert_columns(&cols).map_err(arrow_err)
}

fn has_null_key(batch: &RecordBatch, keys: &[usize], row: usize) -> bool {
    keys.iter().any(|&k| batch.column(k).is_null(row))
}

/// The schema a matched-update condition is checked against: target columns under their
/// own names and as `target.<col>`, source columns as `source.<col>`. A column whose own name
/// is one of those aliases (a column literally named `target.x` beside `x`) would make the
/// condition mean one of two things: refused, never resolved silently.
fn pair_schema(schema: &SchemaRef) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for prefix in ["target", "source"] {
        for f in schema.fields() {
            let alias = format!("{prefix}.{}", f.name());
            if schema.field_with_name(&alias).is_ok() {
                return Err(Error::invalid(format!(
                    "column '{alias}' has the name of the merge alias for column '{}', so a \
                     when_matched_update_all condition would be ambiguous; rename the column \
                     or merge without a condition",
                    f.name()
                )));
            }
            fields.push(f.as_ref().clone().with_name(alias));
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

impl Table {
    /// Runs `merge` with `source` as one new version. Source rows are validated like `add`'s;
    /// two source rows with the same key are an error (the merge would be ambiguous).
    ///
    /// A commit that loses a race to another writer is planned again on the newer version
    /// (`max_retries` times), so the source is held in memory until the merge commits.
    pub fn merge_insert(
        &self,
        merge: &MergeInsert,
        source: &mut dyn Iterator<Item = Result<RecordBatch>>,
        cancel: &CancelToken,
    ) -> Result<MergeStats> {
        let mut parts = Vec::new();
        for b in source {
            cancel.check()?;
            parts.push(b?);
        }
        super::retrying(self.options.max_retries, cancel, || {
            self.merge_once(merge, &mut parts.iter().cloned().map(Ok), cancel)
        })
    }

    fn merge_once(
        &self,
        merge: &MergeInsert,
        source: &mut dyn Iterator<Item = Result<RecordBatch>>,
        cancel: &CancelToken,
    ) -> Result<MergeStats> {
        let snap = self.latest_for_write()?;
        let schema = snap.manifest.schema.clone();
        if merge.on.is_empty() {
            return Err(Error::invalid(
                "merge_insert needs at least one key column in `on`",
            ));
        }
        let keys = crate::scan::project(&schema, Some(&merge.on), "merge_insert key")?;
        let matched_cond = match &merge.when_matched_update_all {
            Some(Some(sql)) => Some(Filter::compile(sql, &merge.params, &pair_schema(&schema)?)?),
            _ => None,
        };
        let delete_cond = match &merge.when_not_matched_by_source_delete {
            Some(Some(sql)) => Some(Filter::compile(sql, &merge.params, &schema)?),
            _ => None,
        };

        // The source, validated and conformed to the table schema, as one batch.
        let mut parts = Vec::new();
        let mut row_base = 0usize;
        for b in source {
            cancel.check()?;
            let b = b?;
            let conformed = conform(&b, &schema, row_base)?;
            if merge.when_matched_update_all.is_some() {
                refuse_partial_rows(&b, &schema)?;
            }
            let b = conformed;
            row_base += b.num_rows();
            parts.push(b);
        }
        let src = concat_batches(&schema, &parts).map_err(arrow_err)?;
        drop(parts);
        let conv = RowConverter::new(
            keys.iter()
                .map(|&k| SortField::new(schema.field(k).data_type().clone()))
                .collect(),
        )
        .map_err(arrow_err)?;
        // The source's keys, encoded and by key: made when a fragment's keys are read (the
        // fragments a scalar index covers are not).
        let src_keys: OnceCell<Rows> = OnceCell::new();
        let by_key: OnceCell<KeyMap> = OnceCell::new();
        let source_map = || -> Result<&KeyMap> {
            if by_key.get().is_none() {
                let rows = encoded(&src_keys, &conv, &src, &keys)?;
                let _ = by_key.set(key_map(rows, &src, &keys, &merge.on)?);
            }
            Ok(by_key.get().expect("just set"))
        };
        // An unconditional upsert writes every source row (updated or inserted) whatever
        // the matches: written while the table is walked.
        let upsert = matches!(merge.when_matched_update_all, Some(None))
            && merge.when_not_matched_insert_all
            && src.num_rows() > 0;
        let mut src_matched = vec![false; src.num_rows()];
        let mut stats = MergeStats::default();
        let mut staged = Staged::default();
        let mut before = Vec::new();
        let mut after = Vec::new();
        let mut updated_src: Vec<u32> = Vec::new();
        let delete_unmatched = merge.when_not_matched_by_source_delete.is_some();
        // Set when the walk fails: the writer stops at its next chunk.
        let stop = CancelToken::new();
        // The writer runs on the rayon pool: its threads are up already, while a thread
        // spawned here can wait for this one's core until the walk ends (Linux places a new
        // thread beside its parent, and measured here it ran ~1 ms late).
        let mut written: Option<std::thread::Result<Result<Staged>>> = None;
        let walked = rayon::in_place_scope(|sc| {
            if upsert {
                sc.spawn(|_| {
                    written = Some(std::panic::catch_unwind(AssertUnwindSafe(|| {
                        // In chunks, so Ctrl-C or a failed walk stops it between two.
                        let n = src.num_rows();
                        let mut chunks = (0..n).step_by(WRITE_CHUNK).map(|at| {
                            stop.check()?;
                            Ok(src.slice(at, WRITE_CHUNK.min(n - at)))
                        });
                        let mut written =
                            write_fragments_unsynced(&self.dir, &schema, &mut chunks, cancel)?;
                        written.start_sync();
                        Ok(written)
                    })));
                });
            }
            let walked = std::panic::catch_unwind(AssertUnwindSafe(|| -> Result<()> {
                // With one key column that a scalar index holds, and no rows to find that the
                // source lacks, the index says which rows each source key matches.
                let matches = match (&keys[..], &merge.when_not_matched_by_source_delete) {
                    ([k], None) => crate::scalar::indexed_keys(
                        &snap,
                        &self.dir,
                        &self.cache,
                        schema.field(*k).name(),
                        src.column(*k),
                    )?
                    .map(KeyMatches::new),
                    _ => None,
                };
                // Two source rows with one key make the merge ambiguous: refused before
                // anything is read. An exact index's lookup sorted the keys and saw any
                // repeat; else (floats: the index holds -0 as 0) the source map checks.
                match matches.as_ref().filter(|m| m.exact).map(|m| m.repeated) {
                    Some(Some((first, i))) => return Err(repeated_key(first, i, &merge.on)),
                    Some(None) => {}
                    None => {
                        source_map()?;
                    }
                }
                let frags = self.fragments_for_write(&snap)?;
                let mut room = inline_room(frags, self.options.inline_deletions);
                for frag in frags {
                    cancel.check()?;
                    // Offsets of the fragment's rows the merge removes (ascending per batch).
                    let mut gone: Vec<u32> = Vec::new();
                    for (b, batch) in frag.batches.iter().enumerate() {
                        let start = frag.starts[b];
                        let found = matches
                            .as_ref()
                            .and_then(|m| m.in_rows(frag.meta.id, start, batch.num_rows()));
                        // Matched (row, source row) pairs, and unmatched live rows.
                        let (pairs, unmatched) = match (found, &matches) {
                            (Some(found), Some(m)) => {
                                let check = if m.exact {
                                    None
                                } else {
                                    Some((
                                        &conv,
                                        &keys[..],
                                        encoded(&src_keys, &conv, &src, &keys)?,
                                    ))
                                };
                                (indexed_pairs(frag, b, found, check)?, Vec::new())
                            }
                            _ => {
                                scan_pairs(frag, b, &conv, &keys, source_map()?, delete_unmatched)?
                            }
                        };
                        for &(_, s) in &pairs {
                            src_matched[s as usize] = true;
                        }
                        if merge.when_matched_update_all.is_some() && !pairs.is_empty() {
                            let accept = match &matched_cond {
                                Some(f) => Some(pair_mask(f, batch, &src, &pairs)?),
                                None => None,
                            };
                            for (i, &(r, s)) in pairs.iter().enumerate() {
                                if accept.as_ref().is_none_or(|m| m.value(i)) {
                                    gone.push(start + r);
                                    updated_src.push(s);
                                }
                            }
                        }
                        if delete_unmatched && !unmatched.is_empty() {
                            let idx = UInt32Array::from_iter_values(unmatched.iter().copied());
                            let accept = match &delete_cond {
                                Some(f) => {
                                    let rows = take_record_batch(batch, &idx).map_err(arrow_err)?;
                                    Some(filter_mask(&f.expr, &rows)?)
                                }
                                None => None,
                            };
                            for (i, &r) in unmatched.iter().enumerate() {
                                if accept.as_ref().is_none_or(|m| m.value(i)) {
                                    gone.push(start + r);
                                    stats.deleted += 1;
                                }
                            }
                        }
                    }
                    if !gone.is_empty() {
                        gone.sort_unstable();
                        gone.dedup();
                        let gone = RoaringBitmap::from_sorted_iter(gone).expect("sorted");
                        before.push(frag.meta.clone());
                        after.push(with_deletions(
                            &self.dir,
                            frag,
                            &gone,
                            &mut staged,
                            &mut room,
                        )?);
                    }
                }
                Ok(())
            }));
            if !matches!(walked, Ok(Ok(()))) {
                stop.cancel();
            }
            walked
        });
        // A panic on either side: the other side's files are removed, then it goes on.
        let walked = walked.unwrap_or_else(|panic| {
            if let Some(Ok(Ok(w))) = &written {
                w.discard();
            }
            staged.discard();
            std::panic::resume_unwind(panic)
        });
        let written = written.map(|w| {
            w.unwrap_or_else(|panic| {
                staged.discard();
                std::panic::resume_unwind(panic)
            })
        });
        let written = match (walked, written.transpose()) {
            (Ok(()), Ok(w)) => w,
            (walked, w) => {
                if let Ok(Some(w)) = &w {
                    w.discard();
                }
                staged.discard();
                return Err(walked.err().or(w.err()).expect("one of them failed"));
            }
        };
        stats.updated = updated_src.len() as u64;
        if merge.when_not_matched_insert_all {
            stats.inserted = src_matched.iter().filter(|&&m| !m).count() as u64;
        }
        // The rows to write: with the upsert's every source row written already, only the
        // extra copies of a source row that replaced several table rows (a table key held
        // twice keeps both rows, each updated).
        let new_rows: Vec<u32> = match &written {
            Some(_) => {
                let mut seen = vec![false; src.num_rows()];
                updated_src
                    .iter()
                    .copied()
                    .filter(|&s| std::mem::replace(&mut seen[s as usize], true))
                    .collect()
            }
            None => {
                let mut rows = updated_src;
                if merge.when_not_matched_insert_all {
                    rows.extend((0..src.num_rows() as u32).filter(|&i| !src_matched[i as usize]));
                }
                rows
            }
        };
        let mut added = written.unwrap_or_default();
        if before.is_empty() && added.fragments.is_empty() && new_rows.is_empty() {
            stats.version = snap.manifest.version;
            return Ok(stats);
        }
        if !new_rows.is_empty() {
            let rows = take_record_batch(&src, &UInt32Array::from(new_rows)).map_err(arrow_err);
            match rows.and_then(|rows| {
                let mut rows = std::iter::once(Ok(rows));
                write_fragments_unsynced(&self.dir, &schema, &mut rows, cancel)
            }) {
                Ok(a) => added.extend(a),
                Err(e) => {
                    added.discard();
                    staged.discard();
                    return Err(e);
                }
            }
        };
        staged.take_files_from(&mut added);
        let txn = Transaction::new(
            snap.manifest.version,
            Merge {
                before,
                after,
                added: added.fragments,
                read_fragments: snap.manifest.body.fragments.clone(),
            },
        );
        if let Err(e) = cancel.check() {
            staged.discard();
            return Err(e);
        }
        stats.version = self.commit_and_pin(&txn, &mut staged, cancel)?;
        Ok(stats)
    }
}

/// Rows an upsert's writer writes between two checks for a stop.
const WRITE_CHUNK: usize = 1 << 16;

/// A table row (offset in its batch) and the source row whose key it has.
type Pair = (u32, u32);

/// Source rows by encoded key (rows with a null key are in no entry).
type KeyMap<'a> = HashMap<&'a [u8], u32, ahash::RandomState>;

/// The source's key columns encoded (once: later calls give the same rows).
fn encoded<'a>(
    cell: &'a OnceCell<Rows>,
    conv: &RowConverter,
    src: &RecordBatch,
    keys: &[usize],
) -> Result<&'a Rows> {
    if cell.get().is_none() {
        let _ = cell.set(key_rows(conv, src, keys)?);
    }
    Ok(cell.get().expect("just set"))
}

/// The source rows by key; two rows with the same key are refused.
fn key_map<'a>(
    rows: &'a Rows,
    src: &RecordBatch,
    keys: &[usize],
    on: &[String],
) -> Result<KeyMap<'a>> {
    let mut by_key = HashMap::with_capacity_and_hasher(src.num_rows(), ahash::RandomState::new());
    for i in 0..src.num_rows() {
        if has_null_key(src, keys, i) {
            continue;
        }
        if let Some(first) = by_key.insert(rows.row(i).data(), i as u32) {
            return Err(repeated_key(first, i as u32, on));
        }
    }
    Ok(by_key)
}

fn repeated_key(first: u32, i: u32, on: &[String]) -> Error {
    Error::invalid(format!(
        "merge_insert source rows {first} and {i} have the same key {on:?}; each key may appear once"
    ))
}

/// `(row, source row)` for each live row of batch `b` whose key a source row has, and the
/// live rows no source row has (when `want_unmatched`).
fn scan_pairs(
    frag: &LoadedFragment,
    b: usize,
    conv: &RowConverter,
    keys: &[usize],
    by_key: &KeyMap,
    want_unmatched: bool,
) -> Result<(Vec<Pair>, Vec<u32>)> {
    let batch = &frag.batches[b];
    let live = live_mask(frag, b, batch.num_rows());
    let rows = key_rows(conv, batch, keys)?;
    let (mut pairs, mut unmatched) = (Vec::new(), Vec::new());
    for r in 0..batch.num_rows() {
        if !live.value(r) {
            continue;
        }
        let hit = if has_null_key(batch, keys, r) {
            None
        } else {
            by_key.get(rows.row(r).as_ref()).copied()
        };
        match hit {
            Some(s) => pairs.push((r as u32, s)),
            None if want_unmatched => unmatched.push(r as u32),
            None => {}
        }
    }
    Ok((pairs, unmatched))
}

/// The index's matches `found` (fragment offsets, source rows) among batch `b`'s rows, as
/// `(row, source row)`, without deleted rows, and, with `check` (an index that may join
/// keys a bitwise comparison keeps apart), only those whose key encodings are equal.
fn indexed_pairs(
    frag: &LoadedFragment,
    b: usize,
    found: &[(u32, u32)],
    check: Option<(&RowConverter, &[usize], &Rows)>,
) -> Result<Vec<Pair>> {
    let start = frag.starts[b];
    let mut pairs: Vec<Pair> = found
        .iter()
        .filter(|&&(off, _)| !frag.is_deleted(off))
        .map(|&(off, s)| (off - start, s))
        .collect();
    if let (Some((conv, keys, src_keys)), false) = (check, pairs.is_empty()) {
        let idx = UInt32Array::from_iter_values(pairs.iter().map(|p| p.0));
        let cols = keys
            .iter()
            .map(|&k| arrow::compute::take(frag.batches[b].column(k), &idx, None))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(arrow_err)?;
        let rows = conv.convert_columns(&cols).map_err(arrow_err)?;
        let mut j = 0;
        pairs.retain(|&(_, s)| {
            j += 1;
            rows.row(j - 1) == src_keys.row(s as usize)
        });
    }
    Ok(pairs)
}

/// A matched update replaces whole rows: a source without some of the table's columns would
/// set them to null in every updated row, losing data the caller never mentioned. Refused,
/// naming the columns.
fn refuse_partial_rows(batch: &RecordBatch, schema: &SchemaRef) -> Result<()> {
    let missing: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| batch.schema().field_with_name(n).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::schema(format!(
        "merge_insert with when_matched_update_all replaces whole rows, but the source has no \
         column(s) {missing:?}: they would become null in every updated row. Pass every \
         column (read the rows first), or use update() to set some columns"
    )))
}

/// Evaluates a matched-update condition on (target row, source row) pairs; a null result
/// rejects the pair, as in SQL (`filter_mask` counts NULL as not matching).
fn pair_mask(
    f: &Filter,
    target: &RecordBatch,
    src: &RecordBatch,
    pairs: &[(u32, u32)],
) -> Result<BooleanArray> {
    let side = |b: &RecordBatch, pick: fn(&(u32, u32)) -> u32| {
        take_record_batch(b, &UInt32Array::from_iter_values(pairs.iter().map(pick)))
            .map_err(arrow_err)
    };
    let (t, s) = (side(target, |p| p.0)?, side(src, |p| p.1)?);
    let mut cols: Vec<ArrayRef> = t.columns().to_vec();
    cols.extend(t.columns().iter().cloned());
    cols.extend(s.columns().iter().cloned());
    let joined = RecordBatch::try_new(pair_schema(&t.schema())?, cols).map_err(arrow_err)?;
    filter_mask(&f.expr, &joined)
}
