//! Column changes that rewrite data: columns computed from others, and type changes.
//!
//! Every fragment is written anew with the new schema, keeping its id and every physical
//! row in place (deleted ones too), so row ids, deletion vectors and the indexes of
//! unchanged columns stay valid. The change was computed from the rows as read: a fragment
//! added, rewritten or removed since conflicts (a retry computes again); deletions made
//! since carry over to the new files, whose row offsets are the old ones.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use crate::manifest::IndexMeta;
use arrow::datatypes::SchemaRef;
use oxvec_core::Result;

/// Replaces each fragment of `before` by the file of the same rows in `after`, the schema
/// `read_schema` by `schema` and the indexes as read by `indices`.
#[derive(Debug, Clone)]
pub struct RewriteColumns {
    pub read_schema: SchemaRef,
    pub schema: SchemaRef,
    pub before: Vec<FragmentMeta>,
    pub after: Vec<FragmentMeta>,
    pub read_indices: Vec<IndexMeta>,
    pub indices: Vec<IndexMeta>,
}

impl Change for RewriteColumns {
    fn operation(&self) -> &'static str {
        "rewrite_columns"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.refuse_schema_or_index_change(&self.read_schema, &self.read_indices)?;
        draft.refuse_unseen_rows(&self.before, "without the new column values", None)?;
        if draft.body.fragments.len() != self.before.len() {
            return Err(draft.conflict("fragments were removed since the change was planned"));
        }
        for (b, a) in self.before.iter().zip(&self.after) {
            let Some(f) = draft
                .body
                .fragments
                .iter_mut()
                .find(|f| f.id == b.id && f.file == b.file)
            else {
                return Err(
                    draft.conflict(format!("fragment {} was rewritten by another commit", b.id))
                );
            };
            let deletion = f.deletion.take();
            *f = FragmentMeta {
                id: b.id,
                deletion,
                ..a.clone()
            };
        }
        draft.schema = self.schema.clone();
        draft.body.indices = self.indices.clone();
        Ok(())
    }
}
