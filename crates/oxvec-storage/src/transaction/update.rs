//! Update: the matched rows are deleted from their fragments and their rewritten copies
//! appended, in one version.
//!
//! Same rule as delete for the touched fragments; the new copies rebase like an append.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces each of `before` by `after` and adds the rewritten rows in `added`.
#[derive(Debug, Clone)]
pub struct Update {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
    pub added: Vec<FragmentMeta>,
}

impl Change for Update {
    fn operation(&self) -> &'static str {
        "update"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.replace_fragments(&self.before, &self.after)?;
        draft.add_fragments(&self.added);
        Ok(())
    }
}
