//! Restore: an older version's schema, fragments and indexes become the newest version.
//!
//! Never conflicts (last writer wins). The fragments keep their ids, so the next fragment id
//! never goes backwards.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use crate::manifest::{IndexMeta, Manifest};
use arrow::datatypes::SchemaRef;
use oxvec_core::Result;

/// The contents of version `version`, to be published again.
#[derive(Debug, Clone)]
pub struct Restore {
    pub version: u64,
    pub schema: SchemaRef,
    pub fragments: Vec<FragmentMeta>,
    pub indices: Vec<IndexMeta>,
}

impl Restore {
    /// Restores the contents of `m`.
    pub fn of(m: &Manifest) -> Restore {
        Restore {
            version: m.version,
            schema: m.schema.clone(),
            fragments: m.body.fragments.clone(),
            indices: m.body.indices.clone(),
        }
    }
}

impl Change for Restore {
    fn operation(&self) -> &'static str {
        "restore"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.schema = self.schema.clone();
        draft.body.indices = self.indices.clone();
        draft.body.fragments = self.fragments.clone();
        let past_kept = self.fragments.iter().map(|f| f.id + 1).max().unwrap_or(0);
        draft.body.next_fragment_id = draft.body.next_fragment_id.max(past_kept);
        Ok(())
    }
}
