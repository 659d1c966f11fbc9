//! Delete: new deletion vectors for the fragments holding matched rows (a fully deleted
//! fragment is removed).
//!
//! Rebases when every touched fragment is as it was read: the rows matched then are the rows
//! to delete now. A touched fragment that changed meanwhile (deleted from, compacted away,
//! overwritten) is a conflict: the filter must be evaluated again.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces each of `before` (as read) by `after` (`None`: the fragment is gone).
#[derive(Debug, Clone)]
pub struct Delete {
    pub before: Vec<FragmentMeta>,
    pub after: Vec<Option<FragmentMeta>>,
}

impl Change for Delete {
    fn operation(&self) -> &'static str {
        "delete"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.replace_fragments(&self.before, &self.after)
    }
}
