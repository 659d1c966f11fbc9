//! Merge (upsert): matched rows are updated or deleted like an update; unmatched source rows
//! are inserted.
//!
//! An insert is only right if no row with its key exists, and the keys were matched against
//! the read version. So when the merge inserts, rows the read did not see (a fragment added
//! or restored since, see `Draft::refuse_unseen_rows`) could hold the same keys: a conflict,
//! and the retry matches against them. A merge that only updates or deletes rebases like an
//! update of the rows it matched.

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
    /// The read version's fragments, as the keys were matched against them.
    pub read_fragments: Vec<FragmentMeta>,
}

impl Change for Merge {
    fn operation(&self) -> &'static str {
        "merge_insert"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        if self.inserts {
            draft.refuse_unseen_rows(
                &self.read_fragments,
                "with keys this merge would insert again",
            )?;
        }
        draft.replace_fragments(&self.before, &self.after)?;
        draft.add_fragments(&self.added);
        Ok(())
    }
}
