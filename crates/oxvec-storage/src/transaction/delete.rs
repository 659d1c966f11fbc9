//! Delete: new deletion vectors for the fragments holding matched rows (a fully deleted
//! fragment is removed).
//!
//! Rebases when the table holds the rows it held when read: the rows matched then are the
//! rows to delete now. A touched fragment that changed meanwhile (deleted from, compacted
//! away, overwritten), or rows the read did not see (a fragment added, deleted rows brought
//! back), is a conflict: the filter must be evaluated again, or the version would not be
//! this delete applied to the one before it.

use super::{Change, Draft, UnseenCheck};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces each of `before` (as read) by `after` (`None`: the fragment is gone).
#[derive(Debug, Clone)]
pub struct Delete {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
    /// The read version's fragments, as the filter was evaluated on them.
    pub read_fragments: Vec<FragmentMeta>,
    /// Whether rows the read did not see match the filter (`None`: assume they may).
    pub unseen: Option<UnseenCheck>,
}

impl Change for Delete {
    fn operation(&self) -> &'static str {
        "delete"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.refuse_unseen_rows(
            &self.read_fragments,
            "this delete's filter matches",
            self.unseen.as_ref(),
        )?;
        draft.replace_fragments(&self.before, &self.after)
    }
}
