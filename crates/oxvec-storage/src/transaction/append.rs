//! Append: new fragments on top of whatever is there.
//!
//! Rebases over anything that kept the schema: new rows never depend on old ones. A schema
//! changed since the rows were validated (an overwrite with other columns) is a conflict.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use arrow::datatypes::SchemaRef;
use oxvec_core::Result;

/// Adds `fragments` (ids are assigned at commit), written for `schema`.
#[derive(Debug, Clone)]
pub struct Append {
    pub fragments: Vec<FragmentMeta>,
    pub schema: SchemaRef,
}

impl Change for Append {
    fn operation(&self) -> &'static str {
        "append"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        if self.schema.fields() != draft.schema.fields() {
            return Err(draft.conflict("the table schema changed since the data was prepared"));
        }
        draft.add_fragments(&self.fragments);
        Ok(())
    }
}
