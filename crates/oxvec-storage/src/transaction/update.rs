//! Update: the matched rows are deleted from their fragments and their rewritten copies
//! appended, in one version.
//!
//! Same rule as delete (rows the read did not see are a conflict); the new copies are
//! appended on top.

use super::{Change, Draft, UnseenCheck};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces each of `before` by `after` and adds the rewritten rows in `added`.
#[derive(Debug, Clone)]
pub struct Update {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
    pub added: Vec<FragmentMeta>,
    /// The read version's fragments, as the filter was evaluated on them.
    pub read_fragments: Vec<FragmentMeta>,
    /// Whether rows the read did not see match the filter (`None`: assume they may).
    pub unseen: Option<UnseenCheck>,
}

impl Change for Update {
    fn operation(&self) -> &'static str {
        "update"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.refuse_unseen_rows(
            &self.read_fragments,
            "this update's filter matches",
            self.unseen.as_ref(),
        )?;
        draft.replace_fragments(&self.before, &self.after)?;
        draft.add_fragments(&self.added);
        Ok(())
    }
}
