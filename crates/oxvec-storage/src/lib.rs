//! oxvec-storage: the on-disk table format.
//!
//! A table is a directory of immutable files: Arrow IPC fragments (`data/`), roaring deletion
//! vectors (`deletions/`) and one checksummed manifest per version (`versions/`). Every file
//! is fsynced, with its directory, before the manifest that references it is published with a
//! create-if-absent hard link; losing that race is a commit conflict, never an overwrite.
//! Every file's CRC32C is kept in the manifest and verified when the file is opened.
//! Each kind of change is a transaction type (`transaction/`) with its own rebase rule;
//! [`commit::commit`] applies one on the newest version and publishes it.
//!
//! This crate knows nothing of queries, vectors or Python.

pub mod commit;
pub mod crash;
pub mod deletion;
pub mod durable;
pub mod fragment;
pub mod io;
mod ipc_check;
pub mod manifest;
pub mod parts;
pub mod table_dir;
pub mod tags;
pub mod transaction;
pub mod version_watch;

pub use commit::{commit, commit_create, commit_when};
pub use deletion::{
    inline_total, read_deletions, write_deletions, DeletionMeta, INLINE_MAX_BYTES,
    INLINE_TOTAL_BYTES,
};
pub use fragment::{
    open_fragment, open_fragment_mapped, sync_all, FragmentMeta, FragmentWriter, Mapping,
    OpenedFragment, Unsynced,
};
pub use manifest::{IndexMeta, Manifest};
pub use parts::{ColumnChecks, PartChecksums};
pub use table_dir::{Publish, StagedManifest, TableDir};
pub use tags::Tag;
pub use transaction::Transaction;
pub use version_watch::VersionWatch;
