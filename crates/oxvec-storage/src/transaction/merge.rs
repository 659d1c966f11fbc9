//! Merge (upsert): matched rows are updated or deleted like an update; unmatched source rows
//! are inserted.
//!
//! Keys are matched against the read version. Rows it did not see (a fragment added or
//! restored since, see `Draft::refuse_unseen_rows`) could hold the same keys: an insert
//! would duplicate them, an update or a `not matched by source` delete would miss them. So
//! they are a conflict, and the retry matches against them. Otherwise the merge rebases
//! like an update of the rows it matched.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces `before` by `after` (the fragments holding matched rows) and adds `added` (the
/// updated and inserted rows).
#[derive(Debug, Clone)]
pub struct Merge {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
    pub added: Vec<FragmentMeta>,
    /// The read version's fragments, as the keys were matched against them.
    pub read_fragments: Vec<FragmentMeta>,
}

impl Change for Merge {
    fn operation(&self) -> &'static str {
        "merge_insert"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        // Keys were matched against the read version: rows it did not see could match too
        // (an update or delete missing them), or hold a key this merge would insert again.
        draft.refuse_unseen_rows(&self.read_fragments, "with keys this merge matches", None)?;
        draft.replace_fragments(&self.before, &self.after)?;
        draft.add_fragments(&self.added);
        Ok(())
    }
}
