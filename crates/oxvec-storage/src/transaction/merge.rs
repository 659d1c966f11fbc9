//! Merge (upsert): matched rows are updated or deleted like an update; unmatched source rows
//! are inserted.
//!
//! An insert is only right if no row with its key exists, and the keys were matched against
//! the read version. So when the merge inserts, any fragment in the newest version that the
//! read version did not have (rows appended, updated, merged, compacted or restored since)
//! could hold the same keys, and so could a fragment whose deletions changed: a restore can
//! bring deleted rows back, and the deletion metadata cannot tell a grown set from a restored
//! one. Both are conflicts; the retry matches against those rows. A merge that only updates
//! or deletes rebases like an update.

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
            let read: std::collections::HashMap<u32, &FragmentMeta> =
                self.read_fragments.iter().map(|f| (f.id, f)).collect();
            for f in &draft.body.fragments {
                let why = match read.get(&f.id) {
                    None => "was added by another commit",
                    Some(r) if r.deletion != f.deletion => {
                        "changed its deleted rows in another commit (a restore brings rows back)"
                    }
                    Some(_) => continue,
                };
                return Err(draft.conflict(format!(
                    "fragment {} {why} and may hold keys this merge would insert again; retry to match against it",
                    f.id
                )));
            }
        }
        draft.replace_fragments(&self.before, &self.after)?;
        draft.add_fragments(&self.added);
        Ok(())
    }
}
