//! Transactions: what one commit changes, and whether it can be replayed on top of commits
//! that landed after it read the table.
//!
//! Every kind of change is a type implementing [`Change`], one per file under
//! `transaction/`, each with its own apply and conflict rule. A commit computes its change
//! against the version it read; if other commits landed meanwhile, [`apply`] replays it on
//! the newest version, and the change either rebases (its effect is still what the caller
//! asked for) or fails with a retryable [`Error::CommitConflict`] saying why. The rules are
//! exercised pair by pair in `transaction/tests.rs`.
//!
//! ```text
//! read v5 -> compute Delete{before: [f3], after: [f3 + deletions]} -> commit
//!   newest is v7 (an append landed, none of its rows match): f3 unchanged -> rebased as v8
//!   newest is v7 (an append of a matching row)                -> CommitConflict (retryable)
//!   newest is v7 (f3 got deletions)                           -> CommitConflict (retryable)
//! ```
//!
//! The rule behind every rebase: the version published must be the change applied to the
//! version before it, exactly as if the change had read that version.

mod alter_columns;
mod append;
mod compaction;
mod delete;
mod indices;
mod merge;
mod overwrite;
mod restore;
mod rewrite_columns;
#[cfg(test)]
mod tests;
mod update;

pub use alter_columns::{AlterColumns, ColumnStep};
pub use append::Append;
pub use compaction::Compaction;
pub use delete::Delete;
pub use indices::{CreateIndex, DropIndex, IndexChange};
pub use merge::Merge;
pub use overwrite::Overwrite;
pub use restore::Restore;
pub use rewrite_columns::RewriteColumns;
pub use update::Update;

use crate::fragment::FragmentMeta;
use crate::manifest::{IndexMeta, Manifest, ManifestBody};
use arrow::datatypes::SchemaRef;
use oxvec_core::{Error, Result};
use std::sync::Arc;

/// Says whether fragments a change's read did not see hold rows its filter matches, given by
/// the layer that can evaluate the filter (called with the newest version's schema and those
/// fragments). Lets a filtered delete or update rebase over rows appended meanwhile that it
/// would not have touched, instead of conflicting with every concurrent append.
#[derive(Clone)]
pub struct UnseenCheck(pub Arc<UnseenFn>);

/// See [`UnseenCheck`].
pub type UnseenFn = dyn Fn(&SchemaRef, &[FragmentMeta]) -> Result<bool> + Send + Sync;

impl std::fmt::Debug for UnseenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnseenCheck")
    }
}

/// One kind of change to a table version.
pub trait Change: std::fmt::Debug + Send + Sync {
    /// The operation name recorded in the manifest (`append`, `delete`, ...).
    fn operation(&self) -> &'static str;

    /// Applies the change to `draft`, a copy of the newest version, or returns a retryable
    /// [`Error::CommitConflict`] when commits since the read version make it unsafe.
    fn apply(&self, draft: &mut Draft<'_>) -> Result<()>;
}

/// A change and the version it was computed against.
#[derive(Debug)]
pub struct Transaction {
    pub read_version: u64,
    pub change: Box<dyn Change>,
}

impl Transaction {
    /// `change`, computed against version `read_version`.
    pub fn new(read_version: u64, change: impl Change + 'static) -> Transaction {
        Transaction {
            read_version,
            change: Box::new(change),
        }
    }
}

/// The next version being built from the newest one (`base`).
#[derive(Debug)]
pub struct Draft<'a> {
    /// The newest version, which the change is applied on top of.
    pub base: &'a Manifest,
    /// The version the change was computed against.
    pub read_version: u64,
    pub schema: SchemaRef,
    pub body: ManifestBody,
}

impl Draft<'_> {
    /// A retryable conflict: `what` happened since the read version.
    pub fn conflict(&self, what: impl std::fmt::Display) -> Error {
        Error::CommitConflict {
            message: format!(
                "{what} (read at version {}, now {})",
                self.read_version, self.base.version
            ),
            retryable: true,
        }
    }

    /// A conflict when the schema or the indexes changed since a change that planned over
    /// them (`read_schema`, `read_indices`; an index is identified by its file) was read.
    pub fn refuse_schema_or_index_change(
        &self,
        read_schema: &SchemaRef,
        read_indices: &[IndexMeta],
    ) -> Result<()> {
        if &self.schema != read_schema {
            return Err(self.conflict("the table schema changed since the change was planned"));
        }
        let files = |ix: &[IndexMeta]| -> Vec<(String, String)> {
            ix.iter()
                .map(|i| (i.name.clone(), i.file.clone()))
                .collect()
        };
        if files(&self.body.indices) != files(read_indices) {
            return Err(self.conflict("the table's indexes changed since the change was planned"));
        }
        Ok(())
    }

    /// Adds new fragments, giving them the next fragment ids.
    pub fn add_fragments(&mut self, fragments: &[FragmentMeta]) {
        for f in fragments {
            let mut f = f.clone();
            f.id = self.body.next_fragment_id;
            self.body.next_fragment_id += 1;
            self.body.fragments.push(f);
        }
    }

    /// A conflict when the newest version has rows the read version did not show: a fragment
    /// it did not have (appended, updated, merged or compacted since), or one restored since
    /// (a restore links every file anew, so its data file name differs, and rows deleted
    /// after the restored version are back). Deletions added to a fragment only remove rows.
    /// A change whose rows were chosen by a filter or by key over `read` would have chosen
    /// differently; `what` names it.
    pub fn refuse_unseen_rows(
        &self,
        read: &[FragmentMeta],
        what: &str,
        check: Option<&UnseenCheck>,
    ) -> Result<()> {
        let read: std::collections::HashMap<u32, &FragmentMeta> =
            read.iter().map(|f| (f.id, f)).collect();
        let mut unseen = Vec::new();
        let mut first = None;
        for f in &self.body.fragments {
            let why = match read.get(&f.id) {
                None => "was added by another commit",
                Some(r) if r.file != f.file => "was restored by another commit",
                Some(_) => continue,
            };
            first.get_or_insert((f.id, why));
            unseen.push(f.clone());
        }
        let Some((id, why)) = first else {
            return Ok(());
        };
        if let Some(check) = check {
            if !(check.0)(&self.schema, &unseen)? {
                return Ok(());
            }
        }
        Err(self.conflict(format!(
            "fragment {id} {why} and may hold rows {what}; retry to read them"
        )))
    }

    /// Replaces each fragment of `before` (as read) by its `after` (`None`: removed); a
    /// fragment that changed or vanished since it was read is a conflict, since the change
    /// was computed from its old rows.
    pub fn replace_fragments(
        &mut self,
        before: &[FragmentMeta],
        after: &[Option<FragmentMeta>],
    ) -> Result<()> {
        for (b, a) in before.iter().zip(after) {
            let pos = self
                .body
                .fragments
                .iter()
                .position(|f| f.id == b.id && f.file == b.file);
            match pos {
                Some(i) if self.body.fragments[i] == *b => match a {
                    Some(a) => self.body.fragments[i] = a.clone(),
                    None => {
                        self.body.fragments.remove(i);
                    }
                },
                _ => {
                    return Err(
                        self.conflict(format!("fragment {} was changed by another commit", b.id))
                    )
                }
            }
        }
        Ok(())
    }
}

/// The manifest `txn` produces on top of `base` (the newest version), or the conflict.
pub fn apply(
    txn: &Transaction,
    transaction_id: &str,
    base: &Manifest,
    timestamp_micros: i64,
) -> Result<Manifest> {
    let mut draft = Draft {
        base,
        read_version: txn.read_version,
        schema: base.schema.clone(),
        body: ManifestBody {
            timestamp_micros,
            operation: txn.change.operation().to_string(),
            transaction_id: transaction_id.to_string(),
            read_version: txn.read_version,
            next_fragment_id: base.body.next_fragment_id,
            fragments: base.body.fragments.clone(),
            indices: base.body.indices.clone(),
        },
    };
    txn.change.apply(&mut draft)?;
    Ok(Manifest {
        version: base.version + 1,
        schema: draft.schema,
        body: draft.body,
    })
}
