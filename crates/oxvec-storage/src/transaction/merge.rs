//! Merge (upsert): matched rows are updated or deleted like an update; unmatched source rows
//! are inserted.
//!
//! An insert is only right if no row with its key exists, and the keys were matched against
//! the read version. So when the merge inserts, any fragment in the newest version that the
//! read version did not have (rows appended, updated, merged, compacted or restored since)
//! could hold the same keys: that is a conflict, and the retry matches against those rows.
//! A merge that only updates or deletes rebases like an update.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces `before` by `after`, adds `added`; `inserts` says whether `added` holds rows
/// whose keys matched nothing in the fragments `read_fragment_ids` of the read version.
#[derive(Debug, Clone)]
pub struct Merge {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
    pub added: Vec<FragmentMeta>,
    pub inserts: bool,
    pub read_fragment_ids: Vec<u32>,
}

impl Change for Merge {
    fn operation(&self) -> &'static str {
        "merge_insert"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        if self.inserts {
            let read: std::collections::HashSet<u32> =
                self.read_fragment_ids.iter().copied().collect();
            if let Some(f) = draft.body.fragments.iter().find(|f| !read.contains(&f.id)) {
                return Err(draft.conflict(format!(
                    "fragment {} was added by another commit and may hold keys this merge would insert again; retry to match against it",
                    f.id
                )));
            }
        }
        draft.replace_fragments(&self.before, &self.after)?;
        draft.add_fragments(&self.added);
        Ok(())
    }
}
