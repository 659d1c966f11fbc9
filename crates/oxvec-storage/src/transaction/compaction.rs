//! Compaction (`optimize`): fragments are rewritten without their deleted rows, and the
//! indexes are folded and remapped onto the moved rows, in one version.
//!
//! The new fragments' ids were fixed before commit (`first_id`, the read version's next id)
//! because the remapped indexes already name them. So any fragment id handed out since
//! (an append, update or merge) is a conflict, as is any change to a removed fragment, or
//! an index covering a removed fragment that this compaction did not remap.

use super::{Change, Draft, IndexChange};
use crate::fragment::FragmentMeta;
use oxvec_core::Result;

/// Replaces `removed` (as read) by `added` (ids from `first_id` on) and applies `indices`.
#[derive(Debug, Clone)]
pub struct Compaction {
    pub removed: Vec<FragmentMeta>,
    pub added: Vec<FragmentMeta>,
    pub first_id: u32,
    pub indices: Vec<IndexChange>,
}

impl Change for Compaction {
    fn operation(&self) -> &'static str {
        "optimize"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        if draft.body.next_fragment_id != self.first_id {
            return Err(draft.conflict("other fragments were added since compaction read"));
        }
        let mut at = None;
        for r in &self.removed {
            match draft.body.fragments.iter().position(|f| f == r) {
                Some(i) => {
                    at.get_or_insert(i);
                    draft.body.fragments.remove(i);
                }
                None => {
                    return Err(
                        draft.conflict(format!("fragment {} was changed by another commit", r.id))
                    )
                }
            }
        }
        let removed: std::collections::HashSet<u32> = self.removed.iter().map(|f| f.id).collect();
        if let Some(stale) = draft.body.indices.iter().find(|i| {
            !self.indices.iter().any(|c| c.name == i.name)
                && i.fragment_ids.iter().any(|id| removed.contains(id))
        }) {
            return Err(draft.conflict(format!(
                "index '{}' was built by another commit over fragments this compaction moves",
                stale.name
            )));
        }
        let at = at
            .unwrap_or(draft.body.fragments.len())
            .min(draft.body.fragments.len());
        draft
            .body
            .fragments
            .splice(at..at, self.added.iter().cloned());
        draft.body.next_fragment_id = self.first_id + self.added.len() as u32;
        for c in &self.indices {
            c.apply(draft)?;
        }
        Ok(())
    }
}
