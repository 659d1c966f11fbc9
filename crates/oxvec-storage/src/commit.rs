//! Turning a transaction into a published version.
//!
//! [`commit`] reads the newest version, applies the transaction on top of it (rebasing over
//! commits that landed since it read, by the rules in [`crate::transaction`]) and publishes
//! the result with the create-if-absent primitive; losing the race re-reads and tries again.
//! It also settles publishes whose outcome an IO error hid, by reading the version back.

use crate::durable::new_id;
use crate::manifest::ManifestBody;
use crate::transaction::{apply, Transaction};
use crate::{FragmentMeta, Manifest, Publish, TableDir};
use arrow::datatypes::SchemaRef;
use oxvec_core::clock::now_micros;
use oxvec_core::{Error, Result};
use std::path::PathBuf;

/// How many times a commit re-reads the latest version after losing a publish race.
const MAX_ATTEMPTS: usize = 64;

fn assign_ids(frags: &mut [FragmentMeta], next: &mut u32) {
    for f in frags {
        f.id = *next;
        *next += 1;
    }
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
pub fn commit(dir: &TableDir, txn: &Transaction, staged: &[PathBuf]) -> Result<Manifest> {
    commit_when(dir, txn, staged, &mut || Ok(()))
}

/// [`commit`] for a change whose files may not be durable yet: `durable` is called once
/// the new manifest sits in its fsynced temp file, and must return only when every staged
/// file is fsynced (an error abandons the commit). The manifest is linked in after it, so
/// the fsyncs of the data and of the manifest overlap while no published version ever
/// names a file a crash could lose.
pub fn commit_when(
    dir: &TableDir,
    txn: &Transaction,
    staged: &[PathBuf],
    durable: &mut dyn FnMut() -> Result<()>,
) -> Result<Manifest> {
    let mut durable = RunOnce::new(durable);
    let discard = |e: Error| {
        for p in staged {
            let _ = crate::io::remove_file(p);
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
            apply(txn, &id, &base, now_micros())
        })()
        .map_err(discard)?;
        let manifest = dir.stage_manifest(&next).map_err(discard)?;
        if let Err(e) = durable.run() {
            manifest.discard();
            return Err(discard(e));
        }
        let published = match dir.link_manifest(manifest, next.version) {
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
                let _ = crate::io::remove_file(&dir.manifest_path(next.version));
                continue;
            }
            crate::crash::point("manifest_published");
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

/// A barrier that runs once: later calls return at once (a rebase publishes again, with
/// the files durable already).
struct RunOnce<'a> {
    f: &'a mut dyn FnMut() -> Result<()>,
    done: bool,
}

impl<'a> RunOnce<'a> {
    fn new(f: &'a mut dyn FnMut() -> Result<()>) -> Self {
        RunOnce { f, done: false }
    }

    fn run(&mut self) -> Result<()> {
        if !self.done {
            (self.f)()?;
            self.done = true;
        }
        Ok(())
    }
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
            let _ = crate::durable::sync_dir(&dir.versions_dir());
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
