//! Overwrite: a new schema and new fragments replace everything; indexes are dropped.
//!
//! Never conflicts: it does not depend on what was there (last writer wins).

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use arrow::datatypes::SchemaRef;
use oxvec_core::Result;

/// Replaces the table's contents with `fragments` (ids assigned at commit) and `schema`.
#[derive(Debug, Clone)]
pub struct Overwrite {
    pub schema: SchemaRef,
    pub fragments: Vec<FragmentMeta>,
}

impl Change for Overwrite {
    fn operation(&self) -> &'static str {
        "overwrite"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.schema = self.schema.clone();
        draft.body.fragments.clear();
        draft.body.indices.clear();
        draft.add_fragments(&self.fragments);
        Ok(())
    }
}
