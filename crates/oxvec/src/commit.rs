//! Turning a prepared change into a published version, rebasing over concurrent commits
//! where that is safe.
//!
//! A change names the version it read and the fragments it touched. If other commits landed
//! since, it is replayed on the newest version when none of them touched the same fragments
//! (appends always rebase); otherwise it fails with a retryable [`Error::CommitConflict`].

use arrow::datatypes::SchemaRef;
use oxvec_core::{Error, Result};
use oxvec_storage::durable::new_id;
use oxvec_storage::manifest::ManifestBody;
use oxvec_storage::{FragmentMeta, IndexMeta, Manifest, Publish, TableDir};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many times a commit re-reads the latest version after losing a publish race.
const MAX_ATTEMPTS: usize = 64;

/// What a commit does to the fragment list.
#[derive(Debug, Clone)]
pub enum Change {
    /// New fragments on top of whatever is there; ids are assigned at commit.
    Append { fragments: Vec<FragmentMeta> },
    /// Replace the metadata of fragments (new deletion vectors) or remove them (`None`), and
    /// add new fragments. `before` holds each touched fragment as it was read, for rebase checks.
    Modify {
        before: Vec<FragmentMeta>,
        after: Vec<Option<FragmentMeta>>,
        added: Vec<FragmentMeta>,
    },
    /// Replace everything: the schema and the fragments (overwrite, restore). `fragments` with
    /// id `u32::MAX` get fresh ids; others keep theirs.
    Replace {
        schema: SchemaRef,
        fragments: Vec<FragmentMeta>,
        indices: Vec<IndexMeta>,
    },
    /// Create, replace or drop (`after: None`) indexes by name; `before` is what was read,
    /// so a concurrent change to the same index is a conflict.
    Indices { changes: Vec<IndexChange> },
    /// Compaction: `removed` fragments (as read) are replaced by `added`, whose ids were
    /// assigned from `first_id` (the read version's next id) because the indexes' row ids
    /// already point at them; plus index changes. Any concurrent change to a removed
    /// fragment, or any new fragment id handed out meanwhile, is a retryable conflict.
    Rewrite {
        removed: Vec<FragmentMeta>,
        added: Vec<FragmentMeta>,
        first_id: u32,
        indices: Vec<IndexChange>,
    },
}

/// One index's change within [`Change::Indices`].
#[derive(Debug, Clone)]
pub struct IndexChange {
    pub name: String,
    pub before: Option<IndexMeta>,
    pub after: Option<IndexMeta>,
}

/// A change and the version it was computed against.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub operation: &'static str,
    pub read_version: u64,
    pub change: Change,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn assign_ids(frags: &mut [FragmentMeta], next: &mut u32) {
    for f in frags {
        f.id = *next;
        *next += 1;
    }
}

/// Applies `txn` on top of `base` (the latest version), or says why it cannot.
fn apply(
    txn: &Transaction,
    transaction_id: &str,
    base: &Manifest,
    schema_for_new: Option<&SchemaRef>,
) -> Result<Manifest> {
    let mut body = ManifestBody {
        timestamp_micros: now_micros(),
        operation: txn.operation.to_string(),
        transaction_id: transaction_id.to_string(),
        read_version: txn.read_version,
        next_fragment_id: base.body.next_fragment_id,
        fragments: base.body.fragments.clone(),
        indices: base.body.indices.clone(),
    };
    let mut schema = base.schema.clone();
    match &txn.change {
        Change::Append { fragments } => {
            if let Some(s) = schema_for_new {
                if s.fields() != base.schema.fields() {
                    return Err(Error::CommitConflict {
                        message: "the table schema changed since the data was prepared".into(),
                        retryable: true,
                    });
                }
            }
            let mut new = fragments.clone();
            assign_ids(&mut new, &mut body.next_fragment_id);
            body.fragments.extend(new);
        }
        Change::Modify {
            before,
            after,
            added,
        } => {
            for (b, a) in before.iter().zip(after) {
                let pos = body
                    .fragments
                    .iter()
                    .position(|f| f.id == b.id && f.file == b.file);
                match pos {
                    Some(i) if body.fragments[i] == *b => match a {
                        Some(a) => body.fragments[i] = a.clone(),
                        None => {
                            body.fragments.remove(i);
                        }
                    },
                    _ => {
                        return Err(Error::CommitConflict {
                            message: format!(
                                "fragment {} was changed by a concurrent commit (read at version {}, now {})",
                                b.id, txn.read_version, base.version
                            ),
                            retryable: true,
                        })
                    }
                }
            }
            let mut new = added.clone();
            assign_ids(&mut new, &mut body.next_fragment_id);
            body.fragments.extend(new);
        }
        Change::Indices { changes } => apply_index_changes(&mut body, changes, txn, base)?,
        Change::Rewrite {
            removed,
            added,
            first_id,
            indices,
        } => {
            let conflict = |what: String| Error::CommitConflict {
                message: format!(
                    "{what} since compaction read version {} (now {})",
                    txn.read_version, base.version
                ),
                retryable: true,
            };
            if body.next_fragment_id != *first_id {
                return Err(conflict("other fragments were added".into()));
            }
            let mut at = None;
            for r in removed {
                match body.fragments.iter().position(|f| f == r) {
                    Some(i) => {
                        at.get_or_insert(i);
                        body.fragments.remove(i);
                    }
                    None => return Err(conflict(format!("fragment {} was changed", r.id))),
                }
            }
            let at = at.unwrap_or(body.fragments.len()).min(body.fragments.len());
            body.fragments.splice(at..at, added.iter().cloned());
            body.next_fragment_id = first_id + added.len() as u32;
            apply_index_changes(&mut body, indices, txn, base)?;
        }
        Change::Replace {
            schema: s,
            fragments,
            indices,
        } => {
            body.indices = indices.clone();
            schema = s.clone();
            let mut frags = fragments.clone();
            let max_kept = frags
                .iter()
                .filter(|f| f.id != u32::MAX)
                .map(|f| f.id + 1)
                .max()
                .unwrap_or(0);
            body.next_fragment_id = body.next_fragment_id.max(max_kept);
            for f in frags.iter_mut().filter(|f| f.id == u32::MAX) {
                f.id = body.next_fragment_id;
                body.next_fragment_id += 1;
            }
            body.fragments = frags;
        }
    }
    Ok(Manifest {
        version: base.version + 1,
        schema,
        body,
    })
}

/// Applies index changes to `body`, refusing any whose index moved since it was read.
fn apply_index_changes(
    body: &mut ManifestBody,
    changes: &[IndexChange],
    txn: &Transaction,
    base: &Manifest,
) -> Result<()> {
    for IndexChange {
        name,
        before,
        after,
    } in changes.iter()
    {
        let pos = body.indices.iter().position(|i| &i.name == name);
        let current = pos.map(|p| &body.indices[p]);
        // An index is identified by its file: JSON round trips may perturb float fields.
        if current.map(|c| &c.file) != before.as_ref().map(|b| &b.file) {
            return Err(Error::CommitConflict {
                    message: format!(
                        "index '{name}' was changed by a concurrent commit (read at version {}, now {})",
                        txn.read_version, base.version
                    ),
                    retryable: true,
                });
        }
        match (pos, after) {
            (Some(p), Some(a)) => body.indices[p] = a.clone(),
            (Some(p), None) => {
                body.indices.remove(p);
            }
            (None, Some(a)) => body.indices.push(a.clone()),
            (None, None) => {}
        }
    }
    Ok(())
}

/// Publishes the first version of a new table. Losing the race means the table exists.
pub fn commit_create(
    dir: &TableDir,
    name: &str,
    schema: SchemaRef,
    mut fragments: Vec<FragmentMeta>,
    op: &'static str,
) -> Result<Manifest> {
    let mut next = 0;
    assign_ids(&mut fragments, &mut next);
    let m = Manifest {
        version: 1,
        schema,
        body: ManifestBody {
            timestamp_micros: now_micros(),
            operation: op.to_string(),
            transaction_id: new_id(),
            read_version: 0,
            next_fragment_id: next,
            fragments,
            indices: Vec::new(),
        },
    };
    match dir.publish(&m)? {
        Publish::Committed => Ok(m),
        Publish::Lost => Err(Error::TableExists {
            name: name.to_string(),
        }),
    }
}

/// Publishes `txn` as the next version, rebasing over concurrent commits when safe.
///
/// `staged` are the files the change wrote. They belong to this call from here on: when the
/// commit certainly did not land they are removed; when its outcome cannot be told (an IO
/// error while publishing, and the published version cannot be read back) they are kept,
/// since the version may reference them, and the error says so. The commit's transaction id
/// is fixed across rebase attempts, so a publish whose outcome was unclear is recognised by
/// reading the version back, and is never applied twice.
pub fn commit(
    dir: &TableDir,
    txn: &Transaction,
    schema_for_new: Option<&SchemaRef>,
    staged: &[PathBuf],
) -> Result<Manifest> {
    let discard = |e: Error| {
        for p in staged {
            let _ = oxvec_storage::io::remove_file(p);
        }
        e
    };
    let id = new_id();
    for _ in 0..MAX_ATTEMPTS {
        let next = (|| {
            let latest = dir.latest_version()?.ok_or_else(|| {
                Error::invalid(format!("table at {} has no versions", dir.root().display()))
            })?;
            let base = dir.load_manifest(latest)?;
            apply(txn, &id, &base, schema_for_new)
        })()
        .map_err(discard)?;
        let published = match dir.publish(&next) {
            Ok(p) => p,
            Err(e) => match read_back(dir, next.version, &id) {
                Landed::Ours => Publish::Committed,
                Landed::Theirs => Publish::Lost,
                Landed::Nothing => return Err(discard(e)),
                Landed::Unknown => return Err(outcome_unknown(dir, &next, &id, e)),
            },
        };
        if published == Publish::Committed {
            if shadowed(dir, &next) {
                // Cleanup removed this version number after we read the version before it,
                // and a newer version exists: ours would be invisible. Withdraw and rebase.
                let _ = oxvec_storage::io::remove_file(&dir.manifest_path(next.version));
                continue;
            }
            oxvec_storage::crash::point("manifest_published");
            return Ok(next);
        }
    }
    Err(discard(Error::CommitConflict {
        message: format!(
            "gave up after {MAX_ATTEMPTS} attempts: other writers kept committing first"
        ),
        retryable: true,
    }))
}

/// What is at a version number after a publish failed with an IO error.
enum Landed {
    Ours,
    Theirs,
    Nothing,
    Unknown,
}

fn read_back(dir: &TableDir, version: u64, transaction_id: &str) -> Landed {
    match dir.load_manifest(version) {
        Err(Error::Storage { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Landed::Nothing
        }
        Ok(m) if m.body.transaction_id == transaction_id => {
            // The link is visible; make its directory entry durable before reporting success.
            let _ = oxvec_storage::durable::sync_dir(&dir.versions_dir());
            Landed::Ours
        }
        Ok(_) => Landed::Theirs,
        Err(_) => Landed::Unknown,
    }
}

fn outcome_unknown(dir: &TableDir, next: &Manifest, id: &str, e: Error) -> Error {
    let path = dir.manifest_path(next.version);
    Error::storage(
        &path,
        std::io::Error::other(format!(
            "the outcome of commit {id} is unknown ({e}); its files were kept. Version {} \
             exists with transaction id {id} if it landed; do not repeat the write before \
             checking",
            next.version
        )),
    )
}

/// Whether a version newer than `ours` was committed before it (its number had been freed by
/// cleanup), so that readers would never see ours as the latest.
fn shadowed(dir: &TableDir, ours: &Manifest) -> bool {
    // A successor built on ours read it first, so its commit time is later.
    dir.load_manifest(ours.version + 1)
        .is_ok_and(|after| after.body.timestamp_micros < ours.body.timestamp_micros)
}
